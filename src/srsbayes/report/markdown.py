"""The Markdown writer: the report's twin, with figures as PNG files under ``figures/``.

Every string of the tree is escaped here: HTML-escaped (Markdown renderers pass raw HTML
through) and with inline Markdown punctuation backslash-escaped, so data cannot become
markup or links.
"""

from __future__ import annotations

import html
import re

from .document import (
    UL,
    Block,
    Box,
    Details,
    Document,
    Fig,
    H,
    Inline,
    P,
    Pre,
    S,
    Section,
    Table,
    anchor,
)

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")
_EMPHASIS = {"b": "**", "fail": "**", "pass": "**", "warn": "**", "i": "*", "muted": "*"}


def md_escape(text: str) -> str:
    """Escape text for Markdown: HTML-escaped (renderers pass raw HTML through) and
    inline Markdown punctuation backslash-escaped; line breaks become spaces."""
    t = html.escape(str(text), quote=False)
    t = _MD_SPECIAL.sub(r"\\\1", t)
    return re.sub(r"\s*[\r\n\u2028\u2029\x0b\x0c\x85]+\s*", " ", t)


def _md_line(text: str) -> str:
    """Keep a block's first characters from starting a heading, list or quote."""
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text, count=1)


def _styled_md(x: S) -> str:
    t = md_escape(x.text)
    if x.href:
        t = f"[{t}](#{anchor(x.href)})"
    if x.style in _EMPHASIS and t.strip():
        # emphasis markers must touch the text: keep outer spaces outside them
        mark, core = _EMPHASIS[x.style], t.strip()
        return t[: len(t) - len(t.lstrip())] + mark + core + mark + t[len(t.rstrip()):]
    if x.style == "sub":
        return f" ({t})"
    if x.style == "code":
        code = re.sub(r"\s+", " ", str(x.text)).replace("`", "'").replace("|", "\\|")
        return "`" + code + "`"
    return t


def inline_md(x: Inline) -> str:
    """Inline content as Markdown."""
    if isinstance(x, str):
        return md_escape(x)
    if isinstance(x, S):
        return _styled_md(x)
    return "".join(inline_md(y) for y in x)


def _table_md(b: Table) -> str:
    lines = [f"*{md_escape(b.caption)}*", ""] if b.caption else []
    lines.append("| " + " | ".join(inline_md(h) for h in b.head) + " |")
    lines.append("|" + "---|" * len(b.head))
    lines += ["| " + " | ".join(inline_md(c) for c in r) + " |" for r in b.rows]
    return "\n".join(lines)


def block_md(b: Block) -> str:
    """One block (and its children) as Markdown."""
    if isinstance(b, H):
        target = f'<a id="{anchor(b.id)}"></a>\n\n' if b.id else ""
        return f"{target}{'#' * b.level} {md_escape(b.text)}"
    if isinstance(b, P):
        return _md_line(inline_md(b.content))
    if isinstance(b, UL):
        return "\n".join(f"- {_md_line(inline_md(i))}" for i in b.items)
    if isinstance(b, Table):
        return _table_md(b)
    if isinstance(b, Fig):
        cap = f"\n\n*{inline_md(b.caption)}*" if b.caption else ""
        return f"![{md_escape(b.alt)}](figures/{b.key}.png){cap}"
    if isinstance(b, Box):
        inner = "\n\n".join(block_md(x) for x in b.blocks)
        return "\n".join("> " + ln if ln else ">" for ln in inner.split("\n"))
    if isinstance(b, Pre):
        fence = "````" if "```" in b.text else "```"
        return f"{fence}text\n{b.text}\n{fence}"
    if isinstance(b, Section):
        return "\n\n".join(block_md(x) for x in b.blocks)
    if isinstance(b, Details):
        return "\n\n".join([f"*{md_escape(b.summary)}:*", *(block_md(x) for x in b.blocks)])
    raise TypeError(f"unknown block {type(b).__name__}")


def write_markdown(doc: Document) -> str:
    """The Markdown twin: same content, figures as PNG files under ``figures/``."""
    return f"# {md_escape(doc.title)}\n\n" + "\n\n".join(block_md(b) for b in doc.blocks) + "\n"
