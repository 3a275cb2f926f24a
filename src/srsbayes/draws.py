"""Summaries of Monte Carlo draws, and how a probability is printed, for every layer.

Quantiles are **order statistics** of the draws (``method="inverted_cdf"``), never averages
of two neighbouring draws: a monotone transform then commutes with the summary (the
median of exp θ *is* exp of the median of θ, exactly, on any machine), and every printed
quantile is one of the draws (Hyndman & Fan 1996, Am Stat 50:361, definition 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np

QUANTILE_METHOD = "inverted_cdf"


def quantiles(x: Any, q: Any) -> np.ndarray:
    """Quantiles ``q`` of the flattened draws ``x`` as order statistics."""
    return np.quantile(np.asarray(x, dtype=float).ravel(), q, method=QUANTILE_METHOD)


def central_interval(x: Any) -> tuple[float, float, float]:
    """2.5%, 50% and 97.5% quantiles of draws (the central 95% interval and the median)."""
    lo, med, hi = quantiles(x, [0.025, 0.5, 0.975])
    return float(lo), float(med), float(hi)


def pct(p: float) -> str:
    """A probability as a percentage that never rounds to a false certainty."""
    if p > 0.999:
        return ">99.9%"
    if p < 0.001:
        return "<0.1%"
    if p > 0.99 or p < 0.01:
        return f"{100 * p:.1f}%"
    return f"{100 * p:.0f}%"


def directional(median: float, lo: float, hi: float, more: str, fewer: str, d: int = 1,
                label: str = "95% CrI ", unit: str = "") -> str:
    """A signed difference with its interval in words, ``8.4 fewer`` + ``unit`` + ``(95%
    CrI 2.7 to 19.2 fewer)``: the one way every layer prints an absolute effect, so the
    bottom line, the summary-of-findings table and the certainty reasons show the same
    digits."""
    def signed(v: float) -> str:
        return f"{abs(v):.{d}f} {fewer if v < 0 else more}"

    if hi < 0:
        iv = f"{abs(hi):.{d}f} to {abs(lo):.{d}f} {fewer}"
    elif lo > 0:
        iv = f"{lo:.{d}f} to {hi:.{d}f} {more}"
    else:
        iv = f"{abs(lo):.{d}f} {fewer} to {hi:.{d}f} {more}"
    return f"{signed(median)}{unit} ({label}{iv})"
