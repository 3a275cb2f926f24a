"""The sweep figure: P(benefit) and the pooled effect in every setting, side by side.

One line per setting (prior grid, then leave-one-out and rounding rows). Left panel:
P(benefit) with the decision threshold as a vertical line; settings that reach it are
filled, those that do not are open. Right panel: pooled effect (a ratio on a log axis, or
a difference on a linear one) with its 95% credible interval and the line of no effect.
Settings that failed the convergence gate show no numbers, only "not assessable". Colours
are Okabe-Ito and every colour is doubled by a marker shape.

References
----------
Okabe M, Ito K (2008). Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping

import pandas as pd

from ..families import measure_info
from ..inputs.question import Question, asked
from ..inputs.specs import OutcomeSpec
from ..values import shorten

KIND_STYLE = {
    "prior": ("#0072B2", "o", "prior setting"),
    "leave-one-out": ("#D55E00", "s", "leave one study out"),
    "rounding": ("#009E73", "D", "nearest counts instead of count sets"),
    "rate type": ("#CC79A7", "^", "rates read as Kaplan-Meier"),
    "coding": ("#E69F00", "v", "0/1 arm coding"),
    "bias": ("#56B4E9", "P", "bias-adjusted"),
}
GREY = "#777777"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def sweep_figure(rows: pd.DataFrame, spec: OutcomeSpec, verdict: Mapping[str, object], *,
                 reference: str | None = None, question: Question | None = None):
    """Build the two-panel figure (a matplotlib Figure; the caller closes it).

    Parameters
    ----------
    rows
        The sweep table (:attr:`srsbayes.sensitivity.sweep.SweepResult.rows`).
    spec
        The outcome's spec (decision probability, benefit direction, family).
    verdict
        :func:`srsbayes.sensitivity.verdict.verdict` of ``rows``; its first sentence is the title.
    reference
        Label of the default setting, drawn in bold.
    question
        The review question whose arms' wording the labels use (default: the bundled one).
    """
    plt = _pyplot()
    n = len(rows)
    height = 1.6 + 0.24 * n
    fig, (ax_p, ax_e) = plt.subplots(1, 2, figsize=(11, height), sharey=True,
                                     gridspec_kw={"width_ratios": [1, 1.25], "wspace": 0.06})
    ys = list(range(n))[::-1]
    dp = spec.decision_probability
    fam = measure_info(spec.family, spec.measure)
    axis, log, null = fam.axis_label, fam.log_scale, fam.null
    effects = rows.loc[rows["ok"].astype(bool), ["effect_lo", "effect_hi"]]
    lo = float(effects.min().min()) if len(effects) else null - (0.5 if log else 1.0)
    hi = float(effects.max().max()) if len(effects) else null + 1.0
    lo, hi = (min(lo, 0.9), max(hi, 1.1)) if log else (min(lo, null), max(hi, null))
    middle = math.sqrt(lo * hi) if log else (lo + hi) / 2
    pmin = float(rows.loc[rows["ok"].astype(bool), "prob_benefit"].min()) if len(effects) \
        else 0.5
    p_left = min(0.5, math.floor(pmin * 20) / 20)
    for y, r in zip(ys, rows.itertuples(), strict=True):
        color, marker, _ = KIND_STYLE.get(r.kind, KIND_STYLE["prior"])
        if not r.ok:
            for ax, x in ((ax_p, p_left + 0.01), (ax_e, middle)):
                ax.text(x, y, "not assessable (failed convergence gate)", va="center",
                        ha="left" if ax is ax_p else "center", fontsize=7.5, color=GREY,
                        style="italic")
            continue
        meets = r.prob_benefit >= dp
        ax_p.plot([r.prob_benefit], [y], marker=marker, ms=6, color=color,
                  mfc=color if meets else "white", mew=1.4, ls="none")
        ax_e.plot([r.effect_lo, r.effect_hi], [y, y], color=color, lw=1.6)
        ax_e.plot([r.effect_median], [y], marker=marker, ms=6, color=color, ls="none")
    ax_p.axvline(dp, color="#000000", lw=1.0, ls="--")
    ax_p.text(dp, 1.0, f"decision {dp:g}", transform=ax_p.get_xaxis_transform(),
              ha="right", va="bottom", fontsize=8)
    ax_p.set_xlim(p_left, 1.0 + (1.0 - p_left) * 0.03)
    t, c = asked(question).treatment, asked(question).control
    ax_p.set_xlabel(f"P(benefit of {t.short})")
    _effect_axis(ax_e, lo, hi, log, null)
    # "Odds ratio" -> "pooled odds ratio"; acronyms such as "OS" keep their case
    ax_e.set_xlabel(f"pooled {axis[:1].lower() + axis[1:]}, median and 95% CrI"
                    + (" (log scale)" if log else ""))
    left, right = (f"favours {t.word}", f"favours {c.word}") if spec.benefit == "lower" else (
        f"favours {c.word}", f"favours {t.word}")
    # Direction captions at the panel's top corners: the line of no effect may sit at
    # either edge, where captions centred on it would leave the figure.
    ax_e.text(0.01, 1.0, f"← {left}", transform=ax_e.transAxes, ha="left", va="bottom",
              fontsize=8, color=GREY)
    ax_e.text(0.99, 1.0, f"{right} →", transform=ax_e.transAxes, ha="right", va="bottom",
              fontsize=8, color=GREY)
    ax_p.set_yticks(ys)
    # a setting named after a long study name is cut in the figure, kept whole in sweep.csv
    ax_p.set_yticklabels([shorten(str(x), 60) for x in rows["setting"]], fontsize=8)
    if reference is not None:
        for tick, label in zip(ax_p.get_yticklabels(), rows["setting"], strict=True):
            if label == reference:
                tick.set_fontweight("bold")
    ax_p.set_ylim(-0.7, n - 0.3)
    # Separate prior rows from data-level rows.
    kinds = list(rows["kind"])
    for i in range(1, n):
        if kinds[i] != kinds[i - 1]:
            for ax in (ax_p, ax_e):
                ax.axhline(ys[i] + 0.5, color=GREY, lw=0.5, ls=":")
    for ax in (ax_p, ax_e):
        ax.grid(axis="x", color="#dddddd", lw=0.5)
        ax.set_axisbelow(True)
    handles = [plt.Line2D([], [], color=c, marker=m, ls="none", label=lab)
               for kind, (c, m, lab) in KIND_STYLE.items() if kind in set(kinds)]
    handles.append(plt.Line2D([], [], color=GREY, marker="o", mfc="white", ls="none",
                              label=f"open: P(benefit) < {dp:g}"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8,
               frameon=False, bbox_to_anchor=(0.55, 0.0))
    headline = str(verdict.get("text", "")).split(":")[0]
    rule = str(verdict.get("rule", "")).replace(">=", "≥")
    fig.suptitle(f"{shorten(spec.label, 60)}: is {rule} robust? {headline}", fontsize=10.5,
                 y=1.0 - 0.2 / height, x=0.55)
    fig.subplots_adjust(top=1.0 - 0.75 / height, bottom=1.0 / height)
    return fig


def _effect_axis(ax, lo: float, hi: float, log: bool, null: float) -> None:
    """Limits, ticks and the line of no effect: a log ratio axis, or a linear one."""
    if log:
        ax.set_xscale("log")
        span = (hi / lo) ** 0.05
        ax.set_xlim(lo / span, hi * span)
        from matplotlib.ticker import FuncFormatter, NullLocator

        ax.set_xticks(ratio_ticks(lo / span, hi * span))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        pad = 0.05 * (hi - lo) or 1.0
        ax.set_xlim(lo - pad, hi + pad)
    ax.axvline(null, color=GREY, lw=0.8, zorder=0)


_COARSE = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0, 20.0,
           50.0, 100.0)
_FINE = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)


def ratio_ticks(lo: float, hi: float) -> list[float]:
    """Readable ticks for a log ratio axis from ``lo`` to ``hi``: at least three where the
    range allows (finer steps near 1 for narrow ranges, e.g. ratios of medians)."""
    ticks = [t for t in _COARSE if lo <= t <= hi]
    if len(ticks) < 4:
        ticks = sorted(set(ticks) | {t for t in _FINE if lo <= t <= hi})
    return ticks


def figure_png(fig, dpi: int = 150) -> bytes:
    """Render ``fig`` to PNG bytes (no software banner, so bytes depend on data) and close it."""
    plt = _pyplot()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    finally:
        plt.close(fig)
    return buf.getvalue()
