"""Device-level reconnect: reopen a meter from its spec after a transport error.

The director wraps every meter it opens in a :class:`ReconnectingMeter`. When a sampler loses
the meter (unplugged, power-cycled, network down) it calls the engine's ``reconnect(name,
meter)``, which :func:`reconnect_meter` answers with :meth:`ReconnectingMeter.reconnect`:

1. the failed driver's connection is closed quietly (its saved state is *not* written back
   through a connection that just failed);
2. the spec is opened again (``open_meter(spec)``: identify, communication set-up);
3. the state saved when the director first opened the meter is carried over to the new driver,
   so ``restore_ranges()`` and ``close()`` still put back what the director found at start;
4. the configuration and ranges set since then (``configure``, ``auto_range``, ``set_ranges``,
   ``restore_ranges``, in order) are applied again.

A step that fails raises :class:`~power_director.errors.TransportError`, so the sampler keeps
retrying with backoff; it logs every attempt and records the outage as a ``transport`` gap,
which makes the phase invalid. The wrapper stays the same object throughout, so the engine, the
session and the director keep their references.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from power_director.errors import PowerDirectorError, TransportError
from power_director.meters.base import MeterConfig, PowerMeter
from power_director.meters.proxy import MeterProxy

__all__ = ["ReconnectingMeter", "reconnect_meter"]

log = logging.getLogger(__name__)

Opener = Callable[[str], PowerMeter]
_Step = Callable[[PowerMeter], None]


def _open_meter(spec: str) -> PowerMeter:
    from power_director.meters.registry import open_meter

    return open_meter(spec)


class ReconnectingMeter(MeterProxy):
    """An opened meter that :meth:`reconnect` can reopen from ``spec``.

    Args:
        spec: the meter spec ``inner`` was opened from.
        inner: the opened meter.
        opener: opens a spec (default :func:`~power_director.meters.registry.open_meter`).
    """

    def __init__(self, spec: str, inner: PowerMeter, *, opener: Opener = _open_meter) -> None:
        super().__init__(inner)
        self.spec = spec
        self.reconnects = 0
        self._opener = opener
        self._initial_state: Any = getattr(inner, "initial_state", None)
        self._config: MeterConfig | None = None
        self._range_steps: list[_Step] = []
        self._lock = threading.Lock()

    # What the engine sets is recorded, to be applied again after a reconnect.

    def configure(self, config: MeterConfig) -> None:
        """Apply ``config`` (and remember it)."""
        with self._lock:
            self.inner.configure(config)
            self._config = config
            self._range_steps = []

    def set_ranges(
        self,
        volts_range: float | None = None,
        amps_range: float | None = None,
        *,
        channel: int | None = None,
    ) -> None:
        """Fix the voltage and/or current range (and remember it)."""
        with self._lock:
            self.inner.set_ranges(volts_range, amps_range, channel=channel)
            self._range_steps.append(
                lambda meter: meter.set_ranges(volts_range, amps_range, channel=channel)
            )

    def auto_range(self) -> None:
        """Put voltage and current on auto range (and remember it)."""
        with self._lock:
            self.inner.auto_range()
            self._range_steps = [lambda meter: meter.auto_range()]

    def restore_ranges(self) -> None:
        """Restore the ranges found when the director opened the meter (and remember it)."""
        with self._lock:
            super().restore_ranges()
            self._range_steps = [_restore_ranges]

    def reconnect(self) -> ReconnectingMeter:
        """Close the failed connection, reopen the spec, re-apply the settings; return self.

        Raises:
            TransportError: the meter cannot be reopened yet (the sampler retries).
        """
        with self._lock:
            log.warning("reopening meter %s", self.spec)
            _close_connection(self.inner)
            try:
                meter = self._opener(self.spec)
            except TransportError:
                raise
            except PowerDirectorError as exc:  # e.g. the port is back but the meter is silent
                raise TransportError(self.spec, f"reopen failed: {exc}") from exc
            try:
                keep = getattr(meter, "keep_initial_state", None)
                if self._initial_state is not None and callable(keep):
                    keep(self._initial_state)
                if self._config is not None:
                    meter.configure(self._config)
                for step in self._range_steps:
                    step(meter)
            except BaseException as exc:
                _close_connection(meter)
                if isinstance(exc, PowerDirectorError) and not isinstance(exc, TransportError):
                    raise TransportError(self.spec, f"re-applying settings failed: {exc}") from exc
                raise
            self.inner = meter
            self.reconnects += 1
            log.warning("meter %s reopened (reconnect %d)", self.spec, self.reconnects)
            return self


def reconnect_meter(name: str, meter: PowerMeter) -> PowerMeter:
    """Answer a sampler's reconnect request: reopen a :class:`ReconnectingMeter`.

    Other meters are returned as they are (the sampler then retries reading them).
    """
    if isinstance(meter, ReconnectingMeter):
        return meter.reconnect()
    log.info("meter %s cannot be reopened (no spec); retrying it as it is", name)
    return meter


def _restore_ranges(meter: PowerMeter) -> None:
    restore = getattr(meter, "restore_ranges", None)
    if callable(restore):
        restore()
    else:
        meter.auto_range()


def _close_connection(meter: PowerMeter) -> None:
    """Close ``meter``'s connection without writing its saved state back; never raise."""
    close_transport = getattr(meter, "close_transport", None)
    try:
        if callable(close_transport):
            close_transport()
        else:
            meter.close()
    except Exception as exc:
        log.debug("closing the failed connection of %s: %s", meter.name, exc)
