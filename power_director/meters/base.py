"""The meter interface (:class:`PowerMeter`), its value types, and the declarative SCPI base.

A driver is a :class:`ScpiMeter` subclass that declares each instrument command once, as a
:class:`Command` class attribute (with the manual section it comes from), and writes methods only
for sequences (open, configure, read, close). ``meter list`` reads those declarations to show the
commands each model uses. Lifecycle::

    meter = YokogawaWT300(transport, model="wt310e")   # no I/O
    meter.open()              # identify, set up communication, save the initial state
    meter.configure(MeterConfig(update_interval_s=0.25, volts_range=300.0, amps_range=1.0))
    readings = meter.read()   # list[ChannelReading], one per channel
    meter.restore_ranges()    # the ranges saved at open, fixed or auto (optional)
    meter.close()             # restore the saved state, close the transport
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from power_director.errors import (
    MeterError,
    MeterProtocolError,
    PowerDirectorError,
    RangeError,
    TransportError,
)
from power_director.meters.commands import Command
from power_director.samples import FLAG_GARBLED, ChannelReading
from power_director.transport.base import Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MeterIdentity:
    """What ``*IDN?`` says: manufacturer, model, serial number, firmware version."""

    manufacturer: str
    model: str
    serial: str
    firmware: str

    @classmethod
    def parse(cls, reply: str) -> MeterIdentity:
        """Parse an IEEE 488.2 ``*IDN?`` reply (missing fields become "")."""
        parts = [p.strip() for p in reply.split(",")] + ["", "", "", ""]
        return cls(parts[0], parts[1], parts[2], ",".join(p for p in parts[3:] if p))


@dataclass(frozen=True, slots=True)
class MeterConfig:
    """How to set a meter up for a measurement.

    Attributes:
        update_interval_s: data update interval, s; None keeps the meter's.
        crest_factor: 3 or 6; None keeps the meter's.
        volts_range: fixed voltage range, V; None means auto range.
        amps_range: fixed current range, A; None means auto range.
        channels: channels (elements, 1-based) to read; None reads all.
        integration: also read integrated energy (starts the meter's integrator).
        frequency_hz: signal frequency assumed for uncertainty (0 for DC).
    """

    update_interval_s: float | None = None
    crest_factor: int | None = None
    volts_range: float | None = None
    amps_range: float | None = None
    channels: tuple[int, ...] | None = None
    integration: bool = False
    frequency_hz: float = 50.0


def smallest_range_at_least(
    ranges: tuple[float, ...], value: float, *, what: str = "value"
) -> float:
    """Return the smallest range >= ``value``.

    Raises:
        RangeError: ``value`` exceeds the largest range.
    """
    for candidate in sorted(ranges):
        if candidate >= value:
            return candidate
    raise RangeError(f"{what} {value:g} exceeds the largest range {max(ranges, default=0):g}")


@dataclass(frozen=True, slots=True)
class RangeTable:
    """The discrete voltage and current ranges of a model, per crest factor.

    Attributes:
        volts: crest factor -> voltage ranges, V, ascending.
        amps: crest factor -> current ranges, A, ascending.
    """

    volts: Mapping[int, tuple[float, ...]] = field(default_factory=dict)
    amps: Mapping[int, tuple[float, ...]] = field(default_factory=dict)

    @property
    def crest_factors(self) -> tuple[int, ...]:
        """Return the crest factors the table covers."""
        return tuple(sorted(self.volts))

    def volts_ranges(self, crest_factor: int = 3) -> tuple[float, ...]:
        """Return the voltage ranges at ``crest_factor``, V."""
        return self._lookup(self.volts, crest_factor)

    def amps_ranges(self, crest_factor: int = 3) -> tuple[float, ...]:
        """Return the current ranges at ``crest_factor``, A."""
        return self._lookup(self.amps, crest_factor)

    def pick_volts(self, max_volts: float, crest_factor: int = 3) -> float:
        """Return the smallest voltage range >= ``max_volts``, V."""
        return smallest_range_at_least(self.volts_ranges(crest_factor), max_volts, what="voltage")

    def pick_amps(self, max_amps: float, crest_factor: int = 3) -> float:
        """Return the smallest current range >= ``max_amps``, A."""
        return smallest_range_at_least(self.amps_ranges(crest_factor), max_amps, what="current")

    @staticmethod
    def _lookup(table: Mapping[int, tuple[float, ...]], crest_factor: int) -> tuple[float, ...]:
        try:
            return table[crest_factor]
        except KeyError:
            raise RangeError(
                f"no ranges for crest factor {crest_factor}; known: {sorted(table)}"
            ) from None


@runtime_checkable
class PowerMeter(Protocol):
    """A power meter or software power source the director can sample."""

    name: str

    @property
    def channel_count(self) -> int:
        """Return the number of channels :meth:`read` returns."""

    @property
    def range_table(self) -> RangeTable:
        """Return the model's discrete ranges (empty for software sources)."""

    @property
    def update_interval_s(self) -> float:
        """Return the meter's data update interval, s."""

    def open(self) -> MeterIdentity:
        """Identify the meter, prepare communication and save its initial state."""

    def identify(self) -> MeterIdentity:
        """Return the meter's identity."""

    def configure(self, config: MeterConfig) -> None:
        """Apply ``config`` (update rate, crest factor, ranges, channels, integration)."""

    def read(self) -> list[ChannelReading]:
        """Return the latest reading of every configured channel."""

    def set_ranges(
        self,
        volts_range: float | None = None,
        amps_range: float | None = None,
        *,
        channel: int | None = None,
    ) -> None:
        """Fix the voltage and/or current range (None leaves that one as it is)."""

    def auto_range(self) -> None:
        """Put voltage and current on auto range."""

    def close(self) -> None:
        """Restore the state saved by :meth:`open` and close the connection."""


class ScpiMeter:
    """Base of SCPI / IEEE 488.2 meter drivers: identity, reset, error queue, command helpers.

    Args:
        transport: an open transport (a :class:`~power_director.testing.ProtocolTransport`
            in protocol tests). The constructor does no I/O.
        model: the registry key of the model (e.g. ``"wt310e"``).
    """

    IDN = Command(get_cmd="*IDN?", doc="Identify the instrument.", manual="IEEE 488.2 *IDN?")
    RESET = Command(set_cmd="*RST", doc="Reset to factory defaults.", manual="IEEE 488.2 *RST")
    CLEAR_STATUS = Command(set_cmd="*CLS", doc="Clear status and error queue.", manual="*CLS")
    ERROR_QUEUE = Command(get_cmd="SYSTem:ERRor?", doc="Pop one error.", manual="SCPI SYSTem:ERRor")

    #: Registry key used when none is given.
    default_model: ClassVar[str] = ""

    def __init__(self, transport: Transport, *, model: str | None = None) -> None:
        self.transport = transport
        self.name = model or self.default_model
        self.identity: MeterIdentity | None = None
        self.garbled_count = 0
        # (command, fields, reply) queried at open, written back in this order at close
        self._saved: list[tuple[Command, dict[str, Any], str]] | None = None

    @classmethod
    def commands(cls) -> list[Command]:
        """Return every command the driver declares (including inherited ones)."""
        seen: dict[str, Command] = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Command):
                    seen[attr] = value
        return list(seen.values())

    def send(self, command: Command, value: Any = None, **fields: Any) -> None:
        """Write ``command``'s set form."""
        self.transport.write(command.format_set(value, **fields))

    def ask(self, command: Command, **fields: Any) -> str:
        """Write ``command``'s query form and return the reply."""
        return self.transport.query(command.format_get(**fields)).strip()

    def ask_float(self, command: Command, **fields: Any) -> float:
        """Query ``command`` and parse the reply as a number.

        Raises:
            MeterProtocolError: the reply is not a number.
        """
        text = self.ask(command, **fields)
        try:
            return float(text.split(",")[-1])
        except ValueError:
            raise self.protocol_error(command.format_get(**fields), text, "not a number") from None

    def protocol_error(self, sent: str, received: str, reason: str) -> MeterProtocolError:
        """Build a :class:`MeterProtocolError` for this meter's transport."""
        return MeterProtocolError(
            self.transport.resource,
            sent.encode("ascii", "surrogateescape"),
            received.encode("ascii", "surrogateescape"),
            reason,
        )

    def identify(self) -> MeterIdentity:
        """Return the parsed ``*IDN?`` reply."""
        self.identity = MeterIdentity.parse(self.ask(self.IDN))
        return self.identity

    def reset(self) -> None:
        """Reset the meter to factory defaults (``*RST``)."""
        self.send(self.RESET)

    def check_errors(self, limit: int = 16) -> list[str]:
        """Drain the error queue; return the error entries (empty when none)."""
        errors: list[str] = []
        for _ in range(limit):
            entry = self.ask(self.ERROR_QUEUE)
            code = entry.split(",", 1)[0].strip()
            if code in {"0", "+0"}:
                break
            errors.append(entry)
        if errors:
            log.warning("%s error queue: %s", self.transport.resource, errors)
        return errors

    def save_state(self, commands: list[tuple[Command, dict[str, Any]]]) -> None:
        """Query ``commands`` and remember the replies for :meth:`close` to restore."""
        self._saved = [
            (command, fields, self.ask(command, **fields)) for command, fields in commands
        ]

    @property
    def initial_state(self) -> list[tuple[Command, dict[str, Any], str]] | None:
        """Return the state saved at open, ``(command, fields, reply)`` in restore order."""
        return None if self._saved is None else list(self._saved)

    def keep_initial_state(self, saved: list[tuple[Command, dict[str, Any], str]]) -> None:
        """Restore ``saved`` instead of what :meth:`open` saved.

        For a reconnect: ``saved`` is the :attr:`initial_state` of an earlier connection to the
        same meter, the state to put back at the end; the ranges in effect are not changed.
        """
        self._saved = list(saved)

    def _range_commands(self) -> list[Command]:
        """Return the state commands that hold the ranges (fixed value and auto flag).

        Default: the driver's ``VOLTS_RANGE``, ``VOLTS_AUTO``, ``AMPS_RANGE`` and ``AMPS_AUTO``
        declarations, those it has.
        """
        names = ("VOLTS_RANGE", "VOLTS_AUTO", "AMPS_RANGE", "AMPS_AUTO")
        return [c for c in (getattr(self, name, None) for name in names) if isinstance(c, Command)]

    def _adopt_ranges(self, saved: list[tuple[Command, dict[str, Any], str]]) -> None:
        """Hook: take the range replies among ``saved`` as the ranges now in effect."""

    def restore_ranges(self) -> None:
        """Write back the ranges saved at open, in the order they were saved.

        Voltage and current, fixed value or auto, per element where the meter saves them per
        element; the rest of the saved state (update rate, items, ...) waits for :meth:`close`.

        Raises:
            MeterError: nothing was saved (the meter is not open).
        """
        if self._saved is None:
            raise MeterError(f"{self.transport.resource}: no initial ranges saved (not open)")
        commands = self._range_commands()
        entries = [entry for entry in self._saved if any(entry[0] is c for c in commands)]
        for command, fields, reply in entries:
            self.send(command, reply, **fields)
        self._adopt_ranges(entries)

    def garbled_readings(self, reply: str, reason: Exception, count: int) -> list[ChannelReading]:
        """Count and log a reply that could not be parsed; return ``count`` invalid readings."""
        self.garbled_count += 1
        log.warning(
            "%s garbled reply %r (%s); reading marked invalid",
            self.transport.resource,
            reply.encode("ascii", "surrogateescape"),
            reason,
        )
        self.transport.discard_input()
        return [ChannelReading.invalid(FLAG_GARBLED) for _ in range(count)]

    def _before_restore(self) -> None:
        """Hook: stop what the driver started (integration) before the state is restored."""

    def _return_to_local(self) -> None:
        """Hook: hand the front panel back after the state is restored."""

    def close(self) -> None:
        """Restore the state saved at open, return to local, close the transport.

        Failures while restoring are logged, never raised: the transport is closed regardless.
        """
        try:
            if self._saved is not None and not self.transport.closed:
                self._before_restore()
                for command, fields, reply in self._saved:
                    self.send(command, reply, **fields)
                self._return_to_local()
                self._saved = None
        except PowerDirectorError as exc:
            log.warning("%s: could not restore the initial state: %s", self.transport.resource, exc)
        finally:
            self.close_transport()

    def close_transport(self) -> None:
        """Close the transport, logging (not raising) failures."""
        try:
            self.transport.close()
        except TransportError as exc:
            log.debug("%s close: %s", self.transport.resource, exc)

    def require_identity(self, accepted: tuple[str, ...]) -> MeterIdentity:
        """Identify and check the model field starts with one of ``accepted`` (upper case).

        Raises:
            MeterError: the meter is another model.
        """
        identity = self.identify()
        if accepted and not identity.model.upper().startswith(accepted):
            raise MeterError(
                f"{self.transport.resource}: *IDN? says {identity.manufacturer} "
                f"{identity.model!r}, expected one of {', '.join(accepted)}"
            )
        return identity
