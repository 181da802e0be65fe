"""The Yokogawa WT310E dialect (WT300E family, one element) as the simulator speaks it.

Source: ecosystem.md §4.1 (IM WT310E-17EN communication manual excerpts, yoko-tool and
MLPerf power-dev usage). Beyond :mod:`~power_director.sim.common` and
:mod:`~power_director.sim.input_commands`:

* ``:RATE <time>`` / ``:RATE?``: 100MS, 250MS, 500MS, 1S, 2S, 5S, 10S, 20S (``AUTO`` is
  not simulated and refused with 224); also the simulator's configured interval and the
  one in effect, so a driver can restore what ``:RATE?`` said (simulator extension).
* ``:NUMeric:FORMat ASCii|FLOat``; ``:NUMeric[:NORMal]:NUMber <1..255>|ALL``;
  ``:NUMeric[:NORMal]:ITEM<1..255> NONE|<function>[,<element>[,TOTal]]``;
  ``:NUMeric[:NORMal]:VALue? [<n>]`` (ASCII: NR3 comma list, ``NAN`` = no data,
  ``INF`` = over range; FLOat: ``#4<len>`` block of big-endian IEEE singles);
  ``:NUMeric[:NORMal]:PRESet <1..4>``; ``:NUMeric[:NORMal]:CLEar ALL|<first>[,<last>]``.
* ``:HOLD`` / ``:NUMeric:HOLD ON|OFF`` freeze the values (integration keeps running).
* ``:INPut:POVer?``: peak-over bits, 1 = voltage, 2 = current (bit layout assumed).
* Stored only (accepted, queried back, no effect on values): ``:INPut:MODE``,
  ``:INPut:WIRing`` (P1W2), ``:INPut:FILTer:LINE``, ``:INPut:FILTer:FREQuency``,
  ``:INPut:SYNChronize``, ``:MEASure:AVERaging:STATe|TYPE|COUNt``, ``:MEASure:MHOLd``,
  ``:SYSTem:COMMunicate:COMMand WT300`` (WT200 emulation is not simulated).

Assumptions: after ``*RST`` items 1-10 are U, I, P, S, Q, LAMBda, PHI, FU, FI, NONE of
element 1 and NUMber is 10, and every ``PRESet`` gives that layout; ``TIME`` is reported in
seconds; element 1 is the only element (``SIGMa`` and 2-3 are refused with 224);
``URANge`` / ``IRANge`` items (range in effect, V / A; named in yoko-tool's item list, not
in our manual excerpts) are reported even when there is no data.
"""

from __future__ import annotations

import math
import struct

from power_director.sim.commands import Args, Command
from power_director.sim.common import (
    MeterContext,
    common_commands,
    format_interval,
    parse_interval,
    stored_choice,
    stored_switch,
)
from power_director.sim.input_commands import (
    crest_factor_command,
    integration_commands,
    range_commands,
)
from power_director.sim.reading import Quantity
from power_director.sim.scpi import (
    ScpiError,
    format_nr3,
    parse_bool,
    parse_choice,
    parse_int,
    short_form,
)

__all__ = ["RATES_S", "Wt310eNumeric", "format_wt310e_value", "wt310e_commands"]

RATES_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
MAX_ITEMS = 255

FUNCTIONS: dict[str, Quantity] = {
    "U": Quantity.VOLTS,
    "I": Quantity.AMPS,
    "P": Quantity.WATTS,
    "S": Quantity.VOLT_AMPS,
    "Q": Quantity.VARS,
    "LAMBda": Quantity.POWER_FACTOR,
    "PHI": Quantity.PHASE_DEG,
    "FU": Quantity.VOLTS_FREQUENCY_HZ,
    "FI": Quantity.AMPS_FREQUENCY_HZ,
    "UPPeak": Quantity.VOLTS_PEAK_POS,
    "UMPeak": Quantity.VOLTS_PEAK_NEG,
    "IPPeak": Quantity.AMPS_PEAK_POS,
    "IMPeak": Quantity.AMPS_PEAK_NEG,
    "PPPeak": Quantity.WATTS_PEAK_POS,
    "PMPeak": Quantity.WATTS_PEAK_NEG,
    "WH": Quantity.WATT_HOURS,
    "WHP": Quantity.WATT_HOURS_POS,
    "WHM": Quantity.WATT_HOURS_NEG,
    "AH": Quantity.AMP_HOURS,
    "AHP": Quantity.AMP_HOURS_POS,
    "AHM": Quantity.AMP_HOURS_NEG,
    "TIME": Quantity.INTEGRATION_TIME_S,
    "URANge": Quantity.VOLTS_RANGE,
    "IRANge": Quantity.AMPS_RANGE,
}
_NONE = "NONE"
_DEFAULT_LAYOUT = ("U", "I", "P", "S", "Q", "LAMBda", "PHI", "FU", "FI")
_DEFAULT_NUMBER = 10


def format_wt310e_value(value: float) -> str:
    """ASCII numeric data: NR3 with 5 digits; ``NAN`` for no data, ``INF`` for over range."""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    return format_nr3(value)


class Wt310eNumeric:
    """``:NUMeric`` state: item functions (``ITEM<n>``), ``NUMber`` and the data format."""

    def __init__(self) -> None:
        self.functions: list[str] = []
        self.number = _DEFAULT_NUMBER
        self.binary = False
        self.reset()

    def preset(self) -> None:
        self.functions = list(_DEFAULT_LAYOUT) + [_NONE] * (MAX_ITEMS - len(_DEFAULT_LAYOUT))
        self.number = _DEFAULT_NUMBER

    def reset(self) -> None:
        self.preset()
        self.binary = False


def wt310e_commands(context: MeterContext) -> list[Command]:
    """Every command the simulated WT310E understands."""
    engine = context.engine
    items = Wt310eNumeric()
    context.reset_hooks.append(items.reset)

    def set_rate(args: Args) -> None:
        engine.set_update_interval(args.now_s, parse_interval(args.exactly(1)[0], RATES_S, engine))

    def set_item(args: Args) -> None:
        index = args.suffix(1, MAX_ITEMS)
        if not args.params:
            raise ScpiError(109)
        if len(args.params) > 3:
            raise ScpiError(108)
        function = parse_choice(args.params[0], (*FUNCTIONS, _NONE))
        if len(args.params) >= 2 and args.params[1].strip() != "1":
            raise ScpiError(224, f"element {args.params[1]!r} (the WT310E has element 1 only)")
        if len(args.params) == 3 and parse_choice(args.params[2], ("TOTal",)) != "TOTal":
            raise ScpiError(224)
        items.functions[index - 1] = function

    def item(args: Args) -> str:
        function = items.functions[args.suffix(1, MAX_ITEMS) - 1]
        if function == _NONE:
            return _NONE
        word = function.upper() if context.response.verbose else short_form(function)
        return f"{word},1"

    def set_number(args: Args) -> None:
        text = args.exactly(1)[0].strip().upper()
        number = MAX_ITEMS if text == "ALL" else parse_int(text)
        if not 1 <= number <= MAX_ITEMS:
            raise ScpiError(222, f"NUMber {number} outside 1..{MAX_ITEMS}")
        items.number = number

    def value(args: Args) -> str:
        if len(args.params) > 1:
            raise ScpiError(108)
        reading = engine.reading(args.now_s)
        if args.params:
            index = parse_int(args.params[0])
            if not 1 <= index <= MAX_ITEMS:
                raise ScpiError(222, f"item {index} outside 1..{MAX_ITEMS}")
            selected = [items.functions[index - 1]]
        else:
            selected = items.functions[: items.number]
        values = [math.nan if f == _NONE else reading.value(FUNCTIONS[f]) for f in selected]
        if items.binary:
            payload = struct.pack(f">{len(values)}f", *values)
            return f"#4{len(payload):04d}" + payload.decode("latin-1")
        return ",".join(format_wt310e_value(v) for v in values)

    def set_preset(args: Args) -> None:
        pattern = parse_int(args.exactly(1)[0])
        if not 1 <= pattern <= 4:
            raise ScpiError(222, f"preset {pattern} outside 1..4")
        items.preset()

    def clear(args: Args) -> None:
        if not args.params:
            raise ScpiError(109)
        if args.params[0].strip().upper() == "ALL":
            args.exactly(1)
            first, last = 1, MAX_ITEMS
        else:
            first = parse_int(args.params[0])
            last = parse_int(args.params[1]) if len(args.params) > 1 else MAX_ITEMS
        if not 1 <= first <= last <= MAX_ITEMS:
            raise ScpiError(222, "item range out of 1..255")
        for index in range(first - 1, last):
            items.functions[index] = _NONE

    def set_format(args: Args) -> None:
        items.binary = parse_choice(args.exactly(1)[0], ("ASCii", "FLOat")) == "FLOat"

    def set_hold(args: Args) -> None:
        on = parse_bool(args.exactly(1)[0])
        engine.advance(args.now_s)
        engine.hold = on

    def peak_over(args: Args) -> str:
        reading = engine.reading(args.now_s)
        if not reading.valid:
            return "0"
        volts = reading.volts_peak > engine.voltage.value * engine.voltage.crest_factor
        amps = reading.amps_peak > engine.current.value * engine.current.crest_factor
        return str(int(volts) | int(amps) << 1)

    hold_query = lambda args: "1" if engine.hold else "0"  # noqa: E731
    return [
        *common_commands(context),
        Command(":RATE", set=set_rate, query=lambda a: format_interval(engine.update_interval_s)),
        *range_commands(context, ":INPut"),
        crest_factor_command(context, ":INPut:CFACtor", ("3", "6", "A6")),
        stored_choice(context, ":INPut:MODE", ("RMS", "VMEan", "DC"), "RMS"),
        stored_choice(context, ":INPut:WIRing", ("P1W2",), "P1W2"),
        stored_switch(context, ":INPut:FILTer:LINE", False),
        stored_switch(context, ":INPut:FILTer:FREQuency", False),
        stored_choice(context, ":INPut:SYNChronize", ("VOLTage", "CURRent", "OFF"), "CURRent"),
        Command(":INPut:POVer", query=peak_over),
        stored_switch(context, ":MEASure:AVERaging:STATe", False),
        stored_choice(context, ":MEASure:AVERaging:TYPE", ("LINear", "EXPonent"), "EXPonent"),
        stored_choice(context, ":MEASure:AVERaging:COUNt", ("8", "16", "32", "64"), "8"),
        stored_switch(context, ":MEASure:MHOLd", False),
        stored_choice(context, ":SYSTem:COMMunicate:COMMand", ("WT300",), "WT300"),
        Command(
            ":NUMeric:FORMat",
            set=set_format,
            query=lambda args: (
                ("FLOAT" if items.binary else "ASCII")
                if context.response.verbose
                else ("FLO" if items.binary else "ASC")
            ),
        ),
        Command(":NUMeric[:NORMal]:NUMber", set=set_number, query=lambda a: str(items.number)),
        Command(":NUMeric[:NORMal]:ITEM<n>", set=set_item, query=item),
        Command(":NUMeric[:NORMal]:VALue", query=value, bare=True),
        Command(":NUMeric[:NORMal]:PRESet", set=set_preset),
        Command(":NUMeric[:NORMal]:CLEar", set=clear),
        Command(":NUMeric:HOLD", set=set_hold, query=hold_query),
        Command(":HOLD", set=set_hold, query=hold_query),
        *integration_commands(context, with_state=True),
    ]
