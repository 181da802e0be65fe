"""Workloads: a sample library, a default model and an accuracy metric, all runnable offline.

Modules:
    base        Workload Protocol, ArrayQsl, AccuracyReport, payload decoding, top-1 scoring
    registry    ``open_workload(spec)``, ``@register_workload``, ``known_workloads()``
    cache       model cache root and atomic cache entries
    digits      scikit-learn digits + an MLP trained on first use (default workload)
    imagenet    MLPerf ResNet50-v1.5-style ImageNet classification (user-provided data + model)
    preprocess  the MLPerf reference image preprocessing in numpy
    synthetic   ``resnet50-synthetic``: ResNet-50-shaped random model, random inputs

Importing this package imports neither scikit-learn nor OpenVINO.
"""

from __future__ import annotations

from suts.workloads.base import AccuracyReport, ArrayQsl, Workload, decode_class
from suts.workloads.registry import (
    DEFAULT_WORKLOAD,
    known_workloads,
    open_workload,
    register_workload,
)

__all__ = [
    "DEFAULT_WORKLOAD",
    "AccuracyReport",
    "ArrayQsl",
    "Workload",
    "decode_class",
    "known_workloads",
    "open_workload",
    "register_workload",
]
