"""``imagenet``: MLPerf ResNet50-v1.5-style image classification on a user-provided ImageNet.

Layout (as the MLPerf reference expects): a directory of validation images and a
``val_map.txt`` with one ``<relative image path> <label>`` per line (labels 0..999).

Spec: ``imagenet:DATA_DIR?key=value&...``

============== ========================================================= ==================
key            meaning                                                   default
============== ========================================================= ==================
val_map        the label file                                            DATA_DIR/val_map.txt
count          use only the first N entries (quick runs)                 all
reference      FP32 reference top-1 accuracy for the closed-division     0.76456 (MLPerf
               check (pass: accuracy >= 99 % of it)                      ResNet50-v1.5)
preset         ``mlperf`` (mean subtraction only) or ``torchvision``     mlperf
               (mean/std on 0..255 pixels)
mean, std      three comma-separated RGB values (override the preset)
layout         sample layout, NCHW or NHWC (the SUT adapts the model)    NCHW
label_offset   added to predicted classes (-1 for 1001-class models)     0
model          model file used by ``openvino:@DEVICE``                   none
performance    performance sample count                                  min(total, 1024)
============== ========================================================= ==================

Every listed image must exist when the workload is opened; a corrupt image fails when it is
loaded. Both errors name the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from suts.errors import DatasetError, ModelError, SutSpecError
from suts.spec import SutSpec
from suts.workloads.base import AccuracyReport, ArrayQsl, FloatArray, top1_report
from suts.workloads.preprocess import (
    MLPERF_MEAN_RGB,
    TORCHVISION_MEAN_RGB,
    TORCHVISION_STD_RGB,
    ImagePreprocessing,
    load_rgb,
)
from suts.workloads.registry import check_options, register_workload

MLPERF_RESNET50_FP32_TOP1 = 0.76456
PRESETS = {
    "mlperf": (MLPERF_MEAN_RGB, (1.0, 1.0, 1.0)),
    "torchvision": (TORCHVISION_MEAN_RGB, TORCHVISION_STD_RGB),
}
OPTIONS = (
    "val_map",
    "count",
    "reference",
    "preset",
    "mean",
    "std",
    "layout",
    "label_offset",
    "model",
    "performance",
)
MAX_PERFORMANCE_SAMPLES = 1024


def read_val_map(path: Path, data_dir: Path, count: int | None = None) -> list[tuple[Path, int]]:
    """Parse ``val_map.txt`` into ``(image path, label)`` pairs and check the images exist.

    Raises:
        DatasetError: a missing file, a malformed line (names the line), or missing images.
    """
    if not path.is_file():
        raise DatasetError(f"ImageNet label file {path} does not exist")
    entries: list[tuple[Path, int]] = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if count is not None and len(entries) >= count:
                break
            if not line.strip():
                continue
            name, _, label = line.strip().rpartition(" ")
            if not name or not label.lstrip("-").isdigit():
                raise DatasetError(
                    f"{path} line {lineno}: expected '<image> <label>', got {line!r}"
                )
            entries.append((data_dir / name.strip(), int(label)))
    if not entries:
        raise DatasetError(f"ImageNet label file {path} lists no images")
    missing = [str(p) for p, _ in entries if not p.is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise DatasetError(f"{len(missing)} image(s) listed in {path} do not exist: {shown}")
    return entries


@dataclass
class ImageNetWorkload:
    """The ``imagenet`` workload; see the module docstring."""

    data_dir: Path
    val_map: Path | None = None
    count: int | None = None
    reference_accuracy: float = MLPERF_RESNET50_FP32_TOP1
    preprocessing: ImagePreprocessing = field(default_factory=ImagePreprocessing)
    label_offset: int = 0
    model: Path | None = None
    performance: int | None = None
    name: str = "imagenet"
    entries: list[tuple[Path, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.data_dir.is_dir():
            raise DatasetError(f"ImageNet directory {self.data_dir} does not exist")
        val_map = self.val_map or self.data_dir / "val_map.txt"
        self.entries = read_val_map(val_map, self.data_dir, self.count)

    def load(self, index: int) -> FloatArray:
        """Decode and preprocess image ``index``."""
        return self.preprocessing(load_rgb(self.entries[index][0]))

    def qsl(self) -> ArrayQsl:
        """Return the library of preprocessed images (decoded when LoadGen loads them)."""
        total = len(self.entries)
        performance = self.performance or min(total, MAX_PERFORMANCE_SAMPLES)
        return ArrayQsl(
            "ImageNetQSL",
            total,
            performance,
            self.preprocessing.sample_shape,
            self.load,
            workload=self,
            layout=self.preprocessing.layout,
        )

    def default_model(self) -> Path:
        """Return the ``model=`` file; ImageNet has no built-in model."""
        if self.model is None:
            raise ModelError(
                "the imagenet workload has no built-in model: give one in the SUT spec "
                "(openvino:resnet50_v1.onnx@CPU) or as imagenet:DIR?model=PATH"
            )
        return self.model

    def score(self, results: Iterable[tuple[int, bytes]]) -> AccuracyReport:
        """Top-1 accuracy and the closed-division check against ``reference_accuracy``."""
        labels = np.array([label for _, label in self.entries], dtype=np.int64)
        return top1_report(self.name, results, labels, self.reference_accuracy, self.label_offset)


def _floats3(spec: SutSpec, key: str) -> tuple[float, float, float] | None:
    raw = spec.options.get(key)
    if raw is None:
        return None
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError:
        values = ()
    if len(values) != 3:
        raise SutSpecError(f"workload {spec.text!r}: {key}={raw!r} must be three numbers (R,G,B)")
    return (values[0], values[1], values[2])


def _number(spec: SutSpec, key: str) -> float | None:
    raw = spec.options.get(key)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        raise SutSpecError(f"workload {spec.text!r}: {key}={raw!r} is not a number") from None


@register_workload("imagenet")
def _open_imagenet(spec: SutSpec) -> ImageNetWorkload:
    check_options(spec, OPTIONS, allow_target=True)
    if not spec.target:
        raise SutSpecError(f"workload {spec.text!r}: give the data directory, imagenet:DIR")
    preset = spec.options.get("preset", "mlperf")
    if preset not in PRESETS:
        raise SutSpecError(
            f"workload {spec.text!r}: preset={preset!r} is not one of mlperf, torchvision"
        )
    mean, std = PRESETS[preset]
    layout = spec.options.get("layout", "NCHW").upper()
    if layout not in ("NCHW", "NHWC"):
        raise SutSpecError(f"workload {spec.text!r}: layout={layout!r} is not NCHW or NHWC")
    reference = _number(spec, "reference")
    if reference is not None and not 0.0 < reference <= 1.0:
        raise SutSpecError(f"workload {spec.text!r}: reference={reference} must be in (0, 1]")
    count = spec.option_int("count", 0) or None
    performance = spec.option_int("performance", 0) or None
    for key, value in (("count", count), ("performance", performance)):
        if value is not None and value < 0:
            raise SutSpecError(f"workload {spec.text!r}: {key}={value} must be >= 1")
    val_map = spec.options.get("val_map")
    model = spec.options.get("model")
    return ImageNetWorkload(
        data_dir=Path(spec.target).expanduser(),
        val_map=Path(val_map).expanduser() if val_map else None,
        count=count,
        reference_accuracy=MLPERF_RESNET50_FP32_TOP1 if reference is None else reference,
        preprocessing=ImagePreprocessing(
            mean_rgb=_floats3(spec, "mean") or mean,
            std_rgb=_floats3(spec, "std") or std,
            layout=layout,
        ),
        label_offset=spec.option_int("label_offset", 0),
        model=Path(model).expanduser() if model else None,
        performance=performance,
    )
