"""OpenVINO SUT configuration: parse ``openvino:MODEL@DEVICE?key=value&...`` into a value type.

Pure: nothing here imports openvino, so spec errors are reported without it.

Target grammar::

    openvino:models/resnet50.xml@CPU            a model file OpenVINO reads (IR, ONNX, TFLite, ...)
    openvino:digits@CPU                         the default model of workload ``digits``
    openvino:@CPU      /  openvino:             the default model of the workload whose QSL is used
    openvino:m.onnx@AUTO:GPU,CPU?hint=throughput&nireq=4&precision=f32&streams=2&cache_dir=/tmp/c

The device follows the *last* ``@`` (default ``CPU``). A model part without a path separator and
without a file suffix is a workload name; anything else is a path.

Options (all optional):

========== ===================================================== ==========================
key        meaning                                               values
========== ===================================================== ==========================
hint       ``PERFORMANCE_HINT``; default throughput as in        throughput, latency,
           benchmark_app (latency for SingleStream, see          cumulative_throughput, none
           SCENARIO_DEFAULTS); ``none``: the device default
nireq      infer requests in the AsyncInferQueue                 int >= 1 (default: the
                                                                 compiled model's optimum,
                                                                 at least 16)
streams    ``NUM_STREAMS``                                       int >= 1 or ``auto``
threads    ``INFERENCE_NUM_THREADS``; ``auto`` measures which    int >= 1 or ``auto``
           count is fastest (CPU, see suts.ov_threads)           (SingleStream: ``auto``)
precision  ``INFERENCE_PRECISION_HINT``                          f32, bf16, f16
cache_dir  ``CACHE_DIR`` (compiled-blob cache)                   directory
batch      samples per inference for dynamic-batch models        int >= 1 (default 8)
api        ``async`` (AsyncInferQueue) or ``sync`` (infer inline ``async`` (default;
           in ``issue_queries``; SingleStream only)              ``sync`` for SingleStream)
response   accuracy payload: ``argmax`` (int32 class) or ``raw`` argmax, raw
           (the output row, float32)
========== ===================================================== ==========================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from suts.errors import SutSpecError
from suts.spec import SutSpec, with_defaults

Hint = Literal["throughput", "latency", "cumulative_throughput", "none"]
Precision = Literal["f32", "bf16", "f16"]
Api = Literal["async", "sync"]
ResponseKind = Literal["argmax", "raw"]

HINTS: tuple[Hint, ...] = ("throughput", "latency", "cumulative_throughput", "none")
PRECISIONS: tuple[Precision, ...] = ("f32", "bf16", "f16")
APIS: tuple[Api, ...] = ("async", "sync")
RESPONSE_KINDS: tuple[ResponseKind, ...] = ("argmax", "raw")
KNOWN_OPTIONS = (
    "api",
    "batch",
    "cache_dir",
    "hint",
    "nireq",
    "precision",
    "response",
    "streams",
    "threads",
)
DEFAULT_DYNAMIC_BATCH = 8
#: Fewest requests in the AsyncInferQueue when ``nireq`` is not given. The Python callback that
#: completes a request keeps it idle for tens of microseconds; with only the device's optimum
#: (2 on a 2-core CPU) small models starve: tiny CNN Offline 9.5k samples/s at 2 requests,
#: 17k at 16, benchmark_app 16.6k (docs/performance.md). Spare requests wait in the device's
#: queue and cost only their input/output buffers.
MIN_ASYNC_REQUESTS = 16
#: Options a scenario implies unless the spec sets them (:func:`suts.registry.spec_for_scenario`):
#: SingleStream runs one sample at a time, so it takes the latency configuration, infers inline
#: in ``issue_queries`` (no thread hop per query) and measures the fastest thread count.
SCENARIO_DEFAULTS: dict[str, dict[str, str]] = {
    "SingleStream": {"hint": "latency", "api": "sync", "threads": "auto"},
}
MODEL_SUFFIXES = (".xml", ".onnx", ".tflite", ".pdmodel", ".pb", ".pt", ".pth", ".savedmodel")


@dataclass(frozen=True)
class OpenVinoConfig:
    """Everything an OpenVINO SUT needs to know from its spec string.

    ``model`` is a file path, or ``None`` when the model comes from a workload: ``workload`` then
    names it (``None``: the workload of the QSL the SUT is opened with).
    """

    model: Path | None
    workload: str | None
    device: str = "CPU"
    hint: Hint = "throughput"
    nireq: int | None = None
    streams: int | Literal["auto"] | None = None
    threads: int | Literal["auto"] | None = None
    precision: Precision | None = None
    cache_dir: Path | None = None
    batch: int | None = None
    api: Api = "async"
    response: ResponseKind = "argmax"
    spec_text: str = ""

    def compile_properties(self) -> dict[str, str]:
        """Return the ``compile_model`` config with OpenVINO's string keys and values."""
        props: dict[str, str] = {}
        if self.hint != "none":
            props["PERFORMANCE_HINT"] = self.hint.upper()
        if self.nireq is not None and self.hint != "none":
            props["PERFORMANCE_HINT_NUM_REQUESTS"] = str(self.nireq)
        if self.streams is not None:
            props["NUM_STREAMS"] = "AUTO" if self.streams == "auto" else str(self.streams)
        if isinstance(self.threads, int):
            props["INFERENCE_NUM_THREADS"] = str(self.threads)
        if self.precision is not None:
            props["INFERENCE_PRECISION_HINT"] = self.precision
        if self.cache_dir is not None:
            props["CACHE_DIR"] = str(self.cache_dir)
        return props


def is_model_path(text: str) -> bool:
    """Return whether the model part of a target names a file rather than a workload."""
    return "/" in text or "\\" in text or Path(text).suffix.lower() in MODEL_SUFFIXES


def _choice(spec: SutSpec, key: str, allowed: tuple[str, ...]) -> str | None:
    raw = spec.options.get(key)
    if raw is None:
        return None
    value = raw.lower()
    if value not in allowed:
        raise SutSpecError(
            f"SUT spec {spec.text!r}: option {key}={raw!r} is not one of {', '.join(allowed)}"
        )
    return value


def _positive(spec: SutSpec, key: str) -> int | None:
    if key not in spec.options:
        return None
    value = spec.option_int(key, 0)
    if value < 1:
        raise SutSpecError(f"SUT spec {spec.text!r}: option {key}={value} must be >= 1")
    return value


def _positive_or_auto(spec: SutSpec, key: str) -> int | Literal["auto"] | None:
    raw = spec.options.get(key)
    if raw is not None and raw.lower() == "auto":
        return "auto"
    return _positive(spec, key)


def parse_openvino_target(spec: SutSpec) -> OpenVinoConfig:
    """Turn an ``openvino:`` :class:`SutSpec` into an :class:`OpenVinoConfig`.

    Raises:
        SutSpecError: an unknown option, a bad value, or an empty device; the message names
            the spec and the field.
    """
    unknown = sorted(set(spec.options) - set(KNOWN_OPTIONS))
    if unknown:
        raise SutSpecError(
            f"SUT spec {spec.text!r}: unknown option(s) {', '.join(unknown)}; "
            f"known: {', '.join(KNOWN_OPTIONS)}"
        )
    model_part, at, device = spec.target.rpartition("@")
    if not at:
        model_part, device = spec.target, "CPU"
    device = device.strip()
    if not device:
        raise SutSpecError(f"SUT spec {spec.text!r}: empty device after '@' (e.g. @CPU)")

    model: Path | None = None
    workload: str | None = None
    if model_part and is_model_path(model_part):
        model = Path(model_part).expanduser()
    elif model_part:
        workload = model_part

    streams = _positive_or_auto(spec, "streams")
    cache_raw = spec.options.get("cache_dir")
    if cache_raw is not None and not cache_raw:
        raise SutSpecError(f"SUT spec {spec.text!r}: option cache_dir is empty")

    return OpenVinoConfig(
        model=model,
        workload=workload,
        device=device,
        hint=_choice(spec, "hint", HINTS) or "throughput",  # type: ignore[arg-type]
        nireq=_positive(spec, "nireq"),
        streams=streams,
        threads=_positive_or_auto(spec, "threads"),
        precision=_choice(spec, "precision", PRECISIONS),  # type: ignore[arg-type]
        cache_dir=Path(cache_raw).expanduser() if cache_raw else None,
        batch=_positive(spec, "batch"),
        api=_choice(spec, "api", APIS) or "async",  # type: ignore[arg-type]
        response=_choice(spec, "response", RESPONSE_KINDS) or "argmax",  # type: ignore[arg-type]
        spec_text=spec.text,
    )


def pin_precision(spec_text: str, precision: Precision = "f32") -> str:
    """Return ``spec_text`` with ``precision=`` added unless it already sets one.

    Accuracy runs use this: the CPU plugin defaults to bf16 where the CPU supports it, which
    makes accuracy depend on the machine.
    """
    return with_defaults(spec_text, {"precision": precision})
