"""Fakes for the sampling tests: a scripted meter and a factory fixture for it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace

import pytest

from loadgen.clock import FakeClock
from power_director.errors import MeterProtocolError, TransportError
from power_director.meters.base import MeterConfig, MeterIdentity, RangeTable
from power_director.samples import ChannelReading

TABLE = RangeTable(
    volts={3: (15.0, 30.0, 60.0, 150.0, 300.0, 600.0), 6: (7.5, 15.0, 30.0, 75.0, 150.0, 300.0)},
    amps={3: (0.5, 1.0, 2.0, 5.0, 10.0, 20.0), 6: (0.25, 0.5, 1.0, 2.5, 5.0, 10.0)},
)


def reading(watts: float = 100.0, volts: float = 230.0, amps: float = 0.46, **kw: object):
    kw.setdefault("power_factor", 0.95)
    kw.setdefault("watts_uncertainty", watts * 0.002)
    return ChannelReading(volts=volts, amps=amps, watts=watts, **kw)  # type: ignore[arg-type]


class FakeMeter:
    """A PowerMeter whose read() replays a script; the last step repeats.

    A step is a reading (one channel), a list of readings, an exception to raise, or a callable
    run before reading the default (e.g. to advance a fake clock).
    """

    def __init__(
        self,
        script: Iterable[object] = (),
        *,
        channels: int = 1,
        interval_s: float = 0.1,
        default: ChannelReading | None = None,
        on_read: Callable[[], None] | None = None,
    ) -> None:
        self.name = "fake"
        self._script: Iterator[object] = iter(script)
        self._channels = channels
        self._interval_s = interval_s
        self.default = default or reading()
        self.on_read = on_read
        self.reads = 0
        self.calls: list[tuple[object, ...]] = []

    @property
    def channel_count(self) -> int:
        return self._channels

    @property
    def range_table(self) -> RangeTable:
        return TABLE

    @property
    def update_interval_s(self) -> float:
        return self._interval_s

    crest_factor = 3

    def open(self) -> MeterIdentity:
        return self.identify()

    def identify(self) -> MeterIdentity:
        return MeterIdentity("FAKE", "FAKE1", "0", "1")

    def configure(self, config: MeterConfig) -> None:
        self.calls.append(("configure", config))

    def read(self) -> list[ChannelReading]:
        self.reads += 1
        if self.on_read is not None:
            self.on_read()
        step = next(self._script, None)
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, ChannelReading):
            return [step] * self._channels
        if isinstance(step, list):
            return step
        return [self.default] * self._channels

    def set_ranges(self, volts_range=None, amps_range=None, *, channel=None) -> None:
        self.calls.append(("set_ranges", volts_range, amps_range, channel))

    def auto_range(self) -> None:
        self.calls.append(("auto_range",))

    def close(self) -> None:
        self.calls.append(("close",))


def unplugged() -> TransportError:
    return TransportError("/dev/ttyUSB0", "device disconnected")


def garbled() -> MeterProtocolError:
    return MeterProtocolError("/dev/ttyUSB0", b":NUM:VAL?", b"23\x000.1,,x", "bad field")


@pytest.fixture
def fakes() -> SimpleNamespace:
    """The fakes of this directory (test modules cannot import a conftest by name)."""
    return SimpleNamespace(
        FakeMeter=FakeMeter, reading=reading, unplugged=unplugged, garbled=garbled, TABLE=TABLE
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start_ns=1_000_000_000, wall_start_ns=1_700_000_000_000_000_000)
