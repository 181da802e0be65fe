"""Render a result folder's human-facing files from its ``result.json``.

:func:`write_report` (what ``wattbench report DIR`` runs, and the last step of a measured run)
writes ``summary.txt``, ``power.png`` and ``report.html`` next to ``result.json``; each file is
written to a temporary name and renamed, so a crash leaves the previous version, never half of
one. Without matplotlib there is no ``power.png`` and both other files say
"plot unavailable: install matplotlib".

Errors: :class:`~power_client.errors.ResultFolderError` (naming the path) when ``result.json``
is missing, unreadable, not JSON, or not a version-1 ``wattbench-result``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from power_client.errors import ResultFolderError
from power_client.html_report import render_html
from power_client.plot import render_plot
from power_client.summary_text import render_summary
from power_client.trace import PowerTrace

__all__ = ["RESULT_FORMAT", "RESULT_VERSION", "read_result", "write_report"]

log = logging.getLogger(__name__)

#: ``result.json``'s ``format`` field.
RESULT_FORMAT = "wattbench-result"
#: The ``result.json`` schema version this code reads (``docs/results.md``).
RESULT_VERSION = 1


def read_result(path: Path) -> dict[str, Any]:
    """Read and check a ``result.json``.

    Raises:
        ResultFolderError: the file is missing, unreadable, not JSON, not a JSON object, or
            not a version-1 ``wattbench-result``; the message names ``path``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultFolderError(
            f"{path}: no such file: {path.parent} is not a wattbench result folder "
            "(or its run did not finish)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultFolderError(f"{path}: cannot read it: {exc}") from exc
    try:
        result = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultFolderError(
            f"{path}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(result, dict):
        raise ResultFolderError(f"{path}: expected a JSON object, found {type(result).__name__}")
    if result.get("format") != RESULT_FORMAT:
        raise ResultFolderError(
            f"{path}: format is {result.get('format')!r}, expected {RESULT_FORMAT!r}"
        )
    if result.get("version") != RESULT_VERSION:
        raise ResultFolderError(
            f"{path}: version {result.get('version')!r} is not supported: this wattbench reads "
            f"version {RESULT_VERSION} (a newer wattbench may read it)"
        )
    return result


def _write_text(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8", newline="\n")
    os.replace(partial, path)


def write_report(
    result_dir: Path, *, traces: Mapping[str, Sequence[PowerTrace]] | None = None
) -> list[Path]:
    """Write ``summary.txt``, ``power.png`` and ``report.html`` into ``result_dir``.

    ``traces`` (per phase) spare the plot a second read of power logs already read.

    Returns:
        The files written, in that order (no ``power.png`` without matplotlib).

    Raises:
        ResultFolderError: ``result_dir/result.json`` is missing or malformed.
    """
    result = read_result(result_dir / "result.json")
    png = render_plot(result_dir, result, result_dir / "power.png", traces=traces)
    summary = result_dir / "summary.txt"
    _write_text(summary, render_summary(result, plot_available=png is not None))
    report = result_dir / "report.html"
    _write_text(report, render_html(result, png))
    written = [summary, *([png] if png is not None else []), report]
    log.info("wrote %s", ", ".join(str(path) for path in written))
    return written
