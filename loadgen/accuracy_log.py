"""Writer of ``mlperf_log_accuracy.json`` in the official layout.

``[`` newline, entries ``{ "seq_id" : 0, "qsl_idx" : 216, "data" : "D800..." }`` joined by
``,\\n``, then ``\\n]\\n``; an empty log is ``[\\n]\\n``. ``data`` is the response bytes as
upper-case hex. ``seq_id`` is the global sample sequence number across passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO


class AccuracyLog:
    """Streams accuracy entries to ``path`` (nothing is kept in memory)."""

    def __init__(self, path: Path | None) -> None:
        self._file: TextIO | None = path.open("w", encoding="ascii") if path else None
        self._count = 0
        if self._file is not None:
            self._file.write("[\n")

    @property
    def count(self) -> int:
        """Return the number of entries written."""
        return self._count

    def add(self, seq_id: int, qsl_idx: int, data: bytes) -> None:
        """Append one entry."""
        if self._file is not None:
            sep = ",\n" if self._count else ""
            self._file.write(
                f'{sep}{{ "seq_id" : {seq_id}, "qsl_idx" : {qsl_idx}, '
                f'"data" : "{data.hex().upper()}" }}'
            )
        self._count += 1

    def flush(self) -> None:
        """Flush what was written so far."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        """Write the closing bracket and close the file."""
        if self._file is not None:
            self._file.write("\n]\n" if self._count else "]\n")
            self._file.close()
            self._file = None
