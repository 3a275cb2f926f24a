"""A finished sweep: its typed rows, the table, the verdict, and the files it writes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..families import measure_info
from ..inputs.question import Question
from ..inputs.specs import OutcomeSpec
from ..outputs import JSONObject, OutputUnit, csv_text, write_json, write_text, write_with
from .rows import SweepRow
from .verdict import BORDERLINE_MCSE


@dataclass
class SweepResult:
    """A finished sweep: the table, the verdict, power-scaling and provenance."""

    spec: OutcomeSpec
    rows: pd.DataFrame
    """The table (one column per :meth:`.rows.SweepRow.record` key), as the verdict, the
    figure and the report read it; built from :attr:`sweep_rows`."""
    verdict: JSONObject
    psense: JSONObject | None
    provenance: JSONObject
    reference: str
    tolerance: JSONObject | None = None
    """The reference fit's ``tipping_points`` and ``reverse_bayes``
    (:func:`srsbayes.inference.fitting.bias_tipping`: the same draws as ``fit``'s)."""
    sweep_rows: tuple[SweepRow, ...] = ()
    """The rows as typed values, in table order."""

    def as_dict(self) -> JSONObject:
        """The content of ``sweep.json``."""
        return {
            "outcome": self.spec.id, "label": self.spec.label, "family": self.spec.family,
            "measure": measure_info(self.spec.family, self.spec.measure).measure,
            "benefit": self.spec.benefit,
            "decision_probability": self.spec.decision_probability,
            "reference_setting": self.reference,
            "verdict": self.verdict,
            "psense": self.psense,
            **(self.tolerance or {}),
            "rows": [{k: _jsonable(v) for k, v in r.items()}
                     for r in self.rows.to_dict("records")],
            "provenance": self.provenance,
        }

    def figure(self, question: Question | None = None):
        """The two-panel matplotlib figure (P(benefit) and the effect per setting), its
        arms worded as in ``question`` (default: the bundled one)."""
        from ..plots.sweep import sweep_figure

        return sweep_figure(self.rows, self.spec, self.verdict, reference=self.reference,
                            question=question)

    def figure_png(self, dpi: int = 150, question: Question | None = None) -> bytes:
        """The figure as PNG bytes."""
        from ..plots.sweep import figure_png

        return figure_png(self.figure(question), dpi=dpi)

    def write(self, out: str | Path, question: Question | None = None) -> dict[str, Path]:
        """Write ``sweep.csv``, ``sweep.json`` and ``sweep.png`` into ``out`` as one unit
        (:class:`srsbayes.outputs.OutputUnit`); returns where they are."""
        out = Path(out)
        png = self.figure_png(question=question)  # drawn before anything is written
        with OutputUnit(out, "sweep", self.provenance) as unit:
            folder = unit.folder()
            write_text(folder / "sweep.csv", csv_text(self.rows))  # formula-like text neutralised
            write_json(folder / "sweep.json", self.as_dict())
            write_with(folder / "sweep.png", lambda tmp: tmp.write_bytes(png))
        return {"csv": out / "sweep.csv", "json": out / "sweep.json", "png": out / "sweep.png"}


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is None:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def format_table(rows: pd.DataFrame) -> str:
    """A plain-text table of the sweep for the terminal (``~`` marks a borderline row)."""
    width = min(max(len(s) for s in rows["setting"]), 46)
    lines = [f"{'setting':<{width}}  P(benefit)  effect (95% CrI)      tau     ok"]
    marked = False
    for r in rows.itertuples():
        name = r.setting if len(r.setting) <= width else r.setting[: width - 1] + "…"
        if r.ok:
            mark = "~" if str(getattr(r, "conclusion", "")).startswith("borderline") else " "
            marked = marked or mark == "~"
            sep = " to " if r.effect_lo < 0 else "-"  # a difference may be negative
            lines.append(f"{name:<{width}}  {r.prob_benefit:>9.3f}{mark}  "
                         f"{r.effect_median:5.2f} ({r.effect_lo:.2f}{sep}{r.effect_hi:.2f})  "
                         f"{r.tau_median:6.2f}   yes")
        else:
            lines.append(f"{name:<{width}}  {'-':>10}  {'not assessable':<21} {'-':>6}   NO")
    if marked:
        lines.append(f"~ borderline: within {BORDERLINE_MCSE:g} Monte Carlo SEs of the "
                     "decision probability (neither a hold nor a flip)")
    return "\n".join(lines)
