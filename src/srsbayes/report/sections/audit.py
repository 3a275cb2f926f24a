"""The evidence audit: an overview per check, the problems found, the paper's numbers
and claims against the posterior, and the informational findings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...audit import CHECKS
from ..document import Block, H, P, S, Section, Table
from .paper import paper_comparison

if TYPE_CHECKING:
    from ...audit import Finding
    from ..model import Report

SHORT_CHECK = {
    "grim": "{n} percentages that no whole count of patients reproduces",
    "events": "impossible event counts",
    "arms": "missing arms",
    "poolable": "outcomes with a single study",
    "identification": "studies that cannot be identified",
    "follow_up": "follow-up that differs between studies or is missing",
    "homogeneity": "studies that agree more closely than chance allows ({n} outcomes)",
    "pooled_mean": "'pooled' values that are plain means",
    "pooled_weighted": "pooled values",
    "pooled_n": "pooled sizes",
    "pooled_follow_up": "a pooled follow-up that is no summary of the studies' (e.g. the "
                        "midrange of the shortest and longest)",
    "claim": "claims without supporting statistics",
    "reporting": "methods claimed but not reported",
    "references": "an off-topic reference list",
    "contrast_ci_asymmetry": "confidence intervals asymmetric on the log scale",
    "contrast_p_ci": "p-values that disagree with their confidence intervals",
}
"""Plain names of the audit's checks for the bottom line (``{n}``: number of findings)."""


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Number of findings per severity (``error``, ``warning``, ``info`` always present)."""
    out = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        out[f.severity] = out.get(f.severity, 0) + 1
    return out


def checks_with_problems(findings: Iterable[Finding]) -> str:
    """The checks with warnings or errors, in plain words, for the bottom line."""
    counts: dict[str, int] = {}
    for f in findings:
        # GRIM's overall line repeats the per-row warnings it summarises
        if f.severity in ("warning", "error") and not (f.check == "grim" and f.study is None):
            counts[f.check] = counts.get(f.check, 0) + 1
    return ", ".join(SHORT_CHECK.get(c, c).format(n=n) for c, n in counts.items())


def _overview(findings: list[Finding]) -> Table:
    rows = []
    for check, title in CHECKS.items():
        group = [x for x in findings if x.check == check]
        if not group:
            continue
        c = severity_counts(group)
        badge = (S(f"{c['error']} error(s)", "fail") if c["error"] else
                 S(f"{c['warning']} warning(s)", "warn") if c["warning"] else S("ok", "pass"))
        rows.append([S(check, "code"), title, badge, str(c["info"])])
    return Table(["Check", "What it tests", "Problems", "Info"], rows, cls="compact")


def findings_table(findings: Iterable[Finding]) -> Table:
    """One row per finding: severity, check, what it is about, file line, detail."""
    rows = []
    for x in findings:
        where = " ".join(v for v in (x.study, x.outcome, x.arm) if v) or "—"
        line = f"{x.file.rsplit('/', 1)[-1]}:{x.row}" if x.row is not None and x.file else "—"
        rows.append([S(x.severity, "fail" if x.severity == "error" else
                       "warn" if x.severity == "warning" else "na"),
                     S(x.check, "code"), where, line, x.detail])
    return Table(["Severity", "Check", "About", "Line", "Detail"], rows, cls="findings")


def audit_section(report: Report) -> list[Block]:
    """The evidence-audit section."""
    f = report.findings
    sev = severity_counts(f)
    blocks: list[Any] = [
        H(2, "Evidence audit", "audit"),
        P(f"{len(f)} findings: {sev['error']} error(s), {sev['warning']} warning(s), "
          f"{sev['info']} informational. Warnings are problems for inference; errors are "
          "impossible data. (Rerun with `python -m srsbayes audit`.)"),
        _overview(f),
    ]
    problems = [x for x in f if x.severity in ("error", "warning")]
    if problems:
        blocks += [H(3, "Problems found", "audit-problems"), findings_table(problems)]
    blocks += paper_comparison(report)
    info = [x for x in f if x.severity == "info"]
    if info:
        blocks += [H(3, "Informational findings", "audit-info"), findings_table(info)]
    return [Section("sec-audit", blocks)]
