"""``threads=auto``: pick the CPU inference thread count with the lowest latency by measuring.

OpenVINO's latency hint gives its one stream every physical core. For a model that runs in tens
of microseconds, waking and joining the extra threads costs more than they save: the tiny CNN of
the benchmarks takes a median 33 us at 2 threads and 22 us at 1 on this 2-core machine
(docs/performance.md). With ``threads=auto`` (SingleStream's default on CPU) the SUT compiles the
model at the device default and times a few inferences; when they are short (under
:data:`AUTO_MAX_LATENCY_S`) it also compiles with fewer threads (1, 2, 4, ... below the default),
times every candidate in alternating rounds, and keeps the one with the lowest median unless the
default is within :data:`MIN_GAIN` of it. The trial inferences use a random input shaped like
one query and all happen while the SUT is opened, before LoadGen starts. What was measured is
recorded in the SUT's ``describe()``.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import openvino as ov

log = logging.getLogger(__name__)

#: Models slower than this at the default thread count are not probed further (threads pay off).
AUTO_MAX_LATENCY_S = 1e-3
#: Time spent timing each candidate, split over :data:`ROUNDS` alternating rounds.
PROBE_SECONDS = 0.15
ROUNDS = 3
#: A candidate must beat the default's median by this fraction to be chosen.
MIN_GAIN = 0.05
_WARMUP_RUNS = 10

Compile = Callable[[int | None], Any]
"""Compile the model with ``INFERENCE_NUM_THREADS`` set to the argument (None: device default)."""


@dataclass(frozen=True)
class ThreadChoice:
    """The thread count chosen and the median latency measured for every candidate."""

    threads: int
    default_threads: int
    median_latency_s: dict[int, float]

    def describe(self) -> str:
        """Return e.g. ``1 thread(s): median 23.3 us (device default 2; tried 2: 33.9 us)``."""
        others = ", ".join(
            f"{n}: {s * 1e6:.1f} us"
            for n, s in sorted(self.median_latency_s.items())
            if n != self.threads
        )
        median_us = self.median_latency_s[self.threads] * 1e6
        text = f"{self.threads} thread(s): median {median_us:.1f} us"
        text += f" (device default {self.default_threads}"
        return f"{text}; tried {others})" if others else f"{text})"


def choose_threads(
    compile_model: Compile, query_input: np.ndarray[Any, Any]
) -> tuple[Any, ThreadChoice]:
    """Return the compiled model with the fastest thread count, and what was measured.

    Args:
        compile_model: compiles the model with a given ``INFERENCE_NUM_THREADS``.
        query_input: one inference's input (with its batch axis, if the model has one).
    """
    default = compile_model(None)
    default_threads = int(default.get_property("INFERENCE_NUM_THREADS"))
    timers = {default_threads: _Timer(default, query_input)}
    first = timers[default_threads].run(_WARMUP_RUNS)
    if default_threads <= 1 or first >= AUTO_MAX_LATENCY_S:
        choice = ThreadChoice(default_threads, default_threads, {default_threads: first})
        log.info("threads=auto: keeping %s (median %.1f us)", default_threads, first * 1e6)
        return default, choice
    candidates = [1 << k for k in range(default_threads.bit_length()) if 1 << k < default_threads]
    compiled = {default_threads: default}
    for n in candidates:
        compiled[n] = compile_model(n)
        timers[n] = _Timer(compiled[n], query_input)
        timers[n].run(_WARMUP_RUNS)
    for _ in range(ROUNDS):
        for timer in timers.values():
            timer.run_for(PROBE_SECONDS / ROUNDS)
    medians = {n: timer.median_s() for n, timer in timers.items()}
    best = min(medians, key=lambda n: medians[n])
    if medians[best] > (1 - MIN_GAIN) * medians[default_threads]:
        best = default_threads
    choice = ThreadChoice(best, default_threads, medians)
    log.info("threads=auto: chose %s", choice.describe())
    return compiled[best], choice


class _Timer:
    """Times synchronous inferences of one compiled model on a fixed input."""

    def __init__(self, compiled: Any, query_input: np.ndarray[Any, Any]) -> None:
        self._request = compiled.create_infer_request()
        self._request.set_input_tensor(ov.Tensor(query_input))
        self._samples_s: list[float] = []

    def run(self, runs: int) -> float:
        """Time ``runs`` inferences (not kept); return their median in seconds."""
        infer, now = self._request.infer, time.perf_counter
        times = []
        for _ in range(runs):
            t = now()
            infer()
            times.append(now() - t)
        return statistics.median(times)

    def run_for(self, seconds: float) -> None:
        """Time inferences for about ``seconds`` (at least one) and keep them."""
        infer, now, kept = self._request.infer, time.perf_counter, self._samples_s
        end = now() + seconds
        while True:
            t = now()
            infer()
            done = now()
            kept.append(done - t)
            if done >= end:
                return

    def median_s(self) -> float:
        """Return the median of every kept inference time."""
        return statistics.median(self._samples_s)
