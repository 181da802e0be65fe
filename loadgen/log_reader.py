"""Read LoadGen detail logs: ours and the official LoadGen's.

``MLLOG`` lines are parsed as MLCommons' ``tools/submission/log_parser.py`` does
(``json.loads`` of the text after ``:::MLLOG``); ``log[key]`` returns the **first** occurrence,
like ``MLPerfLog.__getitem__``. Keys that repeat (``power_begin``/``power_end`` once per pass,
``generic_message``) are available in order through :meth:`DetailLogReader.all`, and
:meth:`DetailLogReader.power_windows` pairs them so callers choose the pass they mean.

The official writer does not escape strings, so a value holding a quote or newline makes a
line invalid JSON; such lines are kept as raw text and reported in :attr:`bad_lines` rather
than failing the whole file.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadgen.errors import LogFormatError

_MARKER = ":::MLLOG"


def parse_power_timestamp(text: str) -> int:
    """Parse ``MM-DD-YYYY HH:MM:SS.mmm`` (UTC) into ns since the epoch."""
    t = dt.datetime.strptime(text, "%m-%d-%Y %H:%M:%S.%f").replace(tzinfo=dt.timezone.utc)
    return (int(t.timestamp()) * 1_000_000 + t.microsecond) * 1000


@dataclass(frozen=True)
class LogEntry:
    """One detail-log entry."""

    key: str
    value: Any
    time_ms: float
    is_error: bool
    is_warning: bool
    line_no: int


@dataclass(frozen=True)
class PowerWindowEntry:
    """One ``power_begin``/``power_end`` pair, in ns since the epoch (UTC)."""

    begin_ns: int
    end_ns: int
    begin_text: str
    end_text: str


class DetailLogReader:
    """Parsed ``mlperf_log_detail.txt``.

    Args:
        path: the detail log.

    Raises:
        LogFormatError: the file has no MLLOG entries at all, naming the path.
        FileNotFoundError: the file does not exist.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.entries: list[LogEntry] = []
        self.bad_lines: list[int] = []
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for no, line in enumerate(f, start=1):
                if not line.startswith(_MARKER):
                    continue
                try:
                    obj = json.loads(line[len(_MARKER) :])
                    meta = obj.get("metadata", {})
                    self.entries.append(
                        LogEntry(
                            key=str(obj["key"]),
                            value=obj["value"],
                            time_ms=float(obj.get("time_ms", 0.0)),
                            is_error=bool(meta.get("is_error", False)),
                            is_warning=bool(meta.get("is_warning", False)),
                            line_no=no,
                        )
                    )
                except (ValueError, KeyError, TypeError, AttributeError):
                    self.bad_lines.append(no)
        if not self.entries:
            raise LogFormatError(self.path, 0, "no ':::MLLOG' entries found; not a detail log")
        self._first: dict[str, LogEntry] = {}
        for e in self.entries:
            self._first.setdefault(e.key, e)

    def __contains__(self, key: str) -> bool:
        return key in self._first

    def __getitem__(self, key: str) -> Any:
        """Return the value of the first entry with ``key``."""
        try:
            return self._first[key].value
        except KeyError:
            raise KeyError(f"{self.path}: no entry {key!r}") from None

    def get(self, key: str, default: Any = None) -> Any:
        """Return the first value of ``key`` or ``default``."""
        e = self._first.get(key)
        return default if e is None else e.value

    def all(self, key: str) -> list[Any]:
        """Return every value logged under ``key``, in file order."""
        return [e.value for e in self.entries if e.key == key]

    def key_sequence(self) -> list[str]:
        """Return the keys in file order, repeats included."""
        return [e.key for e in self.entries]

    @property
    def errors(self) -> list[LogEntry]:
        """Return the entries flagged ``is_error``."""
        return [e for e in self.entries if e.is_error]

    def power_windows(self) -> list[PowerWindowEntry]:
        """Return every ``power_begin``/``power_end`` pair in order.

        Raises:
            LogFormatError: a begin without its end (or the reverse), naming the line.
        """
        pairs: list[PowerWindowEntry] = []
        begin: LogEntry | None = None
        for e in self.entries:
            if e.key == "power_begin":
                if begin is not None:
                    raise LogFormatError(self.path, e.line_no, "power_begin without power_end")
                begin = e
            elif e.key == "power_end":
                if begin is None:
                    raise LogFormatError(self.path, e.line_no, "power_end without power_begin")
                try:
                    pairs.append(
                        PowerWindowEntry(
                            parse_power_timestamp(str(begin.value)),
                            parse_power_timestamp(str(e.value)),
                            str(begin.value),
                            str(e.value),
                        )
                    )
                except ValueError as err:
                    raise LogFormatError(
                        self.path, e.line_no, f"bad power timestamp: {err}"
                    ) from None
                begin = None
        if begin is not None:
            raise LogFormatError(self.path, begin.line_no, "power_begin without power_end")
        return pairs

    def performance_window(self) -> PowerWindowEntry:
        """Return the window of the performance pass (the last pair of the log).

        In SubmissionRun the accuracy pass comes first and performance last; in performance
        runs there is one pair.
        """
        windows = self.power_windows()
        if not windows:
            raise LogFormatError(self.path, 0, "no power_begin/power_end entries")
        return windows[-1]
