"""``digits``: scikit-learn's bundled 8x8 handwritten digits and a small MLP, fully offline.

Recipe (deterministic): pixels / 16 as float32; stratified split ``test_size=0.25,
random_state=0`` (1347 train / 450 test); ``MLPClassifier(hidden_layer_sizes=(64,),
max_iter=300, random_state=0)`` (about 1 s). The trained weights are rebuilt as an OpenVINO
opset graph (``[-1, 64] -> softmax [-1, 10]``) and cached as IR (see
:mod:`suts.workloads.cache`). The FP32 reference accuracy is scikit-learn's own accuracy on the
held-out split (0.9778 with scikit-learn 1.9), recorded in the cache entry's ``meta.json``.

Spec: ``digits[?split=test|all&cache_dir=DIR]``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from suts.errors import DatasetError, SutSpecError
from suts.spec import SutSpec
from suts.workloads.base import AccuracyReport, ArrayQsl, top1_report
from suts.workloads.cache import cache_root, cached_model
from suts.workloads.registry import check_options, register_workload

RECIPE_VERSION = "1"
SPLITS = ("test", "all")


@dataclass(frozen=True)
class DigitsData:
    """The digits split: float32 pixels in [0, 1] and int labels."""

    x_train: np.ndarray[Any, np.dtype[np.float32]]
    y_train: np.ndarray[Any, np.dtype[np.int64]]
    x_test: np.ndarray[Any, np.dtype[np.float32]]
    y_test: np.ndarray[Any, np.dtype[np.int64]]


def load_digits_split() -> DigitsData:
    """Load scikit-learn's digits and split them the recipe's way."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as e:
        raise DatasetError("the digits workload needs scikit-learn (pip)") from e
    bunch = load_digits()
    x = (np.asarray(bunch.data, dtype=np.float32) / 16.0).astype(np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    return DigitsData(x_tr, y_tr, x_te, y_te)


def train_digits_model(data: DigitsData) -> tuple[Any, dict[str, object]]:
    """Train the recipe's MLP; return ``(ov.Model, metadata)``."""
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from suts.ov_models import build_mlp

    start = time.perf_counter()
    clf = MLPClassifier(hidden_layer_sizes=(64,), max_iter=300, random_state=0)
    with warnings.catch_warnings():
        # the recipe stops at max_iter on purpose; the accuracy is what matters
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(data.x_train, data.y_train)
    train_s = time.perf_counter() - start
    reference = float(clf.score(data.x_test, data.y_test))
    model = build_mlp(clf.coefs_, clf.intercepts_, name="digits_mlp")
    meta: dict[str, object] = {
        "recipe_version": RECIPE_VERSION,
        "sklearn_version": sklearn.__version__,
        "reference_accuracy": reference,
        "train_s": round(train_s, 3),
        "test_samples": len(data.y_test),
    }
    return model, meta


@dataclass
class DigitsWorkload:
    """The ``digits`` workload; see the module docstring."""

    split: str = "test"
    cache_dir: Path | None = None
    name: str = "digits"
    _data: DigitsData | None = field(default=None, repr=False)
    _meta: dict[str, Any] | None = field(default=None, repr=False)

    def data(self) -> DigitsData:
        """Return the (memoised) split."""
        if self._data is None:
            self._data = load_digits_split()
        return self._data

    def _samples(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        d = self.data()
        if self.split == "all":
            return np.concatenate([d.x_train, d.x_test]), np.concatenate([d.y_train, d.y_test])
        return d.x_test, d.y_test

    def qsl(self) -> ArrayQsl:
        """Return the library of held-out images (``split=all``: every image), shape ``[64]``."""
        x, _ = self._samples()
        return ArrayQsl("DigitsQSL", len(x), len(x), (64,), lambda i: x[i], workload=self)

    def model_entry(self) -> tuple[Path, dict[str, Any]]:
        """Return ``(model path, metadata)``, training and caching the model on first use."""
        root = cache_root(self.cache_dir)
        path, meta = cached_model(
            root, f"digits-mlp-v{RECIPE_VERSION}", lambda: train_digits_model(self.data())
        )
        self._meta = meta
        return path, meta

    def default_model(self) -> Path:
        """Return the cached IR of the recipe's MLP."""
        return self.model_entry()[0]

    def reference_accuracy(self) -> float:
        """Return the FP32 reference accuracy (scikit-learn's, on the held-out split)."""
        meta = self._meta if self._meta is not None else self.model_entry()[1]
        return float(meta["reference_accuracy"])

    def score(self, results: Iterable[tuple[int, bytes]]) -> AccuracyReport:
        """Top-1 accuracy; closed-division check against the reference (``split=test`` only)."""
        _, labels = self._samples()
        reference = self.reference_accuracy() if self.split == "test" else None
        return top1_report(self.name, results, labels, reference)


@register_workload("digits")
def _open_digits(spec: SutSpec) -> DigitsWorkload:
    check_options(spec, ("split", "cache_dir"))
    split = spec.options.get("split", "test")
    if split not in SPLITS:
        raise SutSpecError(f"workload {spec.text!r}: split={split!r} is not one of test, all")
    cache = spec.options.get("cache_dir")
    return DigitsWorkload(split=split, cache_dir=Path(cache) if cache else None)
