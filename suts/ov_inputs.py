"""Match a model's input to the samples a QSL provides, before compiling.

:func:`plan_input` decides the batch (static, or ``None`` for a dynamic batch dimension), the
per-sample shape, and what must be adapted inside the model so the SUT can feed float32 samples
as they are: dynamic non-batch dimensions are fixed to the sample shape, another input element
type gets a conversion, and NCHW samples for an NHWC model (or the reverse) get a transpose, all
with OpenVINO's PrePostProcessor (done once in the graph, not per call in Python).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import openvino as ov
from openvino.preprocess import PrePostProcessor

from loadgen.interfaces import QuerySampleLibrary
from suts.errors import ModelError

_TRANSPOSED = {  # (samples layout, model layout) -> model dims as a permutation of sample dims
    ("CHW", "HWC"): (1, 2, 0),
    ("HWC", "CHW"): (2, 0, 1),
}


@dataclass(frozen=True)
class InputPlan:
    """How samples reach the model input.

    ``static_batch`` is ``None`` for a dynamic batch dimension; models without a batch dimension
    have ``has_batch_dim=False`` and ``static_batch=1``.
    """

    name: str
    model_shape: str
    sample_shape: tuple[int, ...]
    has_batch_dim: bool
    static_batch: int | None
    element_type: str
    reshape_to: tuple[int, ...] | None = None
    sample_layout: str | None = None
    model_layout: str | None = None

    def adapt(self, model: Any) -> Any:
        """Return ``model`` with the reshape / type / layout adaptations applied."""
        if self.reshape_to is not None:
            model.reshape({model.input(0): ov.PartialShape(list(self.reshape_to))})
        if self.element_type == "f32" and self.sample_layout is None:
            return model
        ppp = PrePostProcessor(model)
        tensor = ppp.input(0).tensor().set_element_type(ov.Type.f32)
        if self.sample_layout is not None and self.model_layout is not None:
            prefix = "N" if self.has_batch_dim else ""
            tensor.set_layout(ov.Layout(prefix + self.sample_layout))
            ppp.input(0).model().set_layout(ov.Layout(prefix + self.model_layout))
        return ppp.build()

    def describe(self) -> str:
        """Return e.g. ``input[?,64] f32, samples [64], dynamic batch``."""
        batch = "dynamic batch" if self.static_batch is None else f"batch {self.static_batch}"
        samples = list(self.sample_shape)
        text = f"{self.name}{self.model_shape} {self.element_type}, samples {samples}"
        if self.sample_layout:
            text += f" ({self.sample_layout} -> {self.model_layout})"
        return f"{text}, {batch}"


def plan_input(model: Any, qsl: QuerySampleLibrary, where: str) -> InputPlan:
    """Check ``model``'s single input against ``qsl``'s samples and plan the adaptation.

    Raises:
        ModelError: several inputs, a rank or shape that cannot take the samples (the message
            names the model, the input and both shapes).
    """
    inputs = list(model.inputs)
    if len(inputs) != 1:
        names = ", ".join(_name(i) for i in inputs)
        raise ModelError(
            f"model {where} has {len(inputs)} inputs ({names}); "
            "the openvino SUT supports single-input models"
        )
    port = inputs[0]
    name = _name(port)
    pshape = port.get_partial_shape()
    etype = str(port.get_element_type().get_type_name())
    sample = getattr(qsl, "sample_shape", None)
    sample_shape = tuple(int(d) for d in sample) if sample is not None else None

    if pshape.rank.is_dynamic:
        if sample_shape is None:
            raise ModelError(f"model {where}: input {name!r} has a dynamic rank; no shape to use")
        return InputPlan(
            name, str(pshape), sample_shape, True, None, etype, reshape_to=(-1, *sample_shape)
        )
    dims = [d.get_length() if d.is_static else -1 for d in pshape]
    if sample_shape is None:  # random inputs shaped like the model
        has_batch = len(dims) >= 2
        rest = dims[1:] if has_batch else dims
        if any(d < 0 for d in rest):
            raise ModelError(
                f"model {where}: input {name!r} has dynamic dimensions {pshape}; "
                "random inputs need a static shape (use a workload QSL)"
            )
        batch = (dims[0] if dims[0] > 0 else None) if has_batch else 1
        return InputPlan(name, str(pshape), tuple(rest), has_batch, batch, etype)

    if len(dims) == len(sample_shape) + 1:
        has_batch, batch_dim, rest = True, dims[0], dims[1:]
    elif len(dims) == len(sample_shape):
        has_batch, batch_dim, rest = False, 1, dims
    else:
        raise _mismatch(where, name, pshape, qsl, sample_shape)
    static_batch = batch_dim if batch_dim > 0 else None
    if _fits(rest, sample_shape):
        reshape = None
        if any(d < 0 for d in rest):
            reshape = (batch_dim, *sample_shape) if has_batch else sample_shape
        return InputPlan(
            name, str(pshape), sample_shape, has_batch, static_batch, etype, reshape_to=reshape
        )
    for (s_layout, m_layout), perm in _TRANSPOSED.items():
        if len(sample_shape) == 3 and _fits(rest, tuple(sample_shape[p] for p in perm)):
            if sample_shape[0 if s_layout == "CHW" else 2] not in (1, 3, 4):
                continue  # only image-like channel counts make a layout guess safe
            return InputPlan(
                name,
                str(pshape),
                sample_shape,
                has_batch,
                static_batch,
                etype,
                sample_layout=s_layout,
                model_layout=m_layout,
            )
    raise _mismatch(where, name, pshape, qsl, sample_shape)


def _fits(model_dims: list[int], sample_shape: tuple[int, ...]) -> bool:
    return len(model_dims) == len(sample_shape) and all(
        m < 0 or m == s for m, s in zip(model_dims, sample_shape, strict=True)
    )


def _mismatch(
    where: str, name: str, pshape: Any, qsl: QuerySampleLibrary, sample_shape: tuple[int, ...]
) -> ModelError:
    return ModelError(
        f"input shape mismatch: model {where} input {name!r} is {pshape}, but samples of "
        f"{qsl.name} have shape {list(sample_shape)} (plus a batch dimension)"
    )


def _name(port: Any) -> str:
    try:
        return str(port.get_any_name())
    except RuntimeError:
        return "<unnamed>"
