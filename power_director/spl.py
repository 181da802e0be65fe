"""The ``spl.txt`` line format PTDaemon writes and the MLPerf power checker reads.

Single channel (power-dev#273)::

    Time,01-10-2023 13:35:07.085,Watts,16.900000,Volts,248.110000,Amps,0.145300,PF,0.468700,Mark,m

Fields by index: 1 timestamp (``MM-DD-YYYY HH:MM:SS.mmm``, UTC, milliseconds truncated),
3 Watts, 5 Volts, 7 Amps, 9 PF, 11 Mark; the checkers read 1, 3 and 9. Numbers are ``%f`` (six
decimals). An invalid value is written ``-1.000000`` as PTDaemon does, so the checker's
"only W > 0 counts" rule drops it.

Several channels (one meter's elements, or channels merged from several meters): the summed
line first, then one group per channel, as PTDaemon's multichannel form::

    Time,<ts>,Watts,<sum W>,Volts,-1.000000,Amps,-1.000000,PF,<PF>,Mark,<m>,Ch1,Watts,...,Ch2,...

The summed Volts and Amps are -1 (no meaningful sum). Unlike PTDaemon, which writes -1 there too
(power-dev bug B6), the summed PF is the combined power factor sum(W) / sum(V x A), so field 9
stays meaningful; it is -1 when any channel is invalid.
"""

from __future__ import annotations

import calendar
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from power_director.samples import ChannelReading

log = logging.getLogger(__name__)

#: What PTDaemon writes for a value it does not have.
INVALID = -1.0
_TIME_FORMAT = "%m-%d-%Y %H:%M:%S"


def spl_timestamp(t_wall_ns: int) -> str:
    """Format UTC wall-clock ns as ``MM-DD-YYYY HH:MM:SS.mmm`` (milliseconds truncated)."""
    seconds, ns = divmod(t_wall_ns, 1_000_000_000)
    return f"{time.strftime(_TIME_FORMAT, time.gmtime(seconds))}.{ns // 1_000_000:03d}"


def parse_spl_timestamp(text: str) -> int:
    """Parse ``MM-DD-YYYY HH:MM:SS.mmm`` (UTC) into wall-clock ns since the epoch."""
    main, _, millis = text.strip().partition(".")
    seconds = calendar.timegm(time.strptime(main, _TIME_FORMAT))
    return seconds * 1_000_000_000 + int((millis or "0").ljust(3, "0")[:3]) * 1_000_000


def _num(value: float) -> str:
    return f"{INVALID if math.isnan(value) else value:f}"


def _group(reading: ChannelReading) -> str:
    if not reading.valid:
        reading = ChannelReading.invalid()
    return (
        f"Watts,{_num(reading.watts)},Volts,{_num(reading.volts)},"
        f"Amps,{_num(reading.amps)},PF,{_num(reading.power_factor)}"
    )


def combined_power_factor(readings: Sequence[ChannelReading]) -> float:
    """Return sum(W) / sum(V x A) over ``readings``; NaN if any is invalid or S is 0."""
    if not readings or not all(r.valid for r in readings):
        return math.nan
    apparent = math.fsum(r.volts * r.amps for r in readings)
    if not apparent or math.isnan(apparent):
        return math.nan
    return math.fsum(r.watts for r in readings) / apparent


def format_spl_line(t_wall_ns: int, readings: Sequence[ChannelReading], mark: str) -> str:
    """Return one ``spl.txt`` line (no line terminator) for ``readings`` at ``t_wall_ns``."""
    head = f"Time,{spl_timestamp(t_wall_ns)},"
    if len(readings) == 1:
        return f"{head}{_group(readings[0])},Mark,{mark}"
    valid = bool(readings) and all(r.valid for r in readings)
    total = math.fsum(r.watts for r in readings) if valid else math.nan
    pf = combined_power_factor(readings)
    groups = "".join(f",Ch{i},{_group(r)}" for i, r in enumerate(readings, 1))
    return (
        f"{head}Watts,{_num(total)},Volts,{_num(math.nan)},Amps,{_num(math.nan)},"
        f"PF,{_num(pf)},Mark,{mark}{groups}"
    )


@dataclass(frozen=True, slots=True)
class SplChannel:
    """One ``ChN`` group of a multichannel line. Units: W, V, A; -1 means invalid."""

    watts: float
    volts: float
    amps: float
    power_factor: float


@dataclass(frozen=True, slots=True)
class SplRecord:
    """One parsed ``spl.txt`` line. Units: W, V, A; -1 means invalid (as written).

    Attributes:
        t_wall_ns: the line's UTC timestamp, ns (millisecond resolution).
        watts: field 3 (the sum on multichannel lines).
        volts: field 5.
        amps: field 7.
        power_factor: field 9.
        mark: field 11.
        channels: the ``ChN`` groups (empty on single-channel lines).
    """

    t_wall_ns: int
    watts: float
    volts: float
    amps: float
    power_factor: float
    mark: str
    channels: tuple[SplChannel, ...] = ()


def parse_spl_line(line: str) -> SplRecord:
    """Parse one ``spl.txt`` line.

    Raises:
        ValueError: the line is not a ``Time,...`` sample line.
    """
    fields = line.rstrip("\r\n").split(",")
    if (
        len(fields) < 12
        or fields[0] != "Time"
        or fields[2:11:2]
        != [
            "Watts",
            "Volts",
            "Amps",
            "PF",
            "Mark",
        ]
    ):
        raise ValueError(f"not an spl.txt sample line: {line!r}")
    channels = []
    rest = fields[12:]
    while len(rest) >= 9 and rest[0].startswith("Ch"):
        channels.append(SplChannel(float(rest[2]), float(rest[4]), float(rest[6]), float(rest[8])))
        rest = rest[9:]
    return SplRecord(
        parse_spl_timestamp(fields[1]),
        float(fields[3]),
        float(fields[5]),
        float(fields[7]),
        float(fields[9]),
        fields[11],
        tuple(channels),
    )


def read_spl(path: str | os.PathLike[str]) -> list[SplRecord]:
    """Read every sample line of an ``spl.txt`` file; other lines are skipped (logged at DEBUG).

    A truncated last line (the writer crashed mid-line) is skipped too.
    """
    records = []
    with open(path, encoding="ascii", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            try:
                records.append(parse_spl_line(line))
            except ValueError:
                log.debug("spl line %d skipped: %r", number, line)
    return records
