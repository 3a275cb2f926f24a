"""The manual quotes no result of the bundled data: such numbers went stale with every
release (docs/index.md showed LMD OR 0.26 (0.11-0.63) and 99.8% "from the current code"
two releases after they changed). Results live in the report and in the README's table,
which ``report`` generates (``results_table.md``); the manual points there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from srsbayes.draws import pct

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").rglob("*.md"))
RESULT = re.compile(
    r"\b(OR|ratio) \d\.\d\d \(\d"            # a pooled effect with its interval
    r"|(fewer|more) per 100 \(\d"            # an absolute effect with its interval
    r"|P\(benefit\)[^\n|]*\(0\.\d{3}\)")     # a sweep probability quoted in prose


@pytest.mark.parametrize("page", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_quote_no_bundled_result(page):
    hits = [m.group(0) for m in RESULT.finditer(page.read_text(encoding="utf-8"))]
    assert not hits, f"{page.name} quotes results that go stale: {hits}"


def _readme_table() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## What the bundled evidence says", 1)[1].split("\n\n", 2)[1]
    lines = [ln for ln in block.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]


def test_readme_table_is_the_generated_one():
    """The README's table has the generator's columns, and its probabilities are printed
    as :func:`srsbayes.draws.pct` prints them (one rounding rule everywhere: RN was 98.7%
    in the README and 99% in the report)."""
    from srsbayes.report.results_table import HEADER

    rows = _readme_table()
    assert "| " + " | ".join(rows[0]) + " |" == HEADER
    probs = [i for i, h in enumerate(rows[0]) if h.startswith(("P(", "bias-adjusted P"))]
    shown = {pct(k / 1000) for k in range(1001)} | {">99.9%", "<0.1%", "—"}
    for row in rows[2:]:
        for i in probs:
            assert row[i] in shown, f"{row[0]}: {row[i]} is not how pct() prints it"
