"""Fixtures for the OpenVINO SUT and workload tests: an isolated model cache, a tiny ImageNet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from loadgen.interfaces import QuerySample, QuerySampleResponse

# Dominant colour -> label; the "colour classifier" built in tests predicts the channel with the
# largest mean, so these images have a known top-1 answer.
TINY_IMAGES = [
    ("red_a.png", (300, 400), (200, 40, 40), 0),
    ("green_a.jpg", (375, 500), (40, 200, 40), 1),
    ("blue_a.png", (180, 250), (40, 40, 200), 2),  # smaller than 256: up-sampling path
    ("red_b.jpg", (500, 333), (220, 60, 50), 0),
    ("sub/green_b.png", (256, 256), (50, 210, 60), 1),
    ("blue_b.jpg", (260, 300), (30, 50, 190), 0),  # deliberately mislabelled: 5/6 correct
]


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the workload model cache at a session temp dir (never ~/.cache in tests)."""
    root = tmp_path_factory.mktemp("wattbench-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WATTBENCH_CACHE_DIR", str(root))
        yield root


@pytest.fixture(scope="session")
def tiny_imagenet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write six noisy solid-colour images (PNG and JPEG) and a val_map.txt."""
    image = pytest.importorskip("PIL.Image")
    root = tmp_path_factory.mktemp("tiny-imagenet")
    rng = np.random.default_rng(0)
    lines = []
    for name, (h, w), rgb, label in TINY_IMAGES:
        pixels = np.asarray(rgb, dtype=np.float64) + rng.normal(0, 20, (h, w, 3))
        arr = np.clip(pixels, 0, 255).astype(np.uint8)
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.fromarray(arr).save(path)
        lines.append(f"{name} {label}\n")
    (root / "val_map.txt").write_text("".join(lines), encoding="utf-8")
    return root


class Collector:
    """A thread-safe ``complete`` that records payloads by response id."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.payloads: dict[int, bytes] = {}
        self.duplicates = 0
        self._lock = threading.Lock()
        self._done = threading.Event()

    def __call__(self, responses: object) -> None:
        with self._lock:
            for r in responses:  # type: ignore[attr-defined]
                assert isinstance(r, QuerySampleResponse)
                if r.id in self.payloads:
                    self.duplicates += 1
                self.payloads[r.id] = r.payload()
            if len(self.payloads) >= self.expected:
                self._done.set()

    def wait(self, timeout_s: float = 30.0) -> None:
        assert self._done.wait(timeout_s), f"{len(self.payloads)}/{self.expected} completed"


def run_offline(
    sut: object, qsl: object, indices: list[int] | None = None
) -> list[tuple[int, bytes]]:
    """Issue ``indices`` (default: all) as one query; return ``(index, payload)`` pairs."""
    total = qsl.total_sample_count  # type: ignore[attr-defined]
    indices = list(range(total)) if indices is None else indices
    qsl.load_samples(indices)  # type: ignore[attr-defined]
    samples = [QuerySample(i + 1, index) for i, index in enumerate(indices)]
    done = Collector(len(samples))
    sut.issue_queries(samples, done)  # type: ignore[attr-defined]
    done.wait()
    assert done.duplicates == 0
    return [(s.index, done.payloads[s.id]) for s in samples]


def save_colour_model(path: Path, layout: str = "NCHW", batch: int = -1, size: int = 224) -> Path:
    """Save a classifier whose logits are the per-channel image means (class = dominant colour)."""
    ov = pytest.importorskip("openvino")
    import openvino.opset13 as ops

    from suts.ov_models import save_model_atomic

    shape = [batch, 3, size, size] if layout == "NCHW" else [batch, size, size, 3]
    axes = [2, 3] if layout == "NCHW" else [1, 2]
    x = ops.parameter(shape, ov.Type.f32, name="image")
    logits = ops.reduce_mean(x, ops.constant(np.array(axes, np.int64)), keep_dims=False)
    model = ov.Model([logits], [x], f"colour_{layout.lower()}")
    return save_model_atomic(model, path)
