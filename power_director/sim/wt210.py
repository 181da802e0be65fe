"""The Yokogawa WT210 dialect (488.2 mode) as the simulator speaks it.

Source: ecosystem.md §4.2 (yoko-tool's WT210 table, IM 760401-01E excerpts). Beyond
:mod:`~power_director.sim.common` and :mod:`~power_director.sim.input_commands` (under
``:CONFigure``, crest factor 3|6, integration without ``:STATe?``):

* ``:MEASure[:NORMal]:ITEM:<name> ON|OFF`` with names V, A, W, VA, VAR, PF, DEGRee, VHZ,
  AHZ, WH, WHP, WHM, AH, AHP, AHM, MATH (always no data: MATH is not simulated), VPK, APK,
  TIME; ``:MEASure[:NORMal]:VALue?`` returns the
  enabled items in that fixed order, NR3, ``9.91E+37`` for no data and ``9.9E+37`` for over
  range.
* ``:SAMPle:RATE <0.1|0.25|0.5|1|2|5 s>`` (``100MS`` style accepted), ``:SAMPle:HOLD``.
* Stored only: ``:CONFigure:MODE``, ``:CONFigure:WIRing``, ``:CONFigure:LFILter``,
  ``:CONFigure:FILTer``, ``:CONFigure:SYNChronize``, ``:CONFigure:MHOLd``,
  ``:CONFigure:AVERaging:STATe``, ``:CONFigure:AVERaging:TYPE <type>,<count>``.

Assumptions: the ``[:NORMal]`` node; V, A, W enabled after ``*RST``; the item order above;
which marker means no data and which over range; ``*IDN?`` naming model code 760401.
"""

from __future__ import annotations

import math

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
from power_director.sim.scpi import ScpiError, format_nr3, parse_bool, parse_choice, parse_int

__all__ = ["ITEMS", "RATES_S", "format_wt210_value", "wt210_commands"]

RATES_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
NO_DATA = "9.91E+37"
OVER_RANGE = "9.9E+37"

ITEMS: dict[str, Quantity | None] = {
    "V": Quantity.VOLTS,
    "A": Quantity.AMPS,
    "W": Quantity.WATTS,
    "VA": Quantity.VOLT_AMPS,
    "VAR": Quantity.VARS,
    "PF": Quantity.POWER_FACTOR,
    "DEGRee": Quantity.PHASE_DEG,
    "VHZ": Quantity.VOLTS_FREQUENCY_HZ,
    "AHZ": Quantity.AMPS_FREQUENCY_HZ,
    "WH": Quantity.WATT_HOURS,
    "WHP": Quantity.WATT_HOURS_POS,
    "WHM": Quantity.WATT_HOURS_NEG,
    "AH": Quantity.AMP_HOURS,
    "AHP": Quantity.AMP_HOURS_POS,
    "AHM": Quantity.AMP_HOURS_NEG,
    "MATH": None,
    "VPK": Quantity.VOLTS_PEAK_POS,
    "APK": Quantity.AMPS_PEAK_POS,
    "TIME": Quantity.INTEGRATION_TIME_S,
}
_DEFAULT_ENABLED = frozenset({"V", "A", "W"})


def format_wt210_value(value: float) -> str:
    """NR3 with 5 digits; ``9.91E+37`` for no data, ``9.9E+37`` for over range."""
    if math.isnan(value):
        return NO_DATA
    if math.isinf(value):
        return OVER_RANGE if value > 0 else "-" + OVER_RANGE
    return format_nr3(value)


def wt210_commands(context: MeterContext) -> list[Command]:
    """Every command the simulated WT210 understands."""
    engine = context.engine
    enabled = {name: name in _DEFAULT_ENABLED for name in ITEMS}
    averaging = {"type": "EXPonent", "count": "8"}

    def reset() -> None:
        enabled.update({name: name in _DEFAULT_ENABLED for name in ITEMS})
        averaging.update({"type": "EXPonent", "count": "8"})

    context.reset_hooks.append(reset)

    def item_command(name: str) -> Command:
        def set_(args: Args) -> None:
            enabled[name] = parse_bool(args.exactly(1)[0])

        return Command(
            f":MEASure[:NORMal]:ITEM:{name}",
            set=set_,
            query=lambda args: "1" if enabled[name] else "0",
        )

    def value(args: Args) -> str:
        args.exactly(0)
        reading = engine.reading(args.now_s)
        values = [
            math.nan if q is None else reading.value(q)
            for name, q in ITEMS.items()
            if enabled[name]
        ]
        return ",".join(format_wt210_value(v) for v in values)

    def set_rate(args: Args) -> None:
        engine.set_update_interval(args.now_s, parse_interval(args.exactly(1)[0], RATES_S, engine))

    def set_hold(args: Args) -> None:
        on = parse_bool(args.exactly(1)[0])
        engine.advance(args.now_s)
        engine.hold = on

    def set_averaging_type(args: Args) -> None:
        kind, count = args.exactly(2)
        spelling = parse_choice(kind, ("LINear", "EXPonent"))
        if parse_int(count) not in (8, 16, 32, 64):
            raise ScpiError(224, f"averaging count {count!r}")
        averaging.update({"type": spelling, "count": str(parse_int(count))})

    return [
        *common_commands(context),
        *range_commands(context, ":CONFigure"),
        crest_factor_command(context, ":CONFigure:CFACtor", ("3", "6")),
        stored_choice(context, ":CONFigure:MODE", ("RMS", "VMEan", "DC"), "RMS"),
        stored_choice(context, ":CONFigure:WIRing", ("P1W2",), "P1W2"),
        stored_switch(context, ":CONFigure:LFILter", False),
        stored_switch(context, ":CONFigure:FILTer", False),
        stored_choice(context, ":CONFigure:SYNChronize", ("VOLTage", "CURRent", "OFF"), "CURRent"),
        stored_switch(context, ":CONFigure:MHOLd", False),
        stored_switch(context, ":CONFigure:AVERaging:STATe", False),
        Command(
            ":CONFigure:AVERaging:TYPE",
            set=set_averaging_type,
            query=lambda args: f"{averaging['type'][:3].upper()},{averaging['count']}",
        ),
        *(item_command(name) for name in ITEMS),
        Command(":MEASure[:NORMal]:VALue", query=value, bare=True),
        Command(
            ":SAMPle:RATE",
            set=set_rate,
            query=lambda args: format_interval(engine.update_interval_s),
        ),
        Command(":SAMPle:HOLD", set=set_hold, query=lambda args: "1" if engine.hold else "0"),
        *integration_commands(context, with_state=False),
    ]
