"""Null systems under test: no compute, for LoadGen overhead runs, CI and meter-only sessions.

``null`` completes every sample inline inside ``issue_queries``; ``null?work_us=N`` first
busy-waits N microseconds per sample (a CPU-bound stand-in for inference: it loads one core, so
a meter that follows the CPU load sees the run, and LoadGen runs have a realistic duration).
``null-threaded?workers=N`` hands queries to N worker threads that complete them, exercising
cross-thread completion.
Both answer with an 8-byte payload holding the sample index (little-endian), so accuracy-mode
logs carry real data.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence

from loadgen.interfaces import Complete, QuerySample, QuerySampleLibrary, QuerySampleResponse
from suts.registry import register_sut
from suts.spec import SutSpec


class NullSut:
    """Completes each query inline, with the sample index as an 8-byte payload.

    Args:
        work_ns: busy-wait this long per sample before completing (0: none).
    """

    name = "NullSUT"

    def __init__(self, work_ns: int = 0) -> None:
        self.work_ns = work_ns

    def issue_queries(self, samples: list[QuerySample], complete: Complete) -> None:
        """Complete ``samples`` (after ``work_ns`` of busy-waiting per sample)."""
        if self.work_ns:
            deadline = time.perf_counter_ns() + self.work_ns * len(samples)
            while time.perf_counter_ns() < deadline:
                pass
        complete([QuerySampleResponse(s.id, s.index.to_bytes(8, "little")) for s in samples])

    def flush_queries(self) -> None:
        """Nothing is queued."""


class ThreadedNullSut:
    """Completes queries from ``workers`` background threads.

    Call :meth:`close` (or use as a context manager) to stop the workers.
    """

    name = "ThreadedNullSUT"

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._queue: queue.SimpleQueue[tuple[list[QuerySample], Complete] | None] = (
            queue.SimpleQueue()
        )
        self._threads = [
            threading.Thread(target=self._work, name=f"null-sut-{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            samples, complete = item
            complete([QuerySampleResponse(s.id, s.index.to_bytes(8, "little")) for s in samples])

    def issue_queries(self, samples: list[QuerySample], complete: Complete) -> None:
        """Queue ``samples`` for a worker."""
        self._queue.put((samples, complete))

    def flush_queries(self) -> None:
        """Workers drain the queue by themselves."""

    def close(self) -> None:
        """Stop the worker threads."""
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join()

    def __enter__(self) -> ThreadedNullSut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SyntheticQsl:
    """A QSL of ``total`` synthetic samples with nothing to load.

    Args:
        total: total sample count.
        performance: performance sample count (defaults to ``min(total, 1024)``).
    """

    name = "SyntheticQSL"

    def __init__(self, total: int = 1024, performance: int | None = None) -> None:
        if total < 1:
            raise ValueError(f"total sample count must be >= 1, got {total}")
        self.total_sample_count = total
        self.performance_sample_count = min(total, 1024) if performance is None else performance
        self.loaded: list[int] = []

    def load_samples(self, indices: Sequence[int]) -> None:
        """Record what was loaded."""
        self.loaded = list(indices)

    def unload_samples(self, indices: Sequence[int]) -> None:
        """Forget what was loaded."""
        self.loaded = []


@register_sut("null")
def _open_null(spec: SutSpec, qsl: QuerySampleLibrary) -> NullSut:
    work_us = spec.option_int("work_us", 0)
    if work_us < 0:
        raise ValueError(f"null SUT: work_us must be >= 0, got {work_us}")
    return NullSut(work_ns=work_us * 1000)


@register_sut("null-threaded")
def _open_threaded(spec: SutSpec, qsl: QuerySampleLibrary) -> ThreadedNullSut:
    return ThreadedNullSut(workers=spec.option_int("workers", 2))
