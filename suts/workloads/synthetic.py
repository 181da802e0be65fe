"""``resnet50-synthetic``: a ResNet-50-v1.5-shaped model with random weights and random inputs.

Performance only (realistic CPU load without any download): the model is built in code
(:func:`suts.ov_models.build_resnet50`, about 0.5 s) and cached as IR (102 MB at f32); samples
are seeded random NCHW/NHWC float32 images generated on load. :meth:`score` reports no accuracy.

Spec: ``resnet50-synthetic[?count=1024&performance=64&batch=1&layout=NCHW&seed=0&cache_dir=DIR]``
(``batch=-1``: dynamic batch dimension).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suts.errors import SutSpecError
from suts.spec import SutSpec
from suts.workloads.base import AccuracyReport, ArrayQsl, FloatArray
from suts.workloads.cache import cache_root, cached_model
from suts.workloads.registry import check_options, register_workload

MODEL_VERSION = "1"
IMAGE_PX = 224


@dataclass(frozen=True)
class ResNet50SyntheticWorkload:
    """The ``resnet50-synthetic`` workload; see the module docstring."""

    count: int = 1024
    performance: int = 64
    batch: int = 1
    layout: str = "NCHW"
    seed: int = 0
    cache_dir: Path | None = None
    name: str = "resnet50-synthetic"

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """Return one sample's shape."""
        return (3, IMAGE_PX, IMAGE_PX) if self.layout == "NCHW" else (IMAGE_PX, IMAGE_PX, 3)

    def load(self, index: int) -> FloatArray:
        """Return random sample ``index`` (the same for the same seed and index)."""
        rng = np.random.default_rng((self.seed, index))
        return rng.standard_normal(self.sample_shape, dtype=np.float32)

    def qsl(self) -> ArrayQsl:
        """Return the library of random images."""
        return ArrayQsl(
            "ResNet50SyntheticQSL",
            self.count,
            self.performance,
            self.sample_shape,
            self.load,
            workload=self,
            layout=self.layout,
        )

    def default_model(self) -> Path:
        """Return the cached random-weight ResNet-50 IR, building it on first use."""
        key = f"resnet50-synthetic-v{MODEL_VERSION}-b{self.batch}-{self.layout}-s{self.seed}"
        return cached_model(cache_root(self.cache_dir), key, self._build)[0]

    def _build(self) -> tuple[Any, dict[str, object]]:
        from suts.ov_models import Layout, build_resnet50

        layout: Layout = "NCHW" if self.layout == "NCHW" else "NHWC"
        model = build_resnet50(batch=self.batch, layout=layout, seed=self.seed)
        return model, {"model_version": MODEL_VERSION, "batch": self.batch, "seed": self.seed}

    def score(self, results: Iterable[tuple[int, bytes]]) -> AccuracyReport:
        """Count the results; there is no accuracy metric."""
        count = len({index for index, _ in results})
        return AccuracyReport(self.name, "none", None, 0, count)


@register_workload("resnet50-synthetic")
def _open_synthetic(spec: SutSpec) -> ResNet50SyntheticWorkload:
    check_options(spec, ("count", "performance", "batch", "layout", "seed", "cache_dir"))
    count = spec.option_int("count", 1024)
    performance = spec.option_int("performance", 64)
    batch = spec.option_int("batch", 1)
    layout = spec.options.get("layout", "NCHW").upper()
    if count < 1 or performance < 1:
        raise SutSpecError(f"workload {spec.text!r}: count and performance must be >= 1")
    if batch == 0 or batch < -1:
        raise SutSpecError(f"workload {spec.text!r}: batch={batch} must be >= 1 or -1 (dynamic)")
    if layout not in ("NCHW", "NHWC"):
        raise SutSpecError(f"workload {spec.text!r}: layout={layout!r} is not NCHW or NHWC")
    cache = spec.options.get("cache_dir")
    return ResNet50SyntheticWorkload(
        count=count,
        performance=min(performance, count),
        batch=batch,
        layout=layout,
        seed=spec.option_int("seed", 0),
        cache_dir=Path(cache).expanduser() if cache else None,
    )
