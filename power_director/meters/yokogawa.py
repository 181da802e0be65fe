"""Shared machinery of the Yokogawa drivers (WT300/WT300E, WT210/WT230, WT500/WT1800/WT5000).

The families differ in command spelling, not in sequence, so this base implements the sequences
once and each driver declares its commands:

* ``open()``: ``*IDN?`` (model checked), remote on, headers and verbose replies off, then the
  *state commands* are queried and their replies saved verbatim; then the numeric items are set.
* ``configure()``: crest factor, update interval, ranges (fixed or auto), items, integration.
* ``read()``: one numeric query; each field is a number or a marker (see
  :mod:`power_director.meters.values`); a reply with a wrong field count or an unparseable field
  becomes invalid ``garbled`` readings for every channel, is counted in ``garbled_count`` and
  logged with its raw bytes.
* ``restore_ranges()``: the saved range replies (fixed value, auto flag, per element where the
  family saves per element) written back, preceded by the saved crest factor if it was changed.
* ``close()``: integration stopped and reset if this driver started it, then every saved reply is
  written back with the matching set command (crest factor first, ranges before auto flags, items
  before their count), remote off, and the transport closed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from power_director.errors import RangeError
from power_director.meters.base import MeterConfig, MeterIdentity, RangeTable, ScpiMeter
from power_director.meters.commands import Command
from power_director.meters.uncertainty import ACCURACY, AccuracySpec
from power_director.meters.values import Field, GarbledFieldError, build_reading, parse_fields
from power_director.samples import ChannelReading

log = logging.getLogger(__name__)

#: Quantities a numeric item can carry.
QUANTITIES = ("volts", "amps", "watts", "power_factor", "energy_wh", "volts_range", "amps_range")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One model of a family.

    Attributes:
        key: registry key, e.g. ``"wt310e"``.
        idn_models: accepted prefixes of the ``*IDN?`` model field (upper case).
        elements: number of input elements (channels).
        ranges: the discrete range table.
        intervals_s: selectable data update intervals, s.
        description: one line for ``meter list``.
    """

    key: str
    idn_models: tuple[str, ...]
    elements: int
    ranges: RangeTable
    intervals_s: tuple[float, ...]
    description: str


def format_interval(seconds: float) -> str:
    """Format an update interval the Yokogawa way: 0.25 -> ``250MS``, 2 -> ``2S``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}MS"
    return f"{seconds:g}S"


def parse_interval(reply: str) -> float:
    """Parse an update-interval reply (``250MS``, ``1S``, ``250.0E-03``); NaN for ``AUTO``."""
    text = reply.strip().upper()
    try:
        if text.endswith("MS"):
            return float(text[:-2]) / 1000
        if text.endswith("S"):
            return float(text[:-1])
        return float(text)
    except ValueError:
        return math.nan


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _parse_crest_factor(reply: str) -> int:
    return 6 if "6" in reply else 3


def format_quantity(value: float, unit: str) -> str:
    """Format a range value with its unit: 0.5, "A" -> ``0.5A``."""
    return f"{value:g}{unit}"


class YokogawaMeter(ScpiMeter):
    """Base of the Yokogawa drivers; subclasses declare commands and the item layout.

    Args:
        transport: see :class:`~power_director.meters.base.ScpiMeter`.
        model: registry key of the model; selects the range table and element count.
    """

    MODELS: ClassVar[Mapping[str, ModelSpec]] = {}

    ERROR_QUEUE = Command(
        get_cmd=":STATus:ERRor?", doc='Pop one error (code,"message").', manual="STATus group"
    )
    REMOTE = Command(":COMMunicate:REMote {value}", None, "Remote/local mode.", "COMMunicate group")
    HEADER = Command(":COMMunicate:HEADer {value}", None, "Reply headers.", "COMMunicate group")
    VERBOSE = Command(":COMMunicate:VERBose {value}", None, "Long/short replies.", "COMMunicate")

    # Declared by each family.
    RATE: ClassVar[Command]
    CREST_FACTOR: ClassVar[Command]
    VOLTS_RANGE: ClassVar[Command]
    VOLTS_AUTO: ClassVar[Command]
    AMPS_RANGE: ClassVar[Command]
    AMPS_AUTO: ClassVar[Command]
    VALUES: ClassVar[Command]
    INTEGRATE_START: ClassVar[Command]
    INTEGRATE_STOP: ClassVar[Command]
    INTEGRATE_RESET: ClassVar[Command]

    def __init__(self, transport: Any, *, model: str | None = None) -> None:
        super().__init__(transport, model=model)
        try:
            self.spec = self.MODELS[self.name]
        except KeyError:
            raise ValueError(
                f"{type(self).__name__} does not drive {self.name!r}; "
                f"models: {', '.join(self.MODELS)}"
            ) from None
        self.accuracy: AccuracySpec | None = ACCURACY.get(self.name)
        self._channels: tuple[int, ...] = tuple(range(1, self.spec.elements + 1))
        self._layout: list[tuple[int, str]] = []
        self._crest_factor = 3
        self._volts_range: dict[int, float | None] = dict.fromkeys(self._channels)
        self._amps_range: dict[int, float | None] = dict.fromkeys(self._channels)
        self._interval_s = math.nan
        self._frequency_hz = 50.0
        self._integrating = False
        self._integration_items = False

    @classmethod
    def describe(cls, name: str) -> str:
        """Return the one-line description of model ``name``."""
        return cls.MODELS[name].description

    # PowerMeter properties.

    @property
    def channel_count(self) -> int:
        """Return the number of channels :meth:`read` returns."""
        return len(self._channels)

    @property
    def channels(self) -> tuple[int, ...]:
        """Return the elements read, 1-based, in reading order."""
        return self._channels

    @property
    def range_table(self) -> RangeTable:
        """Return the model's discrete ranges."""
        return self.spec.ranges

    @property
    def update_interval_s(self) -> float:
        """Return the data update interval, s (NaN if the meter is on AUTO)."""
        return self._interval_s

    @property
    def crest_factor(self) -> int:
        """Return the crest factor in effect."""
        return self._crest_factor

    # Hooks for the families.

    def _state_commands(self) -> list[tuple[Command, dict[str, Any]]]:
        """Return the (command, fields) whose replies are saved at open, in restore order."""
        raise NotImplementedError

    def _range_targets(self, channel: int | None) -> list[dict[str, Any]]:
        """Return the fields of the range commands addressing ``channel`` (None: all)."""
        return [{}]

    def _setup_communication(self) -> None:
        """Send family-specific communication set-up after the common one."""

    def _apply_items(self, channels: tuple[int, ...], integration: bool) -> None:
        """Program the numeric items and set ``self._layout``."""
        raise NotImplementedError

    def _prepare_integration(self) -> None:
        """Send family-specific integration set-up before reset and start."""

    # Sequences.

    def open(self) -> MeterIdentity:
        """Identify, set up communication, save the initial state and program the items."""
        identity = self.require_identity(self.spec.idn_models)
        self.send(self.REMOTE, "ON")
        self.send(self.HEADER, "OFF")
        self.send(self.VERBOSE, "OFF")
        self._setup_communication()
        self.save_state(self._state_commands())
        self._adopt_saved_state()
        self._apply_items(self._channels, False)
        return identity

    def _adopt_saved_state(self) -> None:
        assert self._saved is not None
        for command, _, reply in self._saved:
            if command is self.RATE:
                self._interval_s = parse_interval(reply)
        self._adopt_ranges(self._saved)

    def _range_commands(self) -> list[Command]:
        # Range values belong to the crest factor's table: put it back first if it changed.
        ranges = super()._range_commands()
        saved = [reply for command, _, reply in self._saved or [] if command is self.CREST_FACTOR]
        if saved and _parse_crest_factor(saved[0]) != self._crest_factor:
            return [self.CREST_FACTOR, *ranges]
        return ranges

    def _adopt_ranges(self, saved: list[tuple[Command, dict[str, Any], str]]) -> None:
        auto: dict[Command, set[int]] = {self.VOLTS_AUTO: set(), self.AMPS_AUTO: set()}
        for command, fields, reply in saved:
            # Element-less range commands set every element.
            elements = [int(fields["element"])] if "element" in fields else list(self._volts_range)
            if command is self.CREST_FACTOR:
                self._crest_factor = _parse_crest_factor(reply)
            elif command is self.VOLTS_AUTO or command is self.AMPS_AUTO:
                if reply.strip().upper() in {"1", "ON"}:
                    auto[command].update(elements)
            elif command is self.VOLTS_RANGE or command is self.AMPS_RANGE:
                target = self._volts_range if command is self.VOLTS_RANGE else self._amps_range
                for element in elements:
                    target[element] = _parse_number(reply.split(",")[-1])
        for element in auto[self.VOLTS_AUTO]:
            self._volts_range[element] = None
        for element in auto[self.AMPS_AUTO]:
            self._amps_range[element] = None

    def configure(self, config: MeterConfig) -> None:
        """Apply ``config``; see :class:`~power_director.meters.base.MeterConfig`.

        Raises:
            RangeError: a range, interval, crest factor or channel the model does not have.
        """
        channels = config.channels or tuple(range(1, self.spec.elements + 1))
        bad = [c for c in channels if not 1 <= c <= self.spec.elements]
        if bad:
            raise RangeError(f"{self.name} has elements 1..{self.spec.elements}, not {bad}")
        if config.crest_factor is not None:
            if config.crest_factor not in self.spec.ranges.crest_factors:
                raise RangeError(f"{self.name}: crest factor {config.crest_factor} not supported")
            self._validate_ranges(config.volts_range, config.amps_range, config.crest_factor)
        else:
            self._validate_ranges(config.volts_range, config.amps_range, self._crest_factor)
        interval = config.update_interval_s
        if interval is not None and interval not in self.spec.intervals_s:
            allowed = ", ".join(f"{s:g}" for s in self.spec.intervals_s)
            raise RangeError(f"{self.name}: update interval {interval:g} s not one of {allowed} s")
        self._stop_integration()
        if config.crest_factor is not None:
            self.send(self.CREST_FACTOR, config.crest_factor)
            self._crest_factor = config.crest_factor
        if config.update_interval_s is not None:
            self.send(self.RATE, format_interval(config.update_interval_s))
            self._interval_s = config.update_interval_s
        self._channels = channels
        self._frequency_hz = config.frequency_hz
        if config.volts_range is None and config.amps_range is None:
            self.auto_range()
        else:
            self._set_volts(config.volts_range, None)
            self._set_amps(config.amps_range, None)
        self._apply_items(channels, config.integration)
        self._integration_items = config.integration
        if config.integration:
            self._prepare_integration()
            self.send(self.INTEGRATE_RESET)
            self.send(self.INTEGRATE_START)
            self._integrating = True

    def _validate_ranges(self, volts: float | None, amps: float | None, cf: int) -> None:
        table = self.spec.ranges
        if volts is not None and volts not in table.volts_ranges(cf):
            raise RangeError(
                f"{self.name}: {volts:g} V is not a range at CF{cf}: "
                f"{', '.join(f'{v:g}' for v in table.volts_ranges(cf))}"
            )
        if amps is not None and amps not in table.amps_ranges(cf):
            raise RangeError(
                f"{self.name}: {amps:g} A is not a range at CF{cf}: "
                f"{', '.join(f'{a:g}' for a in table.amps_ranges(cf))}"
            )

    def _set_volts(self, volts: float | None, channel: int | None) -> None:
        for fields in self._range_targets(channel):
            if volts is None:
                self.send(self.VOLTS_AUTO, "ON", **fields)
            else:
                self.send(self.VOLTS_RANGE, format_quantity(volts, "V"), **fields)
        for ch in [channel] if channel else list(self._volts_range):
            self._volts_range[ch] = volts

    def _set_amps(self, amps: float | None, channel: int | None) -> None:
        for fields in self._range_targets(channel):
            if amps is None:
                self.send(self.AMPS_AUTO, "ON", **fields)
            else:
                self.send(self.AMPS_RANGE, format_quantity(amps, "A"), **fields)
        for ch in [channel] if channel else list(self._amps_range):
            self._amps_range[ch] = amps

    def set_ranges(
        self,
        volts_range: float | None = None,
        amps_range: float | None = None,
        *,
        channel: int | None = None,
    ) -> None:
        """Fix the voltage and/or current range, V and A (None leaves that one unchanged).

        Raises:
            RangeError: the value is not in the model's range table at the current crest factor.
        """
        self._validate_ranges(volts_range, amps_range, self._crest_factor)
        if volts_range is not None:
            self._set_volts(volts_range, channel)
        if amps_range is not None:
            self._set_amps(amps_range, channel)

    def auto_range(self, *, channel: int | None = None) -> None:
        """Put voltage and current on auto range (one element, or all when ``channel`` is None)."""
        self._set_volts(None, channel)
        self._set_amps(None, channel)

    def read(self) -> list[ChannelReading]:
        """Query the numeric items once and return one reading per channel."""
        reply = self.ask(self.VALUES)
        try:
            fields = parse_fields(reply, len(self._layout))
        except GarbledFieldError as exc:
            return self.garbled_readings(reply, exc, len(self._channels))
        per_channel: list[dict[str, tuple[float, str | None]]] = [{} for _ in self._channels]
        for (position, quantity), field in zip(self._layout, fields, strict=True):
            per_channel[position][quantity] = field
        return [
            self._reading(ch, values)
            for ch, values in zip(self._channels, per_channel, strict=True)
        ]

    def _reading(self, channel: int, values: dict[str, Field]) -> ChannelReading:
        return build_reading(
            values,
            self._volts_range.get(channel),
            self._amps_range.get(channel),
            self.accuracy,
            frequency_hz=self._frequency_hz,
            crest_factor=self._crest_factor,
        )

    def _stop_integration(self) -> None:
        if self._integrating:
            self.send(self.INTEGRATE_STOP)
            self.send(self.INTEGRATE_RESET)
            self._integrating = False

    def _before_restore(self) -> None:
        self._stop_integration()

    def _return_to_local(self) -> None:
        self.send(self.REMOTE, "OFF")
