"""Writer of ``mlperf_log_detail.txt``: one ``:::MLLOG {...}`` JSON line per entry.

Line layout, key order and value encodings follow the official LoadGen (``AsyncLog::LogDetail``):
fields ``key, value, time_ms, namespace, event_type, metadata{is_error, is_warning, file,
line_no, pid, tid}`` with ``", "`` / ``": "`` separators; ``time_ms`` is the time since the log
origin printed as ``<ms>.<6-digit ns remainder>``; doubles use C++ ostream's default format
(``%g``: ``1e+06``, ``0.9``, ``825.461``); booleans ``true``/``false``; integer lists without
spaces. Strings are JSON-escaped (identical to the official output for plain text; the official
writer emits invalid JSON for quotes and newlines, we do not).

Entries are written as they are logged and flushed at each :meth:`DetailLog.flush`, which the
runner calls before and after a pass, never inside it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

DetailValue = str | bool | int | float | list[int] | dict[str, str]


def format_value(value: DetailValue) -> str:
    """Encode ``value`` as the official detail log does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format(value, "g")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(str(int(v)) for v in value) + "]"
    return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in value.items()) + "}"


def format_time_ms(elapsed_ns: int) -> str:
    """Return ``elapsed_ns`` as ``<ms>.<ns remainder, 6 digits>``."""
    elapsed_ns = max(elapsed_ns, 0)
    return f"{elapsed_ns // 1_000_000}.{elapsed_ns % 1_000_000:06d}"


class DetailLog:
    """Appends MLLOG entries to a file (or discards them when ``path`` is None).

    Args:
        path: output file, created or truncated.
        now_ns: monotonic clock; the origin is the time of construction.
        copy_to: a stream that receives a copy of every line (``copy_detail_to_stdout``).
    """

    def __init__(
        self,
        path: Path | None,
        now_ns: Callable[[], int],
        copy_to: TextIO | None = None,
    ) -> None:
        self._now = now_ns
        self._origin = now_ns()
        self._file: TextIO | None = path.open("w", encoding="utf-8") if path else None
        self._copy = copy_to
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self.errors = 0
        self.warnings = 0
        self.path = path

    def log(
        self,
        key: str,
        value: DetailValue,
        *,
        is_error: bool = False,
        is_warning: bool = False,
        time_ns: int | None = None,
    ) -> None:
        """Write one entry stamped now (or at ``time_ns``)."""
        t = self._now() if time_ns is None else time_ns
        caller = sys._getframe(1)
        line = (
            f':::MLLOG {{"key": {json.dumps(key)}, "value": {format_value(value)}, '
            f'"time_ms": {format_time_ms(t - self._origin)}, "namespace": "mlperf::logging", '
            f'"event_type": "POINT_IN_TIME", "metadata": {{"is_error": '
            f'{"true" if is_error else "false"}, "is_warning": '
            f'{"true" if is_warning else "false"}, "file": '
            f"{json.dumps(os.path.basename(caller.f_code.co_filename))}, "
            f'"line_no": {caller.f_lineno}, "pid": {self._pid}, '
            f'"tid": {threading.get_native_id()}}}}}\n'
        )
        with self._lock:
            self.errors += is_error
            self.warnings += is_warning
            if self._file is not None:
                self._file.write(line)
                if is_error:
                    self._file.flush()
            if self._copy is not None:
                self._copy.write(line)

    def error(self, key: str, message: str) -> None:
        """Write an error entry (flushed at once)."""
        self.log(key, message, is_error=True)

    def warning(self, message: str) -> None:
        """Write a ``warning_generic_message`` entry."""
        self.log("warning_generic_message", message, is_warning=True)

    def flush(self) -> None:
        """Flush buffered lines to disk."""
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
