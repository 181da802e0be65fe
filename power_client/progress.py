"""Progress lines while a phase runs: elapsed time, queries issued and completed.

On a terminal one status line is rewritten in place (at most ~4 times a second); elsewhere (CI,
a pipe, a log file) a plain line is printed every ``interval_s`` seconds, so long runs show
they are alive without flooding the log.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["TerminalProgress"]


class TerminalProgress:
    """A progress sink: call it with ``(phase, issued, completed, elapsed_s)``.

    ``issued``/``completed`` are None for workloads that cannot report them (commands).

    Args:
        stream: where to write (default stderr).
        interval_s: seconds between lines when ``stream`` is not a terminal.
        clock: monotonic seconds (injectable for tests).
        expected_s: the phase's expected duration, for a percentage (None: none shown).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        expected_s: float | None = None,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._interval_s = interval_s if not self._tty else 0.25
        self._clock = clock
        self._expected_s = expected_s
        self._last_shown = -1e9
        self._phase: str | None = None
        self._open_line = False

    def __call__(
        self, phase: str, issued: int | None, completed: int | None, elapsed_s: float
    ) -> None:
        now = self._clock()
        new_phase = phase != self._phase
        if not new_phase and now - self._last_shown < self._interval_s:
            return
        if new_phase:
            self.finish()
            self._phase = phase
        self._last_shown = now
        share = ""
        if self._expected_s:
            share = f" ({min(elapsed_s / self._expected_s, 1.0) * 100:3.0f} %)"
        text = f"{phase:>8}: {elapsed_s:7.1f} s{share}"
        if issued is not None and completed is not None:
            text += f"  queries issued {issued:>9,}  completed {completed:>9,}"
        if self._tty:
            self._stream.write("\r" + text)
            self._open_line = True
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def finish(self) -> None:
        """End the in-place line (call when the phase is over)."""
        if self._open_line:
            self._stream.write("\n")
            self._stream.flush()
            self._open_line = False
