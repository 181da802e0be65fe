"""What a workload is: a sample library with tensors, a default model, and an accuracy metric.

* :class:`Workload` is the Protocol every workload implements.
* :class:`ArrayQsl` is a QuerySampleLibrary whose loaded samples are numpy arrays; SUTs copy
  them into their input tensors with :meth:`ArrayQsl.gather`.
* :class:`AccuracyReport` is the scored result, with the MLPerf closed-division check
  (accuracy >= ``target_fraction`` x the FP32 reference accuracy).
* :func:`decode_class` reads the class out of an accuracy-mode response payload.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from suts.errors import DatasetError

FloatArray = np.ndarray[Any, np.dtype[np.float32]]
CLOSED_DIVISION_FRACTION = 0.99


@dataclass(frozen=True)
class AccuracyReport:
    """A scored accuracy run.

    ``accuracy`` is ``None`` for performance-only workloads. ``passed`` is ``None`` when there is
    no reference to compare with.
    """

    workload: str
    metric: str
    accuracy: float | None
    correct: int
    sample_count: int
    reference_accuracy: float | None = None
    target_fraction: float = CLOSED_DIVISION_FRACTION

    @property
    def target_accuracy(self) -> float | None:
        """Return the accuracy the run must reach, or ``None`` without a reference."""
        if self.reference_accuracy is None:
            return None
        return self.reference_accuracy * self.target_fraction

    @property
    def passed(self) -> bool | None:
        """Return whether ``accuracy`` meets the target (``None``: nothing to check)."""
        target = self.target_accuracy
        if target is None or self.accuracy is None:
            return None
        # 1e-12: a run that reproduces the reference exactly must pass despite rounding
        return self.accuracy >= target - 1e-12

    def summary(self) -> str:
        """Return a one-line human summary."""
        if self.accuracy is None:
            return f"{self.workload}: performance-only workload, no accuracy metric"
        text = (
            f"{self.workload}: {self.metric} = {self.accuracy:.4%} "
            f"({self.correct}/{self.sample_count})"
        )
        target = self.target_accuracy
        if target is not None:
            verdict = "PASS" if self.passed else "FAIL"
            text += (
                f"; target {target:.4%} = {self.target_fraction:.0%} of FP32 reference "
                f"{self.reference_accuracy:.4%}: {verdict}"
            )
        return text


@runtime_checkable
class Workload(Protocol):
    """A model + sample library + accuracy metric, runnable offline."""

    @property
    def name(self) -> str:
        """Return the registry name (``digits``, ``imagenet``, ...)."""
        ...

    def qsl(self) -> ArrayQsl:
        """Return the sample library (cheap: no samples are loaded until LoadGen asks)."""
        ...

    def default_model(self) -> Path:
        """Return the path of the workload's model, building and caching it if needed."""
        ...

    def score(self, results: Iterable[tuple[int, bytes]]) -> AccuracyReport:
        """Score ``(sample index, response payload)`` pairs."""
        ...


class ArrayQsl:
    """A QuerySampleLibrary of numpy samples produced by ``load_one(index)``.

    Args:
        name: QSL name logged by LoadGen.
        total: total sample count.
        performance: performance sample count (how many fit in memory at once).
        sample_shape: shape of one sample (no batch dimension).
        load_one: return sample ``index`` as a float32 array of ``sample_shape``.
        workload: the workload that owns this library (lets ``openvino:@CPU`` find its model).
        layout: ``"NCHW"``/``"NHWC"`` for image samples, else ``None``.
    """

    def __init__(
        self,
        name: str,
        total: int,
        performance: int,
        sample_shape: tuple[int, ...],
        load_one: Callable[[int], FloatArray],
        workload: Workload | None = None,
        layout: str | None = None,
    ) -> None:
        if total < 1:
            raise DatasetError(f"{name}: the data set is empty")
        self.name = name
        self.total_sample_count = total
        self.performance_sample_count = max(1, min(performance, total))
        self.sample_shape = sample_shape
        self.dtype = np.dtype(np.float32)
        self.workload = workload
        self.layout = layout
        self._load_one = load_one
        self._loaded: dict[int, FloatArray] = {}
        self.derived: dict[int, object] = {}
        """Per-sample objects a SUT derives from loaded samples (e.g. input tensors over their
        memory); an entry is dropped when its sample is unloaded."""

    def load_samples(self, indices: Sequence[int]) -> None:
        """Load (and preprocess) ``indices``; errors name the sample."""
        for index in indices:
            if index not in self._loaded:
                if not 0 <= index < self.total_sample_count:
                    raise DatasetError(
                        f"{self.name}: sample index {index} is outside "
                        f"0..{self.total_sample_count - 1}"
                    )
                sample = self._load_one(index)
                if sample.shape != self.sample_shape:
                    raise DatasetError(
                        f"{self.name}: sample {index} has shape {sample.shape}, "
                        f"expected {self.sample_shape}"
                    )
                self._loaded[index] = np.ascontiguousarray(sample, dtype=np.float32)

    def unload_samples(self, indices: Sequence[int]) -> None:
        """Forget ``indices``."""
        for index in indices:
            self._loaded.pop(index, None)
            self.derived.pop(index, None)

    @property
    def loaded_count(self) -> int:
        """Return how many samples are in memory."""
        return len(self._loaded)

    def sample(self, index: int) -> FloatArray:
        """Return loaded sample ``index`` (loading it if needed)."""
        if index not in self._loaded:
            self.load_samples([index])
        return self._loaded[index]

    def gather(self, indices: Sequence[int], out: np.ndarray[Any, Any]) -> None:
        """Copy the loaded samples ``indices`` into ``out[0:len(indices)]``."""
        loaded = self._loaded
        for row, index in enumerate(indices):
            sample = loaded.get(index)
            out[row] = self.sample(index) if sample is None else sample


def decode_class(payload: bytes) -> int:
    """Return the class in a response payload: int32 (4 bytes) or float32 scores (argmax)."""
    if len(payload) == 4:
        return int(np.frombuffer(payload, dtype="<i4")[0])
    if not payload or len(payload) % 4:
        raise ValueError(f"response payload of {len(payload)} bytes is neither int32 nor float32")
    return int(np.argmax(np.frombuffer(payload, dtype="<f4")))


def top1_report(
    workload: str,
    results: Iterable[tuple[int, bytes]],
    labels: Sequence[int] | np.ndarray[Any, Any],
    reference_accuracy: float | None,
    label_offset: int = 0,
) -> AccuracyReport:
    """Score top-1 accuracy of ``results`` against ``labels`` (one result per sample counts)."""
    seen: dict[int, int] = {}
    for index, payload in results:
        seen[index] = decode_class(payload) + label_offset
    correct = sum(1 for index, cls in seen.items() if int(labels[index]) == cls)
    count = len(seen)
    accuracy = correct / count if count else math.nan
    return AccuracyReport(workload, "top1", accuracy, correct, count, reference_accuracy)
