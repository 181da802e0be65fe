"""``summary.txt``: the plain-text summary of a measured run.

Example (abridged)::

    *** SIMULATED METER: every power figure below comes from a simulated meter, ... ***
    wattbench result: INVALID (1 of 10 checks failed), SIMULATED
      FAILED samples_in_window: 3 samples in the testing window (>= 10)

    Efficiency          26.92 ± 0.11 samples/J (0.40 %)
    Average power       45.87 ± 0.18 W (0.40 %)
    MLPerf-comparable   45.86 W power metric, ...

The rows come from :mod:`power_client.result_view`, which ``report.html`` renders too.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

from power_client.result_view import (
    SIMULATED_BANNER,
    failed_checks,
    file_rows,
    is_simulated,
    phase_table,
    summary_rows,
    verdict,
)

__all__ = ["render_summary"]

_WIDTH = 100
_LABEL_WIDTH = 24


def _labelled(label: str, value: str) -> list[str]:
    return textwrap.wrap(
        value,
        _WIDTH,
        initial_indent=label.ljust(_LABEL_WIDTH),
        subsequent_indent=" " * _LABEL_WIDTH,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [label]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    columns = list(zip(header, *rows, strict=False))
    widths = [max(len(cell) for cell in column) for column in columns]
    lines = []
    for cells in (header, *rows):
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
        lines.append("  ".join(padded).rstrip())
    return lines


def render_summary(result: Mapping[str, Any], *, plot_available: bool = True) -> str:
    """Return the text of ``summary.txt`` for a parsed ``result.json``.

    Args:
        result: the result (schema in ``docs/results.md``); missing fields show as ``n/a``.
        plot_available: False when ``power.png`` could not be drawn (no matplotlib): the file
            list then says so.
    """
    simulated = is_simulated(result)
    lines: list[str] = []
    if simulated:
        lines.append(f"*** {SIMULATED_BANNER} ***")
    lines.append(f"wattbench result: {verdict(result)}" + (", SIMULATED" if simulated else ""))
    for name, detail in failed_checks(result):
        lines.extend(
            textwrap.wrap(
                f"FAILED {name}: {detail}",
                _WIDTH,
                initial_indent="  ",
                subsequent_indent="    ",
                break_long_words=False,
            )
        )
    lines.append("")
    for label, value in summary_rows(result):
        lines.extend(_labelled(label, value))
    header, rows = phase_table(result)
    if rows and len(header) > 1:
        lines.append("")
        lines.extend(_table(["Phase", *header[1:]], rows))
    lines.append("")
    lines.append("Files (relative to the result folder)")
    file_list = file_rows(result, plot_available=plot_available)
    width = max(len(path) for path, _ in file_list) + 2
    for path, what in file_list:
        lines.append(f"  {path.ljust(width)}{what}")
    return "\n".join(lines) + "\n"
