"""The OpenVINO system under test: ``openvino:MODEL@DEVICE?options`` (grammar in ov_config).

How a query runs: samples are cut into batches (the model's static batch, or ``batch=`` for a
dynamic batch dimension; single-sample queries go alone). For each batch an idle request of an
``AsyncInferQueue`` is taken, the samples are copied into the input buffer that was bound to that
request once at start-up (no per-call input dict), and the request is started with the LoadGen
``complete`` callable and the response ids as userdata. The queue callback encodes the output
(argmax as int32, or the raw row) and completes the batch from OpenVINO's thread. ``api=sync``
instead runs ``infer()`` inline in ``issue_queries`` (lowest latency for SingleStream).

Errors (all raised before anything is compiled where possible): DeviceUnavailableError,
ModelError (missing/corrupt model, unsupported inputs, shape mismatch with the QSL's samples),
SutSpecError (bad spec options).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov
from openvino import _pyopenvino as _ovc  # C++ bases: skip the Python input dispatch per call

from loadgen.interfaces import Complete, QuerySample, QuerySampleLibrary, QuerySampleResponse
from suts.errors import ModelError
from suts.ov_config import (
    DEFAULT_DYNAMIC_BATCH,
    MIN_ASYNC_REQUESTS,
    OpenVinoConfig,
    parse_openvino_target,
)
from suts.ov_devices import check_device
from suts.ov_inputs import InputPlan, plan_input
from suts.ov_threads import ThreadChoice, choose_threads
from suts.registry import register_sut
from suts.spec import SutSpec

log = logging.getLogger(__name__)

DESCRIBED_PROPERTIES = (
    "PERFORMANCE_HINT",
    "NUM_STREAMS",
    "OPTIMAL_NUMBER_OF_INFER_REQUESTS",
    "INFERENCE_PRECISION_HINT",
    "INFERENCE_NUM_THREADS",
    "EXECUTION_DEVICES",
)
SYNTHETIC_POOL = 8


class _Slot:
    """One infer request with its input buffer and the tensors bound over it (by batch size)."""

    def __init__(self, request: Any, plan: InputPlan, batch: int) -> None:
        self.request = request
        self.buffer = np.zeros((batch, *plan.sample_shape), dtype=np.float32)
        self._plan = plan
        self._tensors: dict[int, Any] = {}
        self.bind(batch)

    def bind(self, rows: int) -> None:
        """Make the request's input the first ``rows`` rows of the buffer (cached tensors)."""
        tensor = self._tensors.get(rows)
        if tensor is None:
            view = self.buffer[:rows]
            if not self._plan.has_batch_dim:
                view = view.reshape(self._plan.sample_shape)
            tensor = ov.Tensor(view, shared_memory=True)
            self._tensors[rows] = tensor
        self.request.set_input_tensor(tensor)


class OpenVinoSut:
    """A LoadGen SUT running one OpenVINO model on one device.

    Args:
        config: parsed spec (see :mod:`suts.ov_config`).
        qsl: the sample library; an :class:`~suts.workloads.base.ArrayQsl` supplies real
            samples, any other QSL gets random inputs shaped like the model input.
        core: an ``openvino.Core`` (injectable for tests); a new one by default.
    """

    def __init__(self, config: OpenVinoConfig, qsl: QuerySampleLibrary, core: Any = None) -> None:
        self.config = config
        self._core = core if core is not None else ov.Core()
        self._qsl = qsl
        check_device(config.device, list(self._core.available_devices))
        self.model_path = resolve_model_path(config, qsl)
        model = read_model(self._core, self.model_path)
        self._plan = plan_input(model, qsl, str(self.model_path))
        model = self._plan.adapt(model)
        self.batch = self._plan.static_batch or (config.batch or DEFAULT_DYNAMIC_BATCH)
        self.thread_choice: ThreadChoice | None = None
        start = time.perf_counter()
        if config.threads == "auto" and config.device.upper() == "CPU":
            rows = self._plan.static_batch or 1  # SingleStream's inference: one sample, padded
            shape = (rows, *self._plan.sample_shape) if self._plan.has_batch_dim else None
            query = np.random.default_rng(0).standard_normal(
                shape or self._plan.sample_shape, dtype=np.float32
            )
            self._compiled, self.thread_choice = choose_threads(
                lambda threads: self._compile(model, threads), query
            )
        else:
            if config.threads == "auto":
                log.info("threads=auto is for CPU only; %s keeps its default", config.device)
            self._compiled = self._compile(model, None)
        self.compile_s = time.perf_counter() - start
        optimal = self._property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
        if config.api == "sync":
            self.nireq = 1
        else:
            self.nireq = config.nireq or max(
                int(optimal) if optimal.isdigit() else 1, MIN_ASYNC_REQUESTS
            )
        self.name = f"OpenVINO:{self.model_path.stem}@{config.device}"
        self._gather = getattr(qsl, "gather", None)
        self._pool = self._synthetic_pool() if self._gather is None else None
        # per-sample input tensors for the single-sample path; an ArrayQsl drops its entries
        # when the sample is unloaded
        derived = getattr(qsl, "derived", None)
        self._sample_tensors: dict[int, Any] = derived if isinstance(derived, dict) else {}
        self._error: BaseException | None = None
        self._argmax = config.response == "argmax"
        self._lock = threading.Lock()
        if config.api == "sync":
            self._sync = _Slot(self._compiled.create_infer_request(), self._plan, self.batch)
        else:
            self._queue = ov.AsyncInferQueue(self._compiled, self.nireq)
            self._slots = [_Slot(self._queue[i], self._plan, self.batch) for i in range(self.nireq)]
            self._queue.set_callback(self._on_done)
        log.info(
            "openvino sut %s: batch=%d nireq=%d compile=%.3fs",
            self.name,
            self.batch,
            self.nireq,
            self.compile_s,
        )

    # -- LoadGen SUT interface -------------------------------------------------------------------

    def issue_queries(self, samples: list[QuerySample], complete: Complete) -> None:
        """Start inference on ``samples``; each is completed from the request callback."""
        self._raise_pending()
        batch = self.batch if len(samples) > 1 else 1
        if batch == 1 and self._plan.static_batch in (None, 1):
            self._issue_singles(samples, complete)
            return
        if self.config.api == "sync":
            for start in range(0, len(samples), batch):
                self._infer_sync(samples[start : start + batch], complete)
            return
        queue, slots, fill = self._queue, self._slots, self._fill
        start_async = _ovc.AsyncInferQueue.start_async
        with self._lock:  # get_idle_request_id + start_async must pick the same request
            for start in range(0, len(samples), batch):
                chunk = samples[start : start + batch]
                slot = slots[queue.get_idle_request_id()]
                rows = len(chunk) if self._plan.static_batch is None else self.batch
                slot.bind(rows)
                fill(chunk, slot.buffer)
                start_async(queue, {}, (complete, [s.id for s in chunk]))

    def flush_queries(self) -> None:
        """Nothing is held back: every batch is started as soon as it is issued."""

    # -- results ---------------------------------------------------------------------------------

    def describe(self) -> dict[str, str]:
        """Return what a result must record: device, compiled-model properties, versions."""
        info = {
            "sut": "openvino",
            "openvino_version": ov.get_version(),
            "device": self.config.device,
            "model": str(self.model_path),
            "input": self._plan.describe(),
            "batch": str(self.batch),
            "nireq": str(self.nireq),
            "api": self.config.api,
            "compile_ms": f"{self.compile_s * 1e3:.1f}",
        }
        for key in DESCRIBED_PROPERTIES:
            info[key] = self._property(key)
        if self.thread_choice is not None:
            info["threads_auto"] = self.thread_choice.describe()
        devices = [d for d in info["EXECUTION_DEVICES"].split(",") if d and d != "n/a"]
        for dev in devices or [self.config.device]:
            try:
                info[f"{dev}.FULL_DEVICE_NAME"] = str(
                    self._core.get_property(dev, "FULL_DEVICE_NAME")
                )
            except RuntimeError:
                pass
        return info

    def wait(self) -> None:
        """Block until every started request has finished; re-raise a callback error."""
        if self.config.api == "async":
            self._queue.wait_all()
        self._raise_pending()

    def close(self) -> None:
        """Wait for outstanding requests (OpenVINO frees the rest with the object)."""
        self.wait()

    def __enter__(self) -> OpenVinoSut:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------

    def _issue_singles(self, samples: Sequence[QuerySample], complete: Complete) -> None:
        """The latency path: one sample per inference, its loaded array bound zero-copy."""
        tensors, tensor_of = self._sample_tensors, self._sample_tensor
        if self.config.api == "sync":
            request = self._sync.request
            for s in samples:
                with self._lock:  # one request, possibly several issuing threads
                    tensor = tensors.get(s.index)
                    request.set_input_tensor(tensor_of(s.index) if tensor is None else tensor)
                    _ovc.InferRequest.infer(request, {}, True, False)
                    responses = self._responses(request, [s.id])
                complete(responses)  # outside the lock: complete may lead to the next issue
            return
        queue = self._queue
        start_async = _ovc.AsyncInferQueue.start_async
        # the C++ queue picks the idle request and sets the tensor on it; concurrent callers
        # could pick the same idle request, hence the lock
        with self._lock:
            for s in samples:
                tensor = tensors.get(s.index)
                sample_tensor = tensor_of(s.index) if tensor is None else tensor
                start_async(queue, sample_tensor, (complete, s.id))

    def _compile(self, model: Any, threads: int | None) -> Any:
        """Compile ``model`` with the spec's properties (and ``threads``, when given)."""
        props = self.config.compile_properties()
        if threads is not None:
            props["INFERENCE_NUM_THREADS"] = str(threads)
        try:
            return self._core.compile_model(model, self.config.device, props)
        except RuntimeError as e:
            raise ModelError(
                f"OpenVINO could not compile {self.model_path} for {self.config.device}: "
                f"{_first_line(e)}"
            ) from e

    def _sample_tensor(self, index: int) -> Any:
        """Return (and cache) an ``ov.Tensor`` over loaded sample ``index`` with a batch axis."""
        if self._gather is not None:
            sample = self._qsl.sample(index)  # type: ignore[attr-defined]
        else:
            assert self._pool is not None
            sample = self._pool[index % len(self._pool)]
        view = sample[None] if self._plan.has_batch_dim else sample
        tensor = ov.Tensor(view, shared_memory=True)
        self._sample_tensors[index] = tensor
        return tensor

    def _fill(self, chunk: Sequence[QuerySample], out: np.ndarray[Any, Any]) -> None:
        if self._gather is not None:
            self._gather([s.index for s in chunk], out)
            return
        assert self._pool is not None
        pool = self._pool
        for row, s in enumerate(chunk):
            out[row] = pool[s.index % len(pool)]

    def _infer_sync(self, chunk: Sequence[QuerySample], complete: Complete) -> None:
        slot = self._sync
        with self._lock:
            slot.bind(len(chunk) if self._plan.static_batch is None else self.batch)
            self._fill(chunk, slot.buffer)
            _ovc.InferRequest.infer(slot.request, {}, True, False)
            responses = self._responses(slot.request, [s.id for s in chunk])
        complete(responses)

    def _on_done(self, request: Any, userdata: tuple[Complete, list[int] | int]) -> None:
        complete, id_or_ids = userdata
        ids = [id_or_ids] if isinstance(id_or_ids, int) else id_or_ids
        try:
            responses = self._responses(request, ids)
        except BaseException as e:  # never leave LoadGen waiting for these ids
            if self._error is None:
                self._error = e
            log.exception("openvino sut: reading the output of a request failed")
            responses = [QuerySampleResponse(i, b"") for i in ids]
        complete(responses)

    def _responses(self, request: Any, ids: list[int]) -> list[QuerySampleResponse]:
        out = request.get_output_tensor(0).data
        rows = len(ids)
        if rows == 1 and self._argmax and (out.shape[0] == 1 or not self._plan.has_batch_dim):
            row = out.reshape(-1)
            if row.size > 1:  # the common case, kept cheap: it runs once per inference
                cls = int(row.argmax())
                return [QuerySampleResponse(ids[0], cls.to_bytes(4, "little", signed=True))]
        flat = out.reshape(out.shape[0] if self._plan.has_batch_dim else 1, -1)[:rows]
        if self.config.response == "argmax" and flat.shape[1] > 1:
            data = flat.argmax(axis=1).astype("<i4").tobytes()
        elif np.issubdtype(flat.dtype, np.integer):
            data = flat.astype("<i4").tobytes()
        else:
            data = flat.astype("<f4").tobytes()
        size = len(data) // rows
        view = memoryview(data)
        return [QuerySampleResponse(i, view[j * size : (j + 1) * size]) for j, i in enumerate(ids)]

    def _synthetic_pool(self) -> np.ndarray[Any, Any]:
        rng = np.random.default_rng(0)
        shape = (SYNTHETIC_POOL, *self._plan.sample_shape)
        return rng.standard_normal(shape, dtype=np.float32)

    def _property(self, key: str) -> str:
        try:
            return _property_text(self._compiled.get_property(key))
        except RuntimeError:
            return "n/a"

    def _raise_pending(self) -> None:
        error = self._error
        if error is not None:
            raise ModelError(f"{self.name}: inference failed: {_first_line(error)}") from error


def resolve_model_path(config: OpenVinoConfig, qsl: QuerySampleLibrary) -> Path:
    """Return the model file: the spec's path, a named workload's model, or the QSL's workload's.

    Raises:
        ModelError: the file is missing, or no workload can provide a model.
    """
    if config.model is not None:
        path = config.model
    elif config.workload is not None:
        from suts.workloads import open_workload

        path = open_workload(config.workload).default_model()
    else:
        workload = getattr(qsl, "workload", None)
        if workload is None:
            raise ModelError(
                f"SUT spec {config.spec_text!r} names no model and QSL {qsl.name!r} belongs to "
                "no workload; give a model path (openvino:path/model.xml@CPU) or a workload "
                "name (openvino:digits@CPU)"
            )
        path = workload.default_model()
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    if path.suffix.lower() == ".xml" and not path.with_suffix(".bin").is_file():
        raise ModelError(f"model weights {path.with_suffix('.bin')} (for {path}) do not exist")
    return path


def read_model(core: Any, path: Path) -> Any:
    """Read ``path`` with OpenVINO; any failure becomes a :class:`ModelError` naming the file."""
    try:
        return core.read_model(str(path))
    except (RuntimeError, ValueError, OSError) as e:
        raise ModelError(f"cannot read model {path}: {_first_line(e)}") from e


def _property_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(_property_text(v) for v in value)
    if hasattr(value, "get_type_name"):
        return str(value.get_type_name())
    if hasattr(value, "name") and not isinstance(value, str):
        return str(value.name)
    return str(value)


def _first_line(error: BaseException) -> str:
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    useful = [ln for ln in lines if not ln.startswith(("Exception from", "Check '"))]
    return (useful or lines or [type(error).__name__])[0]


@register_sut("openvino")
def _open_openvino(spec: SutSpec, qsl: QuerySampleLibrary) -> OpenVinoSut:
    return OpenVinoSut(parse_openvino_target(spec), qsl)
