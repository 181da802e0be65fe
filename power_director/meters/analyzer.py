"""Shared sequences of the non-Yokogawa analyzer drivers (Hioki, R&S, Chroma, ZES).

The four families differ in command spelling and reply format, not in sequence, so
:class:`AnalyzerMeter` implements the sequences once and each driver declares its commands
(each once, with its manual section) and overrides small hooks:

* ``open()``: ``*IDN?`` (model checked), communication set-up, then every *state command* is
  queried and its reply saved verbatim; the ranges in effect are adopted from the saved replies.
* ``configure()``: crest factor (checked against the range table), update interval, ranges
  (fixed or auto), the numeric items, integration.
* ``read()``: one numeric query; each field is a number or a marker (model sentinels, model text
  markers, then :mod:`power_director.meters.values`); a reply with a wrong field count or an
  unparseable field becomes invalid ``garbled`` readings, counted and logged with its raw bytes.
* ``restore_ranges()``: the saved range replies (fixed value and auto flag) written back.
* ``close()``: integration stopped if this driver started it, every saved reply written back with
  the matching set command, the family's return-to-local hook, transport closed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from power_director.errors import MeterError, RangeError
from power_director.meters.base import MeterConfig, MeterIdentity, RangeTable, ScpiMeter
from power_director.meters.commands import Command
from power_director.meters.uncertainty import AccuracySpec
from power_director.meters.values import Field, GarbledFieldError, build_reading, parse_field
from power_director.samples import ChannelReading

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AnalyzerModel:
    """One model of an analyzer family.

    Attributes:
        key: registry key, e.g. ``"pw3335"``.
        idn_models: accepted prefixes of the ``*IDN?`` model field (upper case).
        channels: number of input channels.
        ranges: the discrete range table (crest factor 3 only unless the model has more).
        intervals_s: selectable update intervals, s (one value: fixed by the meter).
        description: one line for ``meter list``.
        accuracy: active-power accuracy, or None when unknown.
        interval_limits_s: (min, max) when the interval is continuous instead of discrete.
    """

    key: str
    idn_models: tuple[str, ...]
    channels: int
    ranges: RangeTable
    intervals_s: tuple[float, ...]
    description: str
    accuracy: AccuracySpec | None
    interval_limits_s: tuple[float, float] | None = None


class AnalyzerMeter(ScpiMeter):
    """Base of the Hioki, R&S, Chroma and ZES drivers; subclasses declare commands and hooks.

    Args:
        transport: see :class:`~power_director.meters.base.ScpiMeter`.
        model: registry key of the model; selects the range table and channel count.
    """

    MODELS: ClassVar[Mapping[str, AnalyzerModel]] = {}
    #: Model-specific numeric codes (magnitude) and the flag each means.
    SENTINELS: ClassVar[Mapping[float, str]] = {}
    #: Model-specific text markers (upper case) and the flag each means.
    TEXT_FLAGS: ClassVar[Mapping[str, str]] = {}
    #: Field separator of numeric replies.
    SEPARATOR: ClassVar[str] = ","
    #: Argument that switches auto range on.
    AUTO_ON: ClassVar[str] = "ON"
    #: Whether the driver can integrate energy (:meth:`_start_integration`).
    SUPPORTS_INTEGRATION: ClassVar[bool] = True

    RATE: ClassVar[Command | None] = None
    VOLTS_RANGE: ClassVar[Command]
    VOLTS_AUTO: ClassVar[Command | None] = None
    AMPS_RANGE: ClassVar[Command]
    AMPS_AUTO: ClassVar[Command | None] = None

    def __init__(self, transport: Any, *, model: str | None = None) -> None:
        super().__init__(transport, model=model)
        try:
            self.spec = self.MODELS[self.name]
        except KeyError:
            raise ValueError(
                f"{type(self).__name__} does not drive {self.name!r}; "
                f"models: {', '.join(self.MODELS)}"
            ) from None
        self.accuracy: AccuracySpec | None = self.spec.accuracy
        self._channels = tuple(range(1, self.spec.channels + 1))
        self._layout: list[tuple[int, str]] = []
        self._crest_factor = 3
        self._volts_range: float | None = None
        self._amps_range: float | None = None
        self._interval_s = self.spec.intervals_s[0] if len(self.spec.intervals_s) == 1 else math.nan
        self._frequency_hz = 50.0
        self._integrating = False

    @classmethod
    def describe(cls, name: str) -> str:
        """Return the one-line description of model ``name``."""
        return cls.MODELS[name].description

    @property
    def channel_count(self) -> int:
        """Return the number of channels :meth:`read` returns."""
        return len(self._channels)

    @property
    def range_table(self) -> RangeTable:
        """Return the model's discrete ranges."""
        return self.spec.ranges

    @property
    def update_interval_s(self) -> float:
        """Return the data update interval, s (NaN when unknown)."""
        return self._interval_s

    # Hooks.

    def _setup_communication(self) -> None:
        """Send the family's communication set-up (headers, separators, remote)."""

    def _state_commands(self) -> list[tuple[Command, dict[str, Any]]]:
        """Return the (command, fields) whose replies are saved at open, in restore order."""
        return []

    def _apply_items(self, channels: tuple[int, ...], integration: bool) -> None:
        """Program the numeric items (if the family stores them) and set ``self._layout``."""
        raise NotImplementedError

    def _query_values(self) -> str:
        """Send the numeric query and return the reply."""
        raise NotImplementedError

    def _start_integration(self) -> None:
        """Reset and start the integrator."""

    def _stop_integration(self) -> None:
        """Stop the integrator started by :meth:`_start_integration`."""

    def _format_range(self, value: float, unit: str) -> str:
        """Format a fixed range for the range commands (``unit`` is ``"V"`` or ``"A"``)."""
        return f"{value:g}"

    def _parse_range(self, reply: str, unit: str) -> float | None:
        """Parse a range query reply; None when it is not a fixed range."""
        try:
            return float(reply.strip().split(",")[-1])
        except ValueError:
            return None

    def _format_interval(self, seconds: float) -> str:
        """Format an update interval for :attr:`RATE`."""
        return f"{seconds:g}"

    # Sequences.

    def open(self) -> MeterIdentity:
        """Identify, set up communication, save the initial state and program the items."""
        identity = self.require_identity(self.spec.idn_models)
        self._setup_communication()
        self.save_state(self._state_commands())
        assert self._saved is not None
        self._adopt_ranges(self._saved)
        self._apply_items(self._channels, False)
        return identity

    def _adopt_ranges(self, saved: list[tuple[Command, dict[str, Any], str]]) -> None:
        autos: dict[str, bool] = {}
        for command, _, reply in saved:
            on = reply.strip().upper() in {"1", "ON", self.AUTO_ON.upper()}
            if command is self.VOLTS_AUTO or command is self.AMPS_AUTO:
                autos["V" if command is self.VOLTS_AUTO else "A"] = on
            elif command is self.VOLTS_RANGE:
                self._volts_range = self._parse_range(reply, "V")
            elif command is self.AMPS_RANGE:
                self._amps_range = self._parse_range(reply, "A")
        if autos.get("V"):
            self._volts_range = None
        if autos.get("A"):
            self._amps_range = None

    def configure(self, config: MeterConfig) -> None:
        """Apply ``config``; see :class:`~power_director.meters.base.MeterConfig`.

        Raises:
            RangeError: a range, interval, crest factor or channel the model does not have.
            MeterError: integration asked of a model whose driver does not support it.
        """
        channels = config.channels or tuple(range(1, self.spec.channels + 1))
        bad = [c for c in channels if not 1 <= c <= self.spec.channels]
        if bad:
            raise RangeError(f"{self.name} has channels 1..{self.spec.channels}, not {bad}")
        if config.integration and not self.SUPPORTS_INTEGRATION:
            raise MeterError(f"{self.name}: integration is not supported by this driver")
        cf = config.crest_factor or self._crest_factor
        if cf not in self.spec.ranges.crest_factors:
            raise RangeError(f"{self.name}: crest factor {cf} not supported")
        self._validate_ranges(config.volts_range, config.amps_range)
        self._validate_interval(config.update_interval_s)
        self._end_integration()
        if config.update_interval_s is not None:
            if self.RATE is not None:
                self.send(self.RATE, self._format_interval(config.update_interval_s))
            self._interval_s = config.update_interval_s
        self._channels = channels
        self._frequency_hz = config.frequency_hz
        if config.volts_range is None and config.amps_range is None:
            self.auto_range()
        else:
            self._send_range("V", config.volts_range)
            self._send_range("A", config.amps_range)
        self._apply_items(channels, config.integration)
        if config.integration:
            self._start_integration()
            self._integrating = True

    def _validate_interval(self, interval: float | None) -> None:
        if interval is None:
            return
        limits = self.spec.interval_limits_s
        if limits is not None and limits[0] <= interval <= limits[1]:
            return
        if limits is None and interval in self.spec.intervals_s:
            return
        allowed = (
            f"{limits[0]:g}..{limits[1]:g}"
            if limits
            else ", ".join(f"{s:g}" for s in self.spec.intervals_s)
        )
        raise RangeError(f"{self.name}: update interval {interval:g} s not in {allowed} s")

    def _validate_ranges(self, volts: float | None, amps: float | None) -> None:
        table = self.spec.ranges
        for value, allowed, unit in (
            (volts, table.volts_ranges(self._crest_factor), "V"),
            (amps, table.amps_ranges(self._crest_factor), "A"),
        ):
            if value is not None and value not in allowed:
                choices = ", ".join(f"{r:g}" for r in allowed)
                raise RangeError(f"{self.name}: {value:g} {unit} is not a range: {choices}")

    def _send_range(self, unit: str, value: float | None) -> None:
        fixed, auto = (
            (self.VOLTS_RANGE, self.VOLTS_AUTO)
            if unit == "V"
            else (self.AMPS_RANGE, self.AMPS_AUTO)
        )
        if value is None:
            self.send(auto or fixed, self.AUTO_ON)
        else:
            self.send(fixed, self._format_range(value, unit))
        if unit == "V":
            self._volts_range = value
        else:
            self._amps_range = value

    def set_ranges(
        self,
        volts_range: float | None = None,
        amps_range: float | None = None,
        *,
        channel: int | None = None,
    ) -> None:
        """Fix the voltage and/or current range, V and A (None leaves that one unchanged).

        Ranges are common to all channels on these drivers; ``channel`` is accepted and ignored.

        Raises:
            RangeError: the value is not in the model's range table.
        """
        self._validate_ranges(volts_range, amps_range)
        if volts_range is not None:
            self._send_range("V", volts_range)
        if amps_range is not None:
            self._send_range("A", amps_range)

    def auto_range(self) -> None:
        """Put voltage and current on auto range."""
        self._send_range("V", None)
        self._send_range("A", None)

    def read(self) -> list[ChannelReading]:
        """Query the numeric items once and return one reading per channel."""
        reply = self._query_values()
        try:
            fields = self._parse_values(reply)
        except GarbledFieldError as exc:
            return self.garbled_readings(reply, exc, len(self._channels))
        per_channel: list[dict[str, Field]] = [{} for _ in self._channels]
        for (position, quantity), field in zip(self._layout, fields, strict=True):
            per_channel[position][quantity] = field
        return [self._reading(values) for values in per_channel]

    def _parse_values(self, reply: str) -> list[Field]:
        parts = reply.split(self.SEPARATOR)
        if len(parts) != len(self._layout):
            raise GarbledFieldError(f"expected {len(self._layout)} fields, got {len(parts)}")
        out: list[Field] = []
        for part in parts:
            flag = self.TEXT_FLAGS.get(part.strip().upper())
            out.append((math.nan, flag) if flag else parse_field(part, sentinels=self.SENTINELS))
        return out

    def _reading(self, values: dict[str, Field]) -> ChannelReading:
        return build_reading(
            values,
            self._volts_range,
            self._amps_range,
            self.accuracy,
            frequency_hz=self._frequency_hz,
            crest_factor=self._crest_factor,
        )

    def _end_integration(self) -> None:
        if self._integrating:
            self._stop_integration()
            self._integrating = False

    def _before_restore(self) -> None:
        self._end_integration()
