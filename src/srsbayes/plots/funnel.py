"""Funnel plot of an outcome's studies, drawn when publication bias is assessable (>= 10).

Each study's observed effect (analysis scale: log OR, log HR, or a difference) against
its standard error, the SE axis reversed so that the largest studies are at the top, with
the fixed-effect (inverse-variance) estimate and its pseudo 95% limits ``± 1.96 SE``
(Sterne et al. 2011, BMJ 343:d4002, Box 1). The pooled line is the fixed-effect estimate,
as in Sterne et al., not the random-effects posterior: the funnel is a picture of the data.

References
----------
Sterne JAC, Sutton AJ, Ioannidis JPA, et al. (2011). Recommendations for examining and
interpreting funnel plot asymmetry in meta-analyses of randomised controlled trials.
BMJ 343:d4002.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TypedDict

import numpy as np

from .figures import DPI, GREY, OBSERVED, POOLED, _pyplot, plain

Z975 = 1.959963984540054


def fixed_effect(estimate: np.ndarray, se: np.ndarray) -> float:
    """The inverse-variance (fixed-effect) estimate the funnel is centred on."""
    w = 1.0 / np.asarray(se, dtype=float) ** 2
    return float(np.sum(w * np.asarray(estimate, dtype=float)) / np.sum(w))


def funnel_limits(centre: float, se_max: float, points: int = 50
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(se, lower, upper)``: the pseudo 95% limits ``centre ± 1.96 se`` from 0 to
    ``se_max``."""
    se = np.linspace(0.0, se_max, points)
    return se, centre - Z975 * se, centre + Z975 * se


class FunnelPoint(TypedDict):
    """One study of a funnel plot: its estimate and standard error on the analysis scale."""

    study: str
    estimate: float
    se: float


def funnel_png(funnel: Sequence[FunnelPoint], axis_label: str, *,
               test: str = "") -> bytes:
    """The funnel plot as PNG bytes.

    Parameters
    ----------
    funnel
        ``[{"study", "estimate", "se"}, ...]`` as :func:`srsbayes.certainty.
        publication_bias.rate_publication_bias` returns it (analysis scale).
    axis_label
        What the horizontal axis shows, e.g. "log odds ratio".
    test
        The asymmetry test's result, printed as the title (e.g. "Peters' test p = 0.40").
    """
    plt = _pyplot()
    y = np.array([f["estimate"] for f in funnel], dtype=float)
    s = np.array([f["se"] for f in funnel], dtype=float)
    centre = fixed_effect(y, s)
    se, lo, hi = funnel_limits(centre, 1.05 * float(s.max()))
    fig, ax = plt.subplots(figsize=(5.0, 4.0), dpi=DPI)
    ax.plot(lo, se, ls="--", color=GREY, lw=1, label="pseudo 95% limits")
    ax.plot(hi, se, ls="--", color=GREY, lw=1)
    ax.axvline(centre, color=POOLED, lw=1.2, label="fixed-effect estimate")
    ax.scatter(y, s, color=OBSERVED, marker="o", s=18, zorder=3, label="study")
    ax.invert_yaxis()
    ax.set_xlabel(plain(axis_label))
    ax.set_ylabel("Standard error")
    if test:
        ax.set_title(plain(test), fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
