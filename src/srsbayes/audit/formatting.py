"""The audit's findings as aligned text or as JSON."""

from __future__ import annotations

from pathlib import Path

from ..inputs.data import StudyTable
from ..outputs import json_text
from .findings import SEVERITIES, Finding
from .registry import CHECKS


def format_text(findings: list[Finding], table: StudyTable | None = None) -> str:
    """Aligned plain-text report: a one-line summary, then one block per check."""
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
    head = (f"srsbayes audit: {len(findings)} findings — "
            + ", ".join(_count(counts[s], s) for s in SEVERITIES))
    if table is not None:
        head += f" (data: {table.path}, sha256 {table.sha256[:12]})"
    lines = [head]
    cols = ("severity", "study", "outcome", "arm", "line")
    cells = [[f.severity, f.study or "-", f.outcome or "-", f.arm or "-", _line(f, table)]
             for f in findings]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(cols)]
    for check in dict.fromkeys(f.check for f in findings):
        group = [(f, c) for f, c in zip(findings, cells, strict=True) if f.check == check]
        n = {s: sum(f.severity == s for f, _ in group) for s in SEVERITIES}
        tally = ", ".join(_count(v, k) for k, v in n.items() if v)
        lines += ["", f"== {check}: {CHECKS.get(check, check)} ({tally}) =="]
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
                     + "  detail")
        for f, c in group:
            lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True))
                         + "  " + f.detail)
    return "\n".join(lines) + "\n"


def _count(n: int, severity: str) -> str:
    return f"{n} {severity}" + ("s" if n != 1 and severity != "info" else "")


def _line(f: Finding, table: StudyTable | None) -> str:
    if f.row is None:
        return "-"
    if f.file is None or (table is not None and f.file == table.path):
        return str(f.row)
    return f"{Path(f.file).name}:{f.row}"


def format_json(findings: list[Finding]) -> str:
    """JSON list of findings (see :meth:`Finding.to_dict`)."""
    return json_text([f.to_dict() for f in findings]) + "\n"  # strict: NaN is null
