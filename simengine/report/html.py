"""HTML building blocks of the reports: page shell with inline CSS, tables, inline figures.

Everything is inline (CSS, PNG images as base64 ``data:`` URIs): a report is one file that
opens offline and refers to nothing outside itself.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from simengine.exceptions import LimitError
from simengine.io import atomic_write

__all__ = [
    "MAX_REPORT_BYTES",
    "esc",
    "figure",
    "kv_table",
    "page",
    "readable_charts",
    "table",
    "write_html",
]

MAX_REPORT_BYTES = 10 * 1024 * 1024

CSS = """
:root { --ink: #1a1a1a; --muted: #555; --rule: #d0d0d0; --accent: #0072B2; --shade: #f3f5f7; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 1.5rem 2rem 3rem;
       line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem;
     border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p.lead { color: var(--muted); margin-top: 0; }
p.note { color: var(--muted); font-size: .9rem; }
nav ol { columns: 2; padding-left: 1.2rem; margin: .5rem 0 1rem; }
nav a { color: var(--accent); text-decoration: none; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .85rem; width: auto; }
th, td { border-bottom: 1px solid var(--rule); padding: .25rem .55rem; text-align: right;
         vertical-align: top; }
th { background: var(--shade); font-weight: 600; }
td.text { white-space: nowrap; }
table.assume td, table.kv td { white-space: normal; }
td.text, th.text, table.kv td, table.kv th, table.assume td, table.assume th { text-align: left; }
table.assume td.changed { font-weight: 600; border-left: 3px solid var(--accent); }
table.kv th { width: 14rem; }
code, .hash { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
              font-size: .8rem; word-break: break-all; }
figure { margin: .8rem 0 1.4rem; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .25rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 0 1.2rem; }
.ok { color: #009E73; font-weight: 600; } .fail { color: #D55E00; font-weight: 600; }
footer { margin-top: 3rem; color: var(--muted); font-size: .8rem; border-top: 1px solid var(--rule); }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; color: #000; }
  nav, .no-print { display: none; }
  h2 { break-before: auto; break-after: avoid; border-bottom-color: #000; }
  h3 { break-after: avoid; }
  figure, table, tr { break-inside: avoid; page-break-inside: avoid; }
  figure img { border: none; max-height: 9.5cm; width: auto; }
  .grid { display: block; }
  th { background: none; border-bottom: 1.5px solid #000; }
  a { color: #000; text-decoration: none; }
  @page { size: A4; margin: 15mm 12mm; }
}
"""


@contextmanager
def readable_charts() -> Iterator[None]:
    """Larger chart text while a report draws: its figures are shown at about half width."""
    import matplotlib

    with matplotlib.rc_context({"font.size": 12.5}):
        yield


def esc(value: Any) -> str:
    """HTML-escaped text of a value."""
    return html.escape(str(value), quote=True)


def page(title: str, subtitle: str, sections: Iterable[tuple[str, str, str]], footer: str) -> str:
    """A complete HTML document.

    Parameters
    ----------
    title, subtitle : str
        Plain text (escaped here).
    sections : iterable of (anchor, heading, body_html)
        Bodies are HTML; headings are escaped.
    footer : str
        Plain text.
    """
    sections = list(sections)
    toc = "".join(f'<li><a href="#{esc(a)}">{esc(h)}</a></li>' for a, h, _ in sections)
    body = "".join(f'<section id="{esc(a)}"><h2>{esc(h)}</h2>{b}</section>' for a, h, b in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{esc(title)}</h1><p class="lead">{esc(subtitle)}</p></header>'
        f"<nav><strong>Contents</strong><ol>{toc}</ol></nav>{body}"
        f"<footer><p>{esc(footer)}</p></footer></body></html>\n"
    )


def table(
    frame: pd.DataFrame,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
    headers: Mapping[str, str] | None = None,
    caption: str = "",
) -> str:
    """A DataFrame as an HTML table; index levels become leading text columns.

    Parameters
    ----------
    frame : DataFrame
    formats : mapping column -> callable, optional
        Formatter per column (values are escaped after formatting); default ``str``.
    headers : mapping column -> str, optional
        Display names of columns.
    caption : str
    """
    formats = formats or {}
    headers = headers or {}
    flat = frame.reset_index() if _has_named_index(frame) else frame
    index_cols = [c for c in flat.columns if c not in frame.columns]
    head = "".join(
        f"<th{_cls(c in index_cols)}>{esc(headers.get(c, c))}</th>" for c in flat.columns
    )
    rows = []
    for record in flat.itertuples(index=False):
        cells = []
        for col, value in zip(flat.columns, record, strict=True):
            text = formats.get(col, _default_format)(value)
            cells.append(f"<td{_cls(col in index_cols or not _is_number(value))}>{esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cls(text: bool) -> str:
    return ' class="text"' if text else ""


def _has_named_index(frame: pd.DataFrame) -> bool:
    return any(name is not None for name in frame.index.names)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _default_format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def kv_table(rows: Iterable[tuple[str, Any]], code: bool = False) -> str:
    """A two-column key/value table (values escaped; ``code`` sets them in monospace)."""
    cls = ' class="hash"' if code else ""
    body = "".join(f"<tr><th>{esc(k)}</th><td{cls}>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def figure(png: bytes, alt: str, caption: str = "") -> str:
    """An inline PNG image (base64 ``data:`` URI) with alt text and caption."""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">{cap}</figure>'


def write_html(text: str, path: str | Path, overwrite: bool = False) -> Path:
    """Write an HTML report atomically; refuses to overwrite unless asked.

    Raises
    ------
    LimitError
        When the report is larger than 10 MB (too many scenarios or charts).
    OutputExistsError
        When ``path`` exists and ``overwrite`` is false.
    """
    data = text.encode("utf-8")
    if len(data) > MAX_REPORT_BYTES:
        raise LimitError(
            f"the report would be {len(data) / 1e6:.1f} MB, over the 10 MB limit; "
            "report fewer scenarios or lower max_charts"
        )
    path = Path(path)
    with atomic_write(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(data)
    return path
