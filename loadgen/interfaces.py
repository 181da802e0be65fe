"""Query, response, SUT and QSL types: the vocabulary shared by LoadGen and systems under test.

A :class:`QuerySample` pairs a response ``id`` (unique per issued sample, never 0) with the QSL
``index`` of the sample. A SUT answers with :class:`QuerySampleResponse` objects passed to the
``complete`` callable it receives with every query (or, in the drop-in API, to the module-level
``QuerySamplesComplete``). Completion may happen inline or from any thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable


class QuerySample:
    """One sample of a query: ``id`` to complete it with, ``index`` into the QSL."""

    __slots__ = ("id", "index")

    def __init__(self, id: int, index: int) -> None:  # official name
        self.id = id
        self.index = index

    def __repr__(self) -> str:
        return f"QuerySample(id={self.id}, index={self.index})"


class QuerySampleResponse:
    """A SUT's answer to one sample.

    ``data`` is either a raw address (``int``, as the official binding takes it, for example
    ``array.ctypes.data``) with ``size`` in bytes, or any bytes-like object (``size`` then
    defaults to its length). LoadGen reads the payload only when it will be logged (accuracy
    mode, or sampled in performance mode), while ``QuerySamplesComplete`` runs.
    """

    __slots__ = ("data", "id", "n_tokens", "size")

    def __init__(
        self,
        id: int,  # official name
        data: int | bytes | bytearray | memoryview | object = 0,
        size: int = -1,
        n_tokens: int = 0,
    ) -> None:
        self.id = id
        self.data = data
        self.size = size
        self.n_tokens = n_tokens

    def payload(self) -> bytes:
        """Return a copy of the response bytes."""
        data = self.data
        if isinstance(data, int):
            if data == 0 or self.size <= 0:
                return b""
            import ctypes  # only for pointer payloads

            return ctypes.string_at(data, self.size)
        raw = memoryview(data).cast("B")  # type: ignore[arg-type]
        return bytes(raw if self.size < 0 else raw[: self.size])

    def __repr__(self) -> str:
        return f"QuerySampleResponse(id={self.id}, size={self.size})"


Complete = Callable[[Sequence[QuerySampleResponse]], None]
"""Callable a SUT uses to report finished samples; thread-safe."""


@runtime_checkable
class SystemUnderTest(Protocol):
    """What LoadGen drives. ``issue_queries`` may block and complete inline, or return and
    complete later from any thread through ``complete``."""

    @property
    def name(self) -> str:
        """Return the SUT name logged as ``sut_name``."""
        ...

    def issue_queries(self, samples: list[QuerySample], complete: Complete) -> None:
        """Start work on ``samples``; report each through ``complete`` exactly once."""
        ...

    def flush_queries(self) -> None:
        """Called once after the last query of a series has been issued."""
        ...


@runtime_checkable
class QuerySampleLibrary(Protocol):
    """The data set: how many samples exist, how many fit in RAM, and load/unload hooks."""

    @property
    def name(self) -> str:
        """Return the QSL name logged as ``qsl_name``."""
        ...

    @property
    def total_sample_count(self) -> int:
        """Return the number of samples in the data set."""
        ...

    @property
    def performance_sample_count(self) -> int:
        """Return how many samples are guaranteed to fit in memory at once."""
        ...

    def load_samples(self, indices: Sequence[int]) -> None:
        """Make ``indices`` ready before timing starts (untimed)."""
        ...

    def unload_samples(self, indices: Sequence[int]) -> None:
        """Release ``indices`` after a run (untimed)."""
        ...
