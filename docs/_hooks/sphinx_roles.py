"""MkDocs hook: render the reStructuredText habits of srsbayes' docstrings.

The docstrings are numpydoc, whose cross-references are Sphinx roles (``:func:`x```).
mkdocstrings renders those literally (":func:" followed by the name in code), so this hook
rewrites each into the name, linked through mkdocs-autorefs when it names an object this site
documents. A fully qualified ``srsbayes.`` name is looked up as written; a short name (``Grid``,
``CHECKS``) links when exactly one object of the same page ends with it. ``~a.b.c`` shows ``c``,
as in Sphinx. Links are *optional* autorefs: a name that resolves to nothing (a stale path, a
third-party object) stays plain code instead of failing the strict build.

The ``::`` that introduces a literal block in reStructuredText (``For study *i*::``) is
shown as a single colon; the indented block itself is already a Markdown code block.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(
    r":(?:py:)?(?:func|class|data|mod|meth|attr|obj|exc|const):<code>(~?)([^<]+)</code>")
ANCHOR = re.compile(r'id="(srsbayes(?:\.\w+)*)"')
LITERAL = re.compile(r'::</p>(\s*<(?:pre|div class="highlight"))')


def _target(name: str, anchors: set[str]) -> str | None:
    """The autorefs identifier a role's name points to, or None to leave it unlinked."""
    name = name.removesuffix("()")
    if name.startswith("srsbayes.") or name == "srsbayes":
        return name
    hits = [a for a in anchors if a.endswith("." + name)]
    return hits[0] if len(hits) == 1 else None


def on_page_content(html: str, **kwargs: Any) -> str:
    """Replace every Sphinx role in the page's HTML (an MkDocs ``on_page_content`` hook)."""
    anchors = set(ANCHOR.findall(html))

    def replace(m: re.Match[str]) -> str:
        short, name = m.group(1) == "~", m.group(2)
        code = f"<code>{name.rsplit('.', 1)[-1] if short else name}</code>"
        target = _target(name, anchors)
        return f'<autoref identifier="{target}" optional>{code}</autoref>' if target else code

    return LITERAL.sub(r":</p>\1", ROLE.sub(replace, html))
