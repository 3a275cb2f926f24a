"""Render a :class:`srsbayes.report.model.Report` as one self-contained HTML page and as
Markdown, and list the files of the report folder, all from one document tree.

The parts: :mod:`.document` (the tree), :mod:`.sections` (the section registry and the
section builders), :mod:`.html` and :mod:`.markdown` (the writers), :mod:`.wording`.
Each function here accepts a :class:`~srsbayes.report.document.Document` already built
by :func:`document`, so that a caller writing several files builds the tree once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .document import Document
from .html import write_html
from .markdown import write_markdown
from .sections import build_document

if TYPE_CHECKING:
    from .model import Report

__all__ = ["document", "figure_files", "render_html", "render_markdown", "report_files"]


def document(report: Report | Document) -> Document:
    """The report's document tree (``report`` itself if it already is one)."""
    return report if isinstance(report, Document) else build_document(report)


def render_html(report: Report | Document) -> str:
    """One self-contained HTML page: inline style, embedded figures, no script, no URL."""
    return write_html(document(report))


def render_markdown(report: Report | Document) -> str:
    """The Markdown twin: same content, figures as PNG files under ``figures/``."""
    return write_markdown(document(report))


def figure_files(report: Report | Document) -> dict[str, bytes]:
    """PNG files the Markdown twin links to, by path relative to the report folder."""
    return document(report).figure_files()


def report_files(report: Report | Document) -> dict[str, bytes]:
    """Every file of the report folder's top level, from one document tree: the figures,
    ``index.md`` and, last (it should appear only when the rest is written),
    ``index.html``."""
    doc = document(report)
    files = doc.figure_files()
    if not isinstance(report, Document):  # the README's results table, from the same report
        from .results_table import results_table

        files["results_table.md"] = results_table(report).encode("utf-8")
    files["index.md"] = write_markdown(doc).encode("utf-8")
    files["index.html"] = write_html(doc).encode("utf-8")
    return files
