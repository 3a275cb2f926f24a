"""Report figures: pure functions from a fit's summary (and draws) to PNG bytes.

Every figure is drawn with matplotlib's Agg backend at a modest resolution so that the
self-contained HTML report, which embeds them as ``data:`` URIs, stays light. Colours are
the Okabe-Ito palette (distinguishable with colour-vision deficiency); every encoding is
also carried by marker shape or line style.

References
----------
Lewis S, Clarke M (2001). Forest plots: trying to see the wood and the trees. BMJ
322:1479-1480.

Gabry J, Simpson D, Vehtari A, Betancourt M, Gelman A (2019). Visualization in Bayesian
workflow. J R Stat Soc A 182:389-402 (posterior-predictive checks).

Okabe M, Ito K (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..families import FamilyInfo, get_family, summary_info
from ..inputs.question import Question, asked
from ..values import shorten

if TYPE_CHECKING:
    from ..inference.summaries import FitSummary

DPI = 100
OBSERVED = "#000000"
SHRUNKEN = "#0072B2"  # blue
POOLED = "#D55E00"  # vermillion
PREDICT = "#009E73"  # green
BENEFIT = "#56B4E9"  # sky blue
MEANINGFUL = "#0072B2"
GREY = "#777777"
CLIP = (1e-2, 1e2)
"""Ratios outside this range are drawn at its edge with an arrow (a zero cell can make a
study's empirical interval effectively unbounded)."""


def _family(summary: FitSummary) -> FamilyInfo:
    """The summary's family worded for its measure; its ``log_scale`` says whether the
    effect axis is a log ratio axis (no effect at 1) or a linear difference axis (at 0)."""
    return summary_info(summary)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plain(text: str) -> str:
    """Text from data as literal matplotlib text (a ``$`` would start mathtext)."""
    return str(text).replace("$", r"\$")


def png_bytes(fig) -> bytes:
    """Render ``fig`` to PNG bytes and close it."""
    plt = _pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight",
                    metadata={"Software": None})  # no tool banner: bytes depend on data only
    finally:
        plt.close(fig)
    return buf.getvalue()


def _sides(summary: FitSummary, q: Question) -> tuple[str, str]:
    """Axis captions for effects below and above no effect (a ratio of 1, a difference of 0)."""
    pre, post = f"favours {q.treatment.short}", f"favours {q.control.short}"
    return (pre, post) if summary["benefit"] == "lower" else (post, pre)


def _clip(x: float) -> float:
    return float(min(max(x, CLIP[0]), CLIP[1]))


def _effect_axis(ax, lo: float, hi: float, summary: FitSummary, q: Question) -> None:
    """The effect axis with its line of no effect: log ratio axis (1) or linear (0)."""
    fam = _family(summary)
    if fam.log_scale:
        ax.set_xscale("log")
        lo, hi = max(lo, CLIP[0]), min(hi, CLIP[1])
        span = (hi / lo) ** 0.06
        ax.set_xlim(lo / span, hi * span)
        from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullLocator

        from .sweep import ratio_ticks

        a, b = lo / span, hi * span
        decades = [m * 10.0**k for k in range(-3, 4) for m in (1.0, 2.0, 5.0)]
        if sum(a <= v <= b for v in decades) < 3:  # narrow (HRs near 1): finer ticks
            ax.xaxis.set_major_locator(FixedLocator(ratio_ticks(a, b)))
            ax.xaxis.set_minor_locator(NullLocator())
        else:
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_minor_locator(LogLocator(base=10, subs=()))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        pad = 0.06 * (hi - lo) or 1.0
        ax.set_xlim(lo - pad, hi + pad)
    null = fam.null
    ax.axvline(null, color=GREY, lw=0.8, zorder=0)
    left, right = _sides(summary, q)
    # Direction captions sit inside the top of the panel, either side of the line of no
    # effect, where they cannot collide with tick labels or the axis label.
    trans = ax.get_xaxis_transform()
    ax.text(null, 1.0, f"← {left}  ", transform=trans, ha="right", va="bottom",
            fontsize=8.5, color=GREY)
    ax.text(null, 1.0, f"  {right} →", transform=trans, ha="left", va="bottom",
            fontsize=8.5, color=GREY)


def _scale_note(fam: FamilyInfo) -> str:
    """`` (log scale)`` after the label of a log ratio axis."""
    return " (log scale)" if fam.log_scale else ""


def _interval(ax, y: float, lo: float, mid: float, hi: float, *, color: str, marker: str,
              filled: bool = True, ms: float = 6, label: str | None = None,
              ls: str = "-", clip: bool = True) -> None:
    """One interval with its point; ratios (``clip``) beyond :data:`CLIP` end in an arrow."""
    if not clip:  # a difference on a linear axis: drawn as it is
        ax.plot([lo, hi], [y, y], color=color, lw=1.6, ls=ls, solid_capstyle="butt")
        ax.plot([mid], [y], marker=marker, ms=ms, color=color, mfc=color if filled else "white",
                mew=1.4, ls="none", label=label)
        return
    clo, chi = _clip(lo), _clip(hi)
    ax.plot([clo, chi], [y, y], color=color, lw=1.6, ls=ls, solid_capstyle="butt")
    for edge, raw, sign in ((clo, lo, -1), (chi, hi, 1)):
        if edge != raw:  # clipped: draw an arrow head at the edge
            ax.annotate("", xy=(edge, y), xytext=(edge * (1.25 ** -sign), y),
                        arrowprops={"arrowstyle": "->", "color": color, "lw": 1.2})
    ax.plot([_clip(mid)], [y], marker=marker, ms=ms, color=color,
            mfc=color if filled else "white", mew=1.4, ls="none", label=label)


LABEL_WIDTH = 40
"""Most characters of a study's name in a figure (:func:`srsbayes.values.shorten`)."""
TITLE_WIDTH = 60
"""Most characters of an outcome's label in a figure's title."""


def _title(summary: FitSummary) -> str:
    """The outcome's label for a figure title, cut at :data:`TITLE_WIDTH` characters."""
    return shorten(plain(summary["label"]), TITLE_WIDTH)


def study_label(row: dict[str, Any]) -> str:
    """A forest-plot row label: the study, with its design and risk of bias when recorded
    (e.g. "Study A (retrospective; RoB serious)")."""
    extra = [row["design"]] if row.get("design") else []
    if row.get("rob"):
        extra.append(f"RoB {row['rob']}")
    # a long name is cut in the figure (a 10,000-character name drew a 104,539-pixel-wide
    # plot); the tables keep it whole
    return shorten(plain(row["study"]), LABEL_WIDTH) + (f" ({'; '.join(extra)})" if extra else "")


def forest_plot(summary: FitSummary, question: Question | None = None) -> bytes:
    """:func:`forest_figure` as PNG bytes."""
    return png_bytes(forest_figure(summary, question))


def forest_figure(summary: FitSummary, question: Question | None = None):
    """Forest plot of one outcome (a matplotlib Figure; :func:`png_bytes` closes it).

    Each study shows its observed (empirical) effect with a 95% interval (open square) and
    its shrunken random-effects estimate with a 95% credible interval (filled circle);
    below them the pooled effect (diamond) and the 95% prediction interval for a new
    study (dashed). Ratios are drawn on a log axis, differences on a linear one
    (:attr:`srsbayes.families.FamilyInfo.log_scale`).

    Parameters
    ----------
    summary
        A fit's ``summary.json`` dict (``study_effects`` observed values are on the
        analysis scale, e.g. log OR; ``shrunken``, ``effect`` and ``prediction`` on the
        shown scale: the ratio, or the difference itself).
    """
    plt = _pyplot()
    fam = _family(summary)
    log = fam.log_scale
    rows = summary["study_effects"]
    k = len(rows)
    fig, ax = plt.subplots(figsize=(7.2, 0.55 * (k + 3) + 1.0))
    ys = np.arange(k, 0, -1) + 2.0
    values: list[float] = []
    for y, r in zip(ys, rows, strict=True):
        obs = r["observed"]
        o = [float(fam.shown(v)) for v in (obs["ci95"][0], obs["estimate"], obs["ci95"][1])]
        sh = r["shrunken"]
        s = [sh["ci95"][0], sh["median"], sh["ci95"][1]]
        _interval(ax, y + 0.15, *o, color=OBSERVED, marker="s", filled=False,
                  label="Observed (95% CI)" if y == ys[0] else None, clip=log)
        _interval(ax, y - 0.15, *s, color=SHRUNKEN, marker="o",
                  label="Shrunken estimate (95% CrI)" if y == ys[0] else None, clip=log)
        values += o + s
    e, p = summary["effect"], summary["prediction"]
    lo, mid, hi = e["ci95"][0], e["median"], e["ci95"][1]
    edge = _clip if log else float
    ax.fill([edge(lo), edge(mid), edge(hi), edge(mid)], [1.5, 1.8, 1.5, 1.2],
            color=POOLED, label="Pooled effect (95% CrI)", zorder=3)
    _interval(ax, 0.8, p["ci95"][0], p["median"], p["ci95"][1], color=PREDICT, marker="|",
              ms=10, ls="--", label="New-study prediction (95%)", clip=log)
    values += [lo, hi, *p["ci95"]]
    ax.set_yticks([*ys, 1.5, 0.8])
    ax.set_yticklabels([study_label(r) for r in rows] + ["Pooled", "New study"])
    ax.set_ylim(0.3, ys[0] + 0.7)
    finite = [v for v in values if np.isfinite(v) and (v > 0 or not log)]
    near = (0.9, 1.1) if log else (0.0, 0.0)  # keep the line of no effect in view
    q = asked(question)
    _effect_axis(ax, min([*finite, near[0]]), max([*finite, near[1]]), summary, q)
    ax.set_xlabel(f"{fam.axis_label}, {q.treatment.word} vs {q.control.word}"
                  f"{_scale_note(fam)}")
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8.5,
              frameon=False)
    fig.suptitle(f"{_title(summary)}: study estimates and pooled effect", fontsize=11,
                 x=0.01, ha="left")
    fig.tight_layout()
    return fig


def _density(ax, draws: np.ndarray, *, log: bool):
    """Kernel density of ``draws`` on a grid (log-scale draws are smoothed on the log scale)."""
    from scipy.stats import gaussian_kde

    x = np.log(draws) if log else np.asarray(draws, dtype=float)
    lo, hi = np.quantile(x, [0.001, 0.999])
    pad = 0.15 * (hi - lo)
    grid = np.linspace(lo - pad, hi + pad, 400)
    dens = gaussian_kde(x)(grid)
    return (np.exp(grid) if log else grid), dens


def _effect_thresholds(summary: FitSummary, fam: FamilyInfo
                       ) -> list[tuple[float, str, dict[str, Any]]]:
    """Thresholds drawn on the effect panel: (boundary on the shown scale, legend, entry).

    A ratio threshold is a ratio (OR 0.8). A difference shown on its own scale carries the
    family's absolute threshold too: a benefit of ``thr`` is the difference ``-thr`` when
    fewer events are better, ``+thr`` when more are.
    """
    lower = summary["benefit"] == "lower"
    out = []
    for t in summary.get("thresholds", []):
        m, thr = t["measure"], t["threshold"]
        if m not in fam.thresholds:
            continue
        if m != fam.absolute_measure and fam.log_scale:
            out.append((thr, f"{fam.measure_abbrev} beyond {thr:g}", t))
        elif m == fam.absolute_measure and not fam.log_scale:
            out.append((-thr if lower else thr, f"benefit ≥ {thr:g}", t))
    return out


def effect_plot(summary: FitSummary, effect_draws: np.ndarray,
                absolute_draws: np.ndarray | None = None,
                absolute_threshold: dict[str, Any] | None = None,
                absolute_label: str = "", question: Question | None = None) -> bytes:
    """:func:`effect_figure` as PNG bytes."""
    return png_bytes(effect_figure(summary, effect_draws, absolute_draws, absolute_threshold,
                                   absolute_label, question))


def effect_figure(summary: FitSummary, effect_draws: np.ndarray,
                  absolute_draws: np.ndarray | None = None,
                  absolute_threshold: dict[str, Any] | None = None,
                  absolute_label: str = "", question: Question | None = None):
    """Posterior of the pooled effect with the benefit region shaded (a matplotlib Figure;
    :func:`png_bytes` closes it).

    Left panel: the pooled effect, a ratio (odds ratio, hazard ratio, ratio of medians)
    on a log axis or a difference on a linear one, the region where the treatment arm is
    better shaded and labelled with its probability. Right panel (optional): the absolute
    benefit of the treatment arm (percentage points or months, positive = benefit), the clinically
    meaningful region shaded.

    Parameters
    ----------
    summary
        The fit's summary (for direction, labels and thresholds).
    effect_draws
        Posterior draws of the pooled effect on the shown scale: the ratio ``exp(theta)``,
        or the difference ``theta`` (:meth:`srsbayes.families.FamilyInfo.shown`).
    absolute_draws
        Draws of the signed absolute benefit, or ``None`` for one panel.
    absolute_threshold
        The summary's threshold entry on the absolute scale (``threshold`` and its
        ``probability``), or ``None``. Probabilities in the legends are the summary's, so
        that the figure and the tables show the same numbers.
    absolute_label
        x-axis label of the absolute panel.
    question
        The review question whose arms' wording the labels use (default: the bundled one).
    """
    plt = _pyplot()
    two = absolute_draws is not None
    fig, axes = plt.subplots(1, 2 if two else 1, figsize=(9.6 if two else 5.4, 3.3))
    axes = np.atleast_1d(axes)
    ax = axes[0]
    fam = _family(summary)
    q = asked(question)
    r = np.asarray(effect_draws, dtype=float).ravel()
    x, d = _density(ax, r, log=fam.log_scale)
    # A ratio's density is that of log(ratio), drawn against the ratio on a log axis:
    # areas read as probabilities on either axis.
    ax.plot(x, d, color="#333333", lw=1.4)
    lower = summary["benefit"] == "lower"
    better = x < fam.null if lower else x > fam.null
    ax.fill_between(x, 0, d, where=better, color=BENEFIT, alpha=0.6, lw=0,
                    label=f"{q.treatment.word} better: P = {_p(summary['prob_benefit'])}")
    for thr, what, t in _effect_thresholds(summary, fam):
        strong = x <= thr if lower else x >= thr
        ax.fill_between(x, 0, d, where=strong, color=MEANINGFUL, alpha=0.55, lw=0,
                        hatch="//", label=f"{what}: P = {_p(t['probability'])}")
    ax.axvline(summary["effect"]["median"], color=POOLED, lw=1.2, ls="--",
               label=f"median {summary['effect']['median']:.2f}")
    _effect_axis(ax, float(x.min()), float(x.max()), summary, q)
    ax.set_xlabel(f"Pooled {fam.axis_label[:1].lower() + fam.axis_label[1:]}"
                  f"{_scale_note(fam)}")
    ax.set_yticks([])
    ax.set_ylabel("Posterior density")
    ax.legend(fontsize=8, frameon=False, loc="best")
    _despine(ax)
    if two:
        ax2 = axes[1]
        a = np.asarray(absolute_draws, dtype=float).ravel()
        x2, d2 = _density(ax2, a, log=False)
        ax2.plot(x2, d2, color="#333333", lw=1.4)
        # The absolute benefit has the sign of the ratio's benefit, so P(any benefit) is
        # the summary's P(benefit).
        ax2.fill_between(x2, 0, d2, where=x2 > 0, color=BENEFIT, alpha=0.6, lw=0,
                         label=f"any benefit: P = {_p(summary['prob_benefit'])}")
        if absolute_threshold is not None:
            thr = absolute_threshold["threshold"]
            ax2.fill_between(x2, 0, d2, where=x2 >= thr, color=MEANINGFUL,
                             alpha=0.55, lw=0, hatch="//",
                             label=f"≥ {thr:g}: P = {_p(absolute_threshold['probability'])}")
            ax2.axvline(thr, color=MEANINGFUL, lw=1.0, ls=":")
        ax2.axvline(0.0, color=GREY, lw=0.8)
        ax2.set_xlabel(absolute_label)
        ax2.set_yticks([])
        trans = ax2.get_xaxis_transform()
        ax2.text(0.0, 1.0, "← harm  ", transform=trans, ha="right", va="bottom",
                 fontsize=8.5, color=GREY)
        ax2.text(0.0, 1.0, f"  benefit of {q.treatment.word} →", transform=trans, ha="left",
                 va="bottom", fontsize=8.5, color=GREY)
        ax2.legend(fontsize=8, frameon=False, loc="best")
        _despine(ax2)
    fig.suptitle(f"{_title(summary)}: posterior of the pooled effect", fontsize=11,
                 x=0.01, ha="left")
    fig.tight_layout()
    return fig


def _p(p: float) -> str:
    from ..draws import pct

    return pct(p)


def _despine(ax) -> None:
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def ppc_plot(summary: FitSummary, idata, question: Question | None = None
             ) -> bytes | None:
    """Posterior-predictive check: each observed value against its replicated 50% and 95%
    intervals, per study and observed variable (arm).

    Each family says how its observed values are shown
    (:meth:`srsbayes.families.base.Family.ppc_panel`): counts as percentages of the arm
    size, so studies of different size share an axis; log medians in months.

    Returns ``None`` when the tree has no posterior-predictive group.
    """
    if "posterior_predictive" not in idata.children or "observed_data" not in idata.children:
        return None
    plt = _pyplot()
    obs = idata["observed_data"].to_dataset()
    rep = idata["posterior_predictive"].to_dataset()
    const = (idata["constant_data"].to_dataset() if "constant_data" in idata.children
             else None)
    names = [n for n in obs.data_vars if n in rep.data_vars]
    studies = [shorten(plain(s), LABEL_WIDTH) for s in summary["studies"]]
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names) + 0.8, 0.5 *
                                                      len(studies) + 1.6), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        panel = get_family(summary["family"]).ppc_panel(name, const, len(studies),
                                                        _family(summary))
        scale, unit = panel.scale, panel.unit
        y = np.asarray(obs[name].values, dtype=float)
        r = rep[name].stack(sample=("chain", "draw")).transpose("study", "sample").values
        r = np.asarray(r, dtype=float)
        if panel.exponentiate:  # e.g. log medians are read in months
            y, r = np.exp(y), np.exp(r)
        y, r = y * scale, r * scale[:, None]
        q = np.quantile(r, [0.025, 0.25, 0.5, 0.75, 0.975], axis=1)
        pos = np.arange(len(studies))[::-1]
        ax.hlines(pos, q[0], q[4], color=SHRUNKEN, lw=1.5, alpha=0.6,
                  label="replicated 95%")
        ax.hlines(pos, q[1], q[3], color=SHRUNKEN, lw=5, alpha=0.8, label="replicated 50%")
        ax.plot(y, pos, "D", color=POOLED, ms=6, label="observed", mec="white", mew=0.6)
        ax.set_yticks(pos)
        ax.set_yticklabels(studies if ax is axes[0][0] else [])
        word = asked(question).arm(panel.arm).word if panel.arm else ""
        ax.set_title(f"{word[:1].upper() + word[1:]} arm: {panel.title}" if panel.arm
                     else panel.title, fontsize=10)
        ax.set_xlabel(unit)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
        ax.set_axisbelow(True)
        ax.set_ylim(-0.7, len(studies) - 0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    axes[0][-1].legend(fontsize=8, frameon=False, loc="upper left",
                       bbox_to_anchor=(1.0, 1.0))
    fig.suptitle(f"{_title(summary)}: posterior-predictive check", fontsize=11, x=0.01,
                 ha="left")
    fig.tight_layout()
    return png_bytes(fig)


def label_list(items: Sequence[str]) -> str:
    """``a, b and c`` (for alt texts)."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
