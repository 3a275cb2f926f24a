"""The HTML writer: one self-contained page from a :class:`~srsbayes.report.document.Document`.

The page embeds its figures as ``data:`` URIs, carries its style sheet inline, has no
script and declares a Content-Security-Policy that forbids any fetch: opening it
contacts nothing. Every string of the tree is escaped here.
"""

from __future__ import annotations

import base64
import html

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

CSS = """
:root{--fg:#1b1f24;--muted:#5b6470;--line:#d8dde3;--bg:#fff;--soft:#f5f7f9;
--pass:#0a6b2d;--passbg:#e3f4e8;--fail:#a1120b;--failbg:#fde7e5;--warn:#7a4d00;
--warnbg:#fff1d6;--na:#4a5360;--nabg:#eceff2;--accent:#0b5cad}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:1.6em;line-height:1.25;margin:.2em 0 .2em}
h2{font-size:1.3em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:2px solid var(--line)}
h3{font-size:1.08em;margin:1.3em 0 .4em}
p{margin:.45em 0}
p.sub,p.small,.muted{color:var(--muted)}
p.sub{margin-bottom:.8em}
p.small{font-size:.88em}
p.lead{font-size:1.08em}
p.nav{font-size:.92em;margin:1em 0;padding:.5em .8em;background:var(--soft);border-radius:6px}
a{color:var(--accent)}
.box{border-radius:8px;padding:.6em 1.1em;margin:.8em 0}
.box.bottom{background:#eef5fc;border:1px solid #b9d3ee}
.box.bottom h2{border:0;margin:.3em 0 .2em}
.box.bottom ul{margin:.3em 0 .5em;padding-left:1.2em}
.box.bottom li{margin:.25em 0}
.box.fail{background:var(--failbg);border:2px solid var(--fail);color:#5c0a06}
.box.note{background:var(--soft);border:1px solid var(--line)}
.box.brief{border:2px solid #b9d3ee;background:#fff}
.box.brief h2{border:0;margin:.3em 0 .2em}
table{border-collapse:collapse;margin:.5em 0 1em;width:100%;font-size:.92em}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
table.summary{font-size:.9em}
.subline{display:block;color:var(--muted);font-size:.88em}
table.compact{width:auto;max-width:100%}
table.keys{width:auto}
table.keys td:first-child{color:var(--muted)}
table.priors code{white-space:nowrap;overflow-wrap:normal}
caption{text-align:left;font-weight:600;padding:.3em 0}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.88em}
code{background:var(--soft);padding:0 3px;border-radius:3px;overflow-wrap:anywhere}
pre{background:var(--soft);padding:.8em 1em;border-radius:6px;white-space:pre-wrap;
overflow-wrap:anywhere}
figure{margin:.6em 0 1.2em}
figure img{max-width:100%;height:auto;border:1px solid var(--line);border-radius:4px}
figcaption{font-size:.86em;color:var(--muted);max-width:900px}
.badge{display:inline-block;padding:0 .45em;border-radius:4px;font-weight:600;
font-size:.9em;white-space:nowrap}
.pass{background:var(--passbg);color:var(--pass)}
.fail{background:var(--failbg);color:var(--fail)}
.warn{background:var(--warnbg);color:var(--warn)}
.na{background:var(--nabg);color:var(--na)}
details{margin:.4em 0 1em}
summary{cursor:pointer;color:var(--accent)}
@media print{main{max-width:none;padding:0}h2{break-after:avoid}figure{break-inside:avoid}
.box.brief{break-after:page;border:0;font-size:.9em}}
"""

# Forbid every fetch: images only from data: URIs, styles only inline, nothing else.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; " \
      "form-action 'none'"

_STYLE_TAG = {"b": "<strong>{}</strong>", "i": "<em>{}</em>", "code": "<code>{}</code>",
              "muted": '<span class="muted">{}</span>', "sub": '<span class="subline">{}</span>'}


def esc(text: str) -> str:
    """``text`` as HTML text or attribute value."""
    return html.escape(str(text), quote=True)


def inline_html(x: Inline) -> str:
    """Inline content as HTML; links stay inside the page (``#anchor`` only)."""
    if isinstance(x, str):
        return esc(x)
    if isinstance(x, S):
        t = esc(x.text)
        if x.href:
            inner = f"<strong>{t}</strong>" if x.style == "b" else t
            return f'<a href="#{esc(anchor(x.href))}">{inner}</a>'
        if x.style in _STYLE_TAG:
            return _STYLE_TAG[x.style].format(t)
        return f'<span class="badge {x.style}">{t}</span>' if x.style else t
    return "".join(inline_html(y) for y in x)


def _children(blocks: list[Block]) -> str:
    return "\n".join(block_html(x) for x in blocks)


def _cls(cls: str) -> str:
    return f' class="{esc(cls)}"' if cls else ""


def _table_html(b: Table) -> str:
    cap = f"<caption>{esc(b.caption)}</caption>" if b.caption else ""
    head = "".join(f'<th scope="col">{inline_html(h)}</th>' for h in b.head)
    body = "".join("<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in r) + "</tr>"
                   for r in b.rows)
    return f"<table{_cls(b.cls)}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure_html(b: Fig) -> str:
    uri = "data:image/png;base64," + base64.b64encode(b.data).decode("ascii")
    cap = f"<figcaption>{inline_html(b.caption)}</figcaption>" if b.caption else ""
    return f'<figure><img src="{uri}" alt="{esc(b.alt)}">{cap}</figure>'


def block_html(b: Block) -> str:
    """One block (and its children) as HTML."""
    if isinstance(b, H):
        ident = f' id="{esc(anchor(b.id))}"' if b.id else ""
        return f"<h{b.level}{ident}>{esc(b.text)}</h{b.level}>"
    if isinstance(b, P):
        return f"<p{_cls(b.cls)}>{inline_html(b.content)}</p>"
    if isinstance(b, UL):
        return "<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in b.items) + "</ul>"
    if isinstance(b, Table):
        return _table_html(b)
    if isinstance(b, Fig):
        return _figure_html(b)
    if isinstance(b, Box):
        role = ' role="alert"' if b.kind == "fail" else ""
        return f'<div class="box {esc(b.kind)}"{role}>' + _children(b.blocks) + "</div>"
    if isinstance(b, Pre):
        return f"<pre>{esc(b.text)}</pre>"
    if isinstance(b, Details):
        return f"<details><summary>{esc(b.summary)}</summary>" + _children(b.blocks) + \
            "</details>"
    if isinstance(b, Section):
        return f'<section id="{esc(anchor(b.id))}">' + _children(b.blocks) + "</section>"
    raise TypeError(f"unknown block {type(b).__name__}")


def write_html(doc: Document) -> str:
    """One self-contained HTML page: inline style, embedded figures, no script, no URL."""
    body = "\n".join(block_html(b) for b in doc.blocks)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(doc.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{esc(doc.title)}</h1>\n{body}\n</main>\n</body>\n</html>\n")
