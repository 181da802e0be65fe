"""A :class:`~power_director.meters.base.PowerMeter` that forwards every call to another meter.

Subclasses add behaviour around a driver without knowing its class: the simulated meter
(:mod:`power_director.sim.meter`) also stops its simulator on close, and the director's
reconnecting meter (:mod:`power_director.reconnect`) swaps the driver after a transport error.
Besides the protocol, the proxy forwards the optional members the engine looks for:
``crest_factor``, ``restore_ranges()`` and ``simulated``.
"""

from __future__ import annotations

from power_director.meters.base import MeterConfig, MeterIdentity, PowerMeter, RangeTable
from power_director.samples import ChannelReading


class MeterProxy:
    """Forward the :class:`PowerMeter` protocol to ``inner``.

    Args:
        inner: an opened meter.
        name: the proxy's name; default ``inner.name``.
    """

    def __init__(self, inner: PowerMeter, *, name: str | None = None) -> None:
        self.inner = inner
        self.name = name or inner.name

    @property
    def channel_count(self) -> int:
        """Return the number of channels :meth:`read` returns."""
        return self.inner.channel_count

    @property
    def range_table(self) -> RangeTable:
        """Return the meter's discrete ranges."""
        return self.inner.range_table

    @property
    def update_interval_s(self) -> float:
        """Return the meter's data update interval, s."""
        return self.inner.update_interval_s

    @property
    def crest_factor(self) -> int:
        """Return the crest factor in effect (3 where the meter does not say)."""
        return int(getattr(self.inner, "crest_factor", 3))

    @property
    def simulated(self) -> bool:
        """Return True when the meter is the simulator, not an instrument."""
        return bool(getattr(self.inner, "simulated", False))

    def open(self) -> MeterIdentity:
        """Identify the meter and save its initial state (see :meth:`PowerMeter.open`)."""
        return self.inner.open()

    def identify(self) -> MeterIdentity:
        """Return the meter's identity."""
        return self.inner.identify()

    def configure(self, config: MeterConfig) -> None:
        """Apply ``config``."""
        self.inner.configure(config)

    def read(self) -> list[ChannelReading]:
        """Return the latest reading of every configured channel."""
        return self.inner.read()

    def set_ranges(
        self,
        volts_range: float | None = None,
        amps_range: float | None = None,
        *,
        channel: int | None = None,
    ) -> None:
        """Fix the voltage and/or current range (None leaves that one as it is)."""
        self.inner.set_ranges(volts_range, amps_range, channel=channel)

    def auto_range(self) -> None:
        """Put voltage and current on auto range."""
        self.inner.auto_range()

    def restore_ranges(self) -> None:
        """Restore the ranges found at open (auto range where the meter cannot restore)."""
        restore = getattr(self.inner, "restore_ranges", None)
        if callable(restore):
            restore()
        else:
            self.inner.auto_range()

    def close(self) -> None:
        """Close the meter (restoring its initial state)."""
        self.inner.close()
