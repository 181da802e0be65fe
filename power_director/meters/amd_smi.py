"""AMD GPU / APU power through AMD SMI (``amdsmi``, ROCm), one channel per processor.

Named ``amd_smi`` so it does not shadow the ``amdsmi`` package; the library is imported inside
:func:`load_amdsmi`, and **any** exception counts as "unavailable": without ROCm's
``libamd_smi.so``, ``import amdsmi`` raises ``KeyError`` (``/work/shared/reference/ecosystem.md``
§5.4), not ImportError.

Calls (amdsmi 6.x/7.x Python API; not verified on hardware here): ``amdsmi_init``,
``amdsmi_get_processor_handles``, ``amdsmi_get_gpu_asic_info`` (``market_name``), the energy
counter ``amdsmi_get_energy_count`` (a dict: ``energy_accumulator`` — ``power`` on older
releases — times ``counter_resolution`` µJ) when it works, else ``amdsmi_get_power_info``
(``current_socket_power`` or ``average_socket_power``, W; ``"N/A"`` means no data);
``amdsmi_shut_down``. Errors are ``amdsmi.AmdSmiException``.

Uncertainty (assumption): ±5 % of the reading; AMD publishes no accuracy for these sensors.
"""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any

from power_director.errors import MeterUnavailableError
from power_director.meters.base import MeterIdentity, PowerMeter
from power_director.meters.registry import register_source
from power_director.meters.software import Clock, CounterValue, SoftwareSource

log = logging.getLogger(__name__)


def load_amdsmi() -> Any:
    """Import and return ``amdsmi``.

    Raises:
        MeterUnavailableError: amdsmi is absent or its import fails (KeyError without ROCm).
    """
    try:
        return importlib.import_module("amdsmi")
    except Exception as exc:  # KeyError('libamd_smi.so') without ROCm, ImportError without pkg
        raise MeterUnavailableError(
            f"AMD SMI unavailable: cannot import amdsmi ({type(exc).__name__}: {exc})"
        ) from exc


class AmdSmiSource(SoftwareSource):
    """AMD processors through AMD SMI.

    Args:
        library: the ``amdsmi`` module or an object with the same functions; None imports it.
        clock: monotonic clock in ns.
        reading_pct: assumed uncertainty, % of reading.
    """

    def __init__(
        self, library: Any = None, *, clock: Clock = time.monotonic_ns, reading_pct: float = 5.0
    ) -> None:
        super().__init__("amdsmi", clock=clock, reading_pct=reading_pct, floor_w=0.0)
        self.library = library
        self._handles: list[Any] = []
        self._counters: list[bool] = []
        self._initialised = False

    def _error_type(self) -> type[BaseException]:
        error = getattr(self.library, "AmdSmiException", Exception)
        return error if isinstance(error, type) and issubclass(error, BaseException) else Exception

    def _open_source(self) -> MeterIdentity:
        if self.library is None:
            self.library = load_amdsmi()
        smi = self.library
        error = self._error_type()
        try:
            smi.amdsmi_init()
            self._initialised = True
            self._handles = list(smi.amdsmi_get_processor_handles())
            names = [
                str(smi.amdsmi_get_gpu_asic_info(h).get("market_name", "AMD GPU"))
                for h in self._handles
            ]
        except error as exc:
            self._close_source()
            raise MeterUnavailableError(f"AMD SMI unavailable: {exc}") from exc
        if not self._handles:
            self._close_source()
            raise MeterUnavailableError("AMD SMI unavailable: no AMD processor found")
        self._counters = [self._energy_j(h) is not None for h in self._handles]
        self.channel_names = [f"amdgpu{i}" for i in range(len(self._handles))]
        kinds = ",".join("energy" if c else "power" for c in self._counters)
        return MeterIdentity("AMD", ",".join(names), str(len(names)), f"AMD SMI {kinds}")

    def _energy_j(self, handle: Any) -> float | None:
        try:
            info = self.library.amdsmi_get_energy_count(handle)
            count = info.get("energy_accumulator", info.get("power"))
            return float(count) * float(info["counter_resolution"]) / 1e6
        except (self._error_type(), KeyError, TypeError, ValueError) as exc:
            log.debug("AMD SMI energy counter unavailable: %s", exc)
            return None

    def _power_w(self, handle: Any) -> float | None:
        try:
            info = self.library.amdsmi_get_power_info(handle)
        except self._error_type() as exc:
            log.warning("AMD SMI power read failed: %s", exc)
            return None
        for key in ("current_socket_power", "average_socket_power"):
            try:
                return float(info[key])
            except (KeyError, TypeError, ValueError):
                continue
        return None

    def _sample(self) -> list[CounterValue]:
        out = []
        for handle, counter in zip(self._handles, self._counters, strict=True):
            if counter:
                out.append(CounterValue(energy_j=self._energy_j(handle)))
            else:
                watts = self._power_w(handle)
                out.append(CounterValue() if watts is None else CounterValue(watts=watts))
        return out

    def _close_source(self) -> None:
        if self._initialised:
            self._initialised = False
            try:
                self.library.amdsmi_shut_down()
            except self._error_type() as exc:
                log.debug("amdsmi_shut_down: %s", exc)


def open_amdsmi(rest: str) -> PowerMeter:
    """Open AMD SMI (the text after ``@`` is ignored)."""
    source = AmdSmiSource()
    source.open()
    return source


register_source("amdsmi", open_amdsmi, description="AMD GPU power (AMD SMI)", tested="fake library")
