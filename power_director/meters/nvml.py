"""NVIDIA GPU board power through NVML (``nvidia-ml-py``, module ``pynvml``), one channel per GPU.

Calls (``/work/shared/reference/ecosystem.md`` §5.3): ``nvmlInit``, ``nvmlDeviceGetCount``,
``nvmlDeviceGetHandleByIndex``, ``nvmlDeviceGetName``; per GPU the energy counter
``nvmlDeviceGetTotalEnergyConsumption`` (mJ since the driver loaded, Volta and newer) when it is
supported, else the power gauge ``nvmlDeviceGetPowerUsage`` (mW; about a 1 s average on recent
data-centre GPUs); ``nvmlShutdown``. NVML measures board power only: a separate channel, not a
substitute for the wall meter.

The library is passed in (``library=``; tests inject a fake object) or imported when the source
opens. Unavailable (:class:`~power_director.errors.MeterUnavailableError`): ``pynvml`` not
installed, ``nvmlInit`` failing (``NVMLError_LibraryNotFound`` without a driver), or no GPU.

Uncertainty (assumption): ±5 W, the accuracy nvidia-smi's documentation gives for its power draw
reading, plus nothing proportional.
"""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any

from power_director.errors import MeterSpecError, MeterUnavailableError
from power_director.meters.base import MeterIdentity, PowerMeter
from power_director.meters.registry import register_source
from power_director.meters.software import Clock, CounterValue, SoftwareSource

log = logging.getLogger(__name__)


def load_pynvml() -> Any:
    """Import and return ``pynvml``.

    Raises:
        MeterUnavailableError: nvidia-ml-py is not installed (or fails to import).
    """
    try:
        return importlib.import_module("pynvml")
    except Exception as exc:  # any import failure means "no NVML"
        raise MeterUnavailableError(f"NVML unavailable: cannot import pynvml ({exc})") from exc


class NvmlSource(SoftwareSource):
    """NVIDIA GPUs through NVML.

    Args:
        library: the ``pynvml`` module or an object with the same functions; None imports it.
        devices: GPU indices to read; None reads all.
        clock: monotonic clock in ns.
        floor_w: assumed uncertainty, W.
    """

    def __init__(
        self,
        library: Any = None,
        *,
        devices: tuple[int, ...] | None = None,
        clock: Clock = time.monotonic_ns,
        floor_w: float = 5.0,
    ) -> None:
        super().__init__("nvml", clock=clock, reading_pct=0.0, floor_w=floor_w)
        self.library = library
        self.devices = devices
        self._handles: list[Any] = []
        self._counters: list[bool] = []
        self._initialised = False

    def _error_type(self) -> type[BaseException]:
        error = getattr(self.library, "NVMLError", Exception)
        return error if isinstance(error, type) and issubclass(error, BaseException) else Exception

    def _open_source(self) -> MeterIdentity:
        if self.library is None:
            self.library = load_pynvml()
        nvml = self.library
        error = self._error_type()
        try:
            nvml.nvmlInit()
        except error as exc:
            raise MeterUnavailableError(f"NVML unavailable: nvmlInit failed: {exc}") from exc
        self._initialised = True
        try:
            indices = self.devices or tuple(range(nvml.nvmlDeviceGetCount()))
            if not indices:
                raise MeterUnavailableError("NVML unavailable: no NVIDIA GPU found")
            self._handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in indices]
            names = [_text(nvml.nvmlDeviceGetName(h)) for h in self._handles]
        except error as exc:
            self._close_source()
            raise MeterUnavailableError(f"NVML unavailable: {exc}") from exc
        except MeterUnavailableError:
            self._close_source()
            raise
        self._counters = [self._has_counter(h) for h in self._handles]
        self.channel_names = [f"gpu{i}" for i in indices]
        kinds = ["energy" if c else "power" for c in self._counters]
        return MeterIdentity(
            "NVIDIA", ",".join(names), ",".join(map(str, indices)), "NVML " + ",".join(kinds)
        )

    def _has_counter(self, handle: Any) -> bool:
        try:
            self.library.nvmlDeviceGetTotalEnergyConsumption(handle)
        except self._error_type() as exc:
            log.info("NVML energy counter not supported (%s); using power usage", exc)
            return False
        return True

    def _sample(self) -> list[CounterValue]:
        out = []
        for handle, counter in zip(self._handles, self._counters, strict=True):
            try:
                if counter:
                    mj = self.library.nvmlDeviceGetTotalEnergyConsumption(handle)
                    out.append(CounterValue(energy_j=mj / 1000.0))
                else:
                    mw = self.library.nvmlDeviceGetPowerUsage(handle)
                    out.append(CounterValue(watts=mw / 1000.0))
            except self._error_type() as exc:
                log.warning("NVML read failed: %s", exc)
                out.append(CounterValue())
        return out

    def _close_source(self) -> None:
        if self._initialised:
            self._initialised = False
            try:
                self.library.nvmlShutdown()
            except self._error_type() as exc:
                log.debug("nvmlShutdown: %s", exc)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def open_nvml(rest: str) -> PowerMeter:
    """Open NVML from a spec's text after ``@``: GPU indices ``0,1`` or empty for all."""
    try:
        devices = tuple(int(i) for i in rest.split(",") if i.strip()) or None
    except ValueError:
        raise MeterSpecError(f"nvml@{rest}: expected GPU indices such as nvml@0,1") from None
    source = NvmlSource(devices=devices)
    source.open()
    return source


register_source("nvml", open_nvml, description="NVIDIA GPU power (NVML)", tested="fake library")
