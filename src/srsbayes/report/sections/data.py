"""The data behind the fits (part of Methods): the study table, the conversion rule,
and per outcome what each study reported and what the model used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...families import get_family
from ...inputs.contrasts import DEFAULT_LEVEL
from ..document import Block, H, Inline, P, S, Table
from ..wording import given, num

if TYPE_CHECKING:
    from ...analysis.data import CountRow
    from ...families.base import TableColumn
    from ..model import OutcomeReport, Report

_CONTRAST_HEAD = ["Study", "Measure", "Estimate", "CI", "SE", "p", "n", "SE used (analysis "
                  "scale)", "Rule", "Line"]


def _studies_table(report: Report) -> Table:
    covs = report.table.covariates
    t, c = report.the_question.treatment, report.the_question.control
    head = ["Study", "Outcomes", f"n {t.word}", f"n {c.word}", "Follow-up (months)", "Design",
            "Risk of bias", "Source", *covs]
    rows = []
    for st in report.studies:
        rows.append([st["study"], ", ".join(st["outcomes"]),
                     "/".join(str(v) for v in st["n_preop"]),
                     "/".join(str(v) for v in st["n_postop"]),
                     "/".join(f"{v:g}" for v in st["follow_up"]) or "not reported",
                     "; ".join(st.get("design", [])) or "not reported",
                     "; ".join(st.get("rob", [])) or "not assessed",
                     "; ".join(st["sources"]),
                     *["; ".join(st["covariates"].get(c, [])) for c in covs]])
    return Table(head, rows, cls="compact")


def _cell(r: CountRow, c: TableColumn) -> Inline:
    """One of a family's arm-table columns (:attr:`srsbayes.families.base.Family.ARM_TABLE`)."""
    if len(c.keys) == 2:  # an interval, "lo to hi"
        lo, hi = (r.get(k) for k in c.keys)
        return f"{num(lo)} to {num(hi)}" if given(lo) else "—"
    value = r.get(c.keys[0])
    return str(value or "") if c.text else num(value)


def _arm_table(family: str, arms: list[CountRow], caption: str) -> Table:
    """Each arm row with the columns its family shows (after study, arm and n)."""
    cols = get_family(family).ARM_TABLE
    head = ["Study", "Arm", "n", *(c.head for c in cols), "Line"]
    rows = [[str(r["study"]), r["arm"], num(r["n"]), *(_cell(r, c) for c in cols),
             num(r["row"])] for r in arms]
    return Table(head, rows, cls="compact", caption=caption)


def _contrast_row(r: CountRow) -> list[Inline]:
    lo, hi, level = r.get("ci_low"), r.get("ci_high"), r.get("ci_level")
    level = level if given(level) else DEFAULT_LEVEL
    ci = f"{num(lo)} to {num(hi)} ({num(level)}%)" if given(lo) else "—"
    se = r.get("contrast_se")
    return [str(r["study"]), str(r.get("measure") or ""), num(r.get("estimate")), ci,
            num(r.get("se")), num(r.get("p_value")), num(r["n"]),
            f"{se:.4g}" if given(se) else "—", str(r.get("contrast_rule") or ""),
            num(r["row"])]


def is_contrast_row(r: CountRow) -> bool:
    """A published contrast (arm empty, a measure given) rather than one arm's data."""
    return not r.get("arm") and given(r.get("measure"))


def outcome_data_tables(o: OutcomeReport) -> list[Table]:
    """What each study reported for the outcome and what the model used: event counts
    (count-data families) or medians with their follow-up and intervals, and published
    contrasts (estimate, interval, SE or p) with the standard error each gave the model."""
    arms = [r for r in o.count_table if not is_contrast_row(r)]
    contrasts = [r for r in o.count_table if is_contrast_row(r)]
    tables = []
    if arms:
        tables.append(_arm_table(o.spec.family, arms, o.spec.label))
    if contrasts:
        tables.append(Table(_CONTRAST_HEAD, [_contrast_row(r) for r in contrasts],
                            cls="compact", caption=f"{o.spec.label}: published contrasts"))
    return tables


CONTRAST_SE_RULE = (
    "Published contrasts: each estimate is analysed on its analysis scale (the log of a "
    "ratio; a risk or mean difference as it is) with a standard error from the reported "
    "SE, else from the confidence interval (its width on the analysis scale over 2 z), else "
    "from a two-sided p-value as |estimate| / z_p (Altman & Bland 2011, BMJ 343:d2090); the "
    "table gives the rule each row used.")


def data_methods(report: Report) -> list[Block]:
    """The Data subsection of Methods."""
    t = report.table
    blocks: list[Block] = [
        H(3, "Data", "methods-data"),
        P(["Study table ", S(t.path, "code"), ", sha256 ", S(t.sha256, "code"), "."]),
        _studies_table(report),
        P("Conversion rule: when a study reports only a percentage, the event count is the "
          "whole number whose percentage of n is nearest to it, halves rounded up "
          "(events = round_half_up(percent × n / 100)). The binomial models see these counts; "
          "the evidence audit lists the percentages no whole count reproduces."),
    ]
    if any(is_contrast_row(r) for o in report.outcomes for r in o.count_table):
        blocks.append(P(CONTRAST_SE_RULE))
    for o in report.outcomes:
        if not o.count_table:
            continue
        blocks += outcome_data_tables(o)
        se = None if o.summary is None else o.summary.family_number("se_rules")
        # a contrast row's SE and rule are in its table already
        if se and not any(is_contrast_row(r) for r in o.count_table):
            blocks.append(se_rules_table(o.spec.label, se))
    return blocks


def se_rules_table(label: str, rules: Any) -> Block:
    """The standard error each median got, and by which rule (see the model above)."""
    if not (isinstance(rules, list) and rules and all(isinstance(r, dict) for r in rules)):
        return generic(rules)
    rows = []
    for r in rules:
        se = r.get("se")
        rows.append([str(r.get("study", "")), str(r.get("arm", "")),
                     f"{r.get('rule', '')} ({r.get('rule_name', '')})",
                     str(r.get("detail", "")),
                     f"{se:.3f}" if isinstance(se, int | float) else "—",
                     "yes" if r.get("inflated") else "no"])
    return Table(["Study", "Arm", "Rule", "How", "SE of log median", "Inflated by λ"], rows,
                 cls="compact", caption=f"{label}: standard errors of the log medians")


def generic(obj: Any) -> Block:
    """A table or paragraph for an arbitrary JSON-like value (e.g. ``se_rules``)."""
    if isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        keys = list(dict.fromkeys(k for r in obj for k in r))
        return Table(keys, [[plain(r.get(k, "")) for k in keys] for r in obj],
                     cls="compact")
    if isinstance(obj, dict):
        return Table(["Key", "Value"], [[str(k), plain(v)] for k, v in obj.items()],
                     cls="compact")
    return P(plain(obj))


def plain(v: Any) -> str:
    """A JSON-like value as short text."""
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list | tuple):
        return ", ".join(plain(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {plain(x)}" for k, x in v.items())
    return str(v)
