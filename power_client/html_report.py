"""``report.html``: one self-contained page with the summary, the plot, the checks and the phases.

Self-contained: the CSS is inline and the PNG is embedded as a ``data:`` URI, so the file can be
mailed or archived alone; the page loads nothing from anywhere. Every string taken from the
result is HTML-escaped (a SUT spec or a check detail may contain anything).

The content is that of ``summary.txt`` (the rows of :mod:`power_client.result_view`) plus the
table of every check and the per-phase table.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from power_client.result_view import (
    PLOT_UNAVAILABLE,
    SIMULATED_BANNER,
    failed_checks,
    file_rows,
    get,
    is_simulated,
    is_valid,
    phase_table,
    summary_rows,
    title,
    verdict,
)

__all__ = ["render_html"]

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222;
       padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.num { font-variant-numeric: tabular-nums; }
.banner { background: #b00020; color: #fff; font-weight: bold; font-size: 1.2em;
          padding: 0.6em 1em; border-radius: 4px; }
.verdict { display: inline-block; font-weight: bold; padding: 0.2em 0.7em; border-radius: 4px; }
.valid { background: #d7f5dd; color: #0a5c1f; } .invalid { background: #fde0e0; color: #8b0000; }
.pass { color: #0a5c1f; } .fail { color: #8b0000; font-weight: bold; }
.note { background: #fff6d6; padding: 0.5em 1em; border-left: 4px solid #e0b000; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
code { font-size: 0.9em; }
"""


# Defence in depth: the page may load nothing, run no script, show only inline images.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _rows(rows: Iterable[Sequence[str]], *, header: Sequence[str] = ()) -> str:
    parts = ["<table>"]
    if header:
        parts.append("<tr>" + "".join(f"<th>{_e(cell)}</th>" for cell in header) + "</tr>")
    for row in rows:
        head, *cells = row
        parts.append(
            f"<tr><th>{_e(head)}</th>"
            + "".join(f'<td class="num">{_e(cell)}</td>' for cell in cells)
            + "</tr>"
        )
    parts.append("</table>")
    return "\n".join(parts)


def _checks_table(result: Mapping[str, Any]) -> str:
    checks = result.get("checks")
    if not isinstance(checks, Sequence) or isinstance(checks, str) or not checks:
        return "<p>No checks were recorded.</p>"
    parts = ["<table>", "<tr><th>check</th><th>result</th><th>detail</th></tr>"]
    for check in checks:
        if not isinstance(check, Mapping):
            continue
        passed = check.get("passed") is True
        parts.append(
            f"<tr><td><code>{_e(check.get('name', '?'))}</code></td>"
            f'<td class="{"pass" if passed else "fail"}">{"passed" if passed else "FAILED"}</td>'
            f"<td>{_e(check.get('detail', ''))}</td></tr>"
        )
    parts.append("</table>")
    return "\n".join(parts)


def _plot(png: Path | None) -> str:
    if png is None:
        return f'<p class="note">{_e(PLOT_UNAVAILABLE)}</p>'
    try:
        data = png.read_bytes()
    except OSError as exc:
        return f'<p class="note">plot unavailable: cannot read {_e(png)}: {_e(exc)}</p>'
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="power over time in each phase" src="data:image/png;base64,{encoded}">'


def render_html(result: Mapping[str, Any], png: Path | None) -> str:
    """Return the text of ``report.html`` for a parsed ``result.json``.

    Args:
        result: the result (schema in ``docs/results.md``); missing fields show as ``n/a``.
        png: the plot to embed; None when it could not be drawn (the page says why).
    """
    simulated = is_simulated(result)
    heading = f"wattbench result: {title(result)}" + (" (SIMULATED)" if simulated else "")
    body = []
    if simulated:
        body.append(f'<p class="banner">{_e(SIMULATED_BANNER)}</p>')
    body.append(f"<h1>{_e(heading)}</h1>")
    css_class = "valid" if is_valid(result) else "invalid"
    body.append(f'<p><span class="verdict {css_class}">{_e(verdict(result))}</span></p>')
    failed = failed_checks(result)
    if failed:
        items = "".join(
            f"<li><code>{_e(name)}</code>: {_e(detail)}</li>" for name, detail in failed
        )
        body.append(f"<ul>{items}</ul>")
    body.append("<h2>Summary</h2>")
    body.append(_rows(summary_rows(result)))
    body.append("<h2>Power over time</h2>")
    body.append(_plot(png))
    body.append("<h2>Checks</h2>")
    body.append(_checks_table(result))
    header, rows = phase_table(result)
    if rows and len(header) > 1:
        body.append("<h2>Phases</h2>")
        body.append(_rows(rows, header=header))
    body.append("<h2>Files</h2>")
    body.append("<p>Relative to the result folder.</p>")
    body.append(
        _rows(
            ((path, what) for path, what in file_rows(result, plot_available=png is not None)),
            header=("file", "content"),
        )
    )
    created = get(result, "created_utc") or ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        f"<title>{_e(heading)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + f"\n<footer><p>Generated from result.json (created {_e(created)}).</p></footer>\n"
        + "</body>\n</html>\n"
    )
