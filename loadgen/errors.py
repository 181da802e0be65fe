"""Exceptions raised by :mod:`loadgen`.

Tree::

    LoadgenError
    ├── ConfigError          malformed conf file (carries path and line number)
    ├── SettingsError        contradictory or out-of-range TestSettings, found before a run
    ├── SutError             the system under test misbehaved (raised only where a run cannot go on)
    └── LogFormatError       a LoadGen log that cannot be parsed (carries path and line number)
"""

from __future__ import annotations

from pathlib import Path


class LoadgenError(Exception):
    """Base class of every error raised by :mod:`loadgen`."""


class ConfigError(LoadgenError):
    """A conf file (mlperf.conf, user.conf, audit.config) could not be read or parsed.

    Args:
        path: the file at fault.
        line_no: 1-based line number, or 0 when the whole file is at fault.
        reason: what is wrong.
    """

    def __init__(self, path: str | Path, line_no: int, reason: str) -> None:
        self.path = str(path)
        self.line_no = line_no
        self.reason = reason
        where = f"{self.path}:{line_no}" if line_no else self.path
        super().__init__(f"{where}: {reason}")


class SettingsError(LoadgenError):
    """TestSettings are contradictory or out of range; raised before anything is issued."""


class SutError(LoadgenError):
    """The system under test failed in a way that stops the run."""


class LogFormatError(LoadgenError):
    """A LoadGen log file is malformed.

    Args:
        path: the file at fault.
        line_no: 1-based line number, or 0 when the whole file is at fault.
        reason: what is wrong.
    """

    def __init__(self, path: str | Path, line_no: int, reason: str) -> None:
        self.path = str(path)
        self.line_no = line_no
        where = f"{self.path}:{line_no}" if line_no else self.path
        super().__init__(f"{where}: {reason}")
