"""Models built in code with the OpenVINO opset API, and the atomic IR writer.

Backend module: imports openvino at import time, so only import it where OpenVINO is needed.

* :func:`build_mlp` rebuilds a trained dense network (``matmul/add/relu ... softmax``).
* :func:`build_resnet50` is the ResNet-50 v1.5 topology (bottlenecks 3-4-6-3, stride on the 3x3
  conv) with random He-initialised weights and folded-BN biases: realistic CPU load, no accuracy.
* :func:`build_tiny_cnn` is a two-conv network for overhead measurements.
* :func:`save_model_atomic` writes ``.xml`` + ``.bin`` so a reader never sees half a model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import openvino as ov
import openvino.opset13 as ops

Layout = Literal["NCHW", "NHWC"]
RESNET50_BLOCKS = (3, 4, 6, 3)


def _const(array: np.ndarray[Any, Any]) -> Any:
    return ops.constant(np.ascontiguousarray(array, dtype=np.float32))


def _name_output(node: Any, name: str) -> Any:
    node.output(0).get_tensor().set_names({name})
    return node


def build_mlp(
    weights: Sequence[np.ndarray[Any, Any]],
    biases: Sequence[np.ndarray[Any, Any]],
    name: str = "mlp",
    input_name: str = "input",
) -> Any:
    """Return an ``ov.Model`` computing ``softmax(relu(...relu(x W0 + b0)...) Wn + bn)``.

    The batch dimension is dynamic (``[-1, n_features]``); the output is named ``probs``.
    """
    if len(weights) != len(biases) or not weights:
        raise ValueError("build_mlp needs one bias per weight matrix and at least one layer")
    x = ops.parameter([-1, int(weights[0].shape[0])], ov.Type.f32, name=input_name)
    y: Any = x
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        y = ops.add(ops.matmul(y, _const(w), False, False), _const(np.reshape(b, (1, -1))))
        if i < len(weights) - 1:
            y = ops.relu(y)
    probs = _name_output(ops.softmax(y, 1), "probs")
    return ov.Model([probs], [x], name)


class _Init:
    """He-initialised random weights from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def conv_weight(self, cout: int, cin: int, k: int) -> Any:
        std = np.sqrt(2.0 / (cin * k * k))
        return _const(self.rng.standard_normal((cout, cin, k, k), dtype=np.float32) * std)

    def dense(self, n_in: int, n_out: int) -> Any:
        std = np.sqrt(2.0 / n_in)
        return _const(self.rng.standard_normal((n_in, n_out), dtype=np.float32) * std)


def _conv(init: _Init, x: Any, cin: int, cout: int, k: int, stride: int, relu: bool) -> Any:
    pad = k // 2
    y = ops.convolution(
        x, init.conv_weight(cout, cin, k), [stride, stride], [pad, pad], [pad, pad], [1, 1]
    )
    # folded batch-norm: per-channel bias (kept small so activations stay finite through 50 layers)
    y = ops.add(y, _const(init.rng.standard_normal((1, cout, 1, 1)).astype(np.float32) * 0.01))
    return ops.relu(y) if relu else y


def _bottleneck(init: _Init, x: Any, cin: int, width: int, stride: int) -> Any:
    cout = width * 4
    y = _conv(init, x, cin, width, 1, 1, True)
    y = _conv(init, y, width, width, 3, stride, True)  # v1.5: stride on the 3x3
    y = _conv(init, y, width, cout, 1, 1, False)
    # scale the residual branch so the random network's activations do not blow up
    y = ops.multiply(y, _const(np.array(0.2, np.float32)))
    shortcut = x if (cin == cout and stride == 1) else _conv(init, x, cin, cout, 1, stride, False)
    return ops.relu(ops.add(y, shortcut))


def _image_input(batch: int, size: int, layout: Layout, name: str) -> tuple[Any, Any]:
    if layout == "NCHW":
        x = ops.parameter([batch, 3, size, size], ov.Type.f32, name=name)
        return x, x
    x = ops.parameter([batch, size, size, 3], ov.Type.f32, name=name)
    return x, ops.transpose(x, _const_i64([0, 3, 1, 2]))


def _const_i64(values: Sequence[int]) -> Any:
    return ops.constant(np.array(values, dtype=np.int64))


def build_resnet50(
    batch: int = 1,
    layout: Layout = "NCHW",
    classes: int = 1000,
    seed: int = 0,
    size: int = 224,
    blocks: Sequence[int] = RESNET50_BLOCKS,
) -> Any:
    """Return a ResNet-50-v1.5-shaped ``ov.Model`` with random weights (output ``logits``).

    ``batch=-1`` makes the batch dimension dynamic. ``blocks`` shrinks the network for tests.
    """
    init = _Init(seed)
    x, y = _image_input(batch, size, layout, "input")
    y = _conv(init, y, 3, 64, 7, 2, True)
    y = ops.max_pool(y, [2, 2], [1, 1], [1, 1], [1, 1], [3, 3]).output(0)
    cin = 64
    for stage, count in enumerate(blocks):
        width = 64 * 2**stage
        for i in range(count):
            stride = 2 if (i == 0 and stage > 0) else 1
            y = _bottleneck(init, y, cin, width, stride)
            cin = width * 4
    y = ops.reduce_mean(y, _const_i64([2, 3]), keep_dims=False)
    y = ops.matmul(y, init.dense(cin, classes), False, False)
    y = ops.add(y, _const(np.zeros((1, classes))))
    return ov.Model([_name_output(y, "logits")], [x], "resnet50_v1.5_random")


def build_tiny_cnn(batch: int = 1, size: int = 32, classes: int = 10, seed: int = 0) -> Any:
    """Return a two-conv CNN on ``[batch, 3, size, size]`` (output ``logits``); overhead tests."""
    init = _Init(seed)
    x = ops.parameter([batch, 3, size, size], ov.Type.f32, name="input")
    y = _conv(init, x, 3, 16, 3, 1, True)
    y = ops.max_pool(y, [2, 2], [1, 1], [0, 0], [0, 0], [2, 2]).output(0)
    y = _conv(init, y, 16, 32, 3, 1, True)
    y = ops.reduce_mean(y, _const_i64([2, 3]), keep_dims=False)
    y = ops.matmul(y, init.dense(32, classes), False, False)
    y = ops.add(y, _const(np.zeros((1, classes))))
    return ov.Model([_name_output(y, "logits")], [x], "tiny_cnn")


def save_model_atomic(
    model: Any, xml_path: Path, extra_files: Mapping[str, str] | None = None
) -> Path:
    """Save ``model`` as IR at ``xml_path`` (+ ``.bin``, + ``extra_files``) atomically.

    ``xml_path`` must lie in a directory of its own (``.../<key>/model.xml``): everything is
    written into a fresh sibling directory that is then renamed to ``<key>``, so the directory
    appears complete or not at all. If another process won the race, its copy is kept. Weights
    are stored at full precision (``compress_to_fp16=False``). Returns ``xml_path``.
    """
    final_dir = xml_path.parent
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}.", dir=final_dir.parent))
    try:
        tmp_dir.chmod(0o755)  # mkdtemp makes it 0o700
        ov.save_model(model, str(tmp_dir / xml_path.name), compress_to_fp16=False)
        for name, text in (extra_files or {}).items():
            (tmp_dir / name).write_text(text, encoding="utf-8")
        try:
            os.rename(tmp_dir, final_dir)
        except OSError:
            if not (final_dir / xml_path.name).is_file():
                raise
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return xml_path
