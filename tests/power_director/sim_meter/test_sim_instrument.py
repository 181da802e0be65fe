"""Dialect and physics behaviour of the simulated meter, driven line by line with a fake clock."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sim_helpers import FakeClock

from power_director.errors import SimulatorError
from power_director.sim import ConstantLoad, SimulatedInstrument, SimulatorConfig
from power_director.sim.profile import parse_profile

INTERVAL_S = 0.1


def make(
    dialect: str = "wt310e",
    watts: float = 100.0,
    clock: FakeClock | None = None,
    **config: Any,
) -> tuple[SimulatedInstrument, FakeClock]:
    clock = clock if clock is not None else FakeClock()
    settings = {"update_interval_s": INTERVAL_S, **config}
    sim = SimulatedInstrument(
        dialect, ConstantLoad(watts), SimulatorConfig(**settings), seed=3, clock=clock
    )
    return sim, clock


def values(sim: SimulatedInstrument, query: str = ":NUM:NORM:VAL?") -> list[float]:
    reply = sim.handle_line(query)
    assert reply is not None
    return [float(v) for v in reply.split(",")]


def test_idn_and_common_commands() -> None:
    sim, _ = make()
    assert sim.handle_line("*IDN?") == "YOKOGAWA,WT310E,C2SIM0001,F1.02"
    assert sim.handle_line("*idn?") == "YOKOGAWA,WT310E,C2SIM0001,F1.02"
    assert sim.handle_line("*OPC?") == "1"
    assert sim.handle_line("*RST") is None
    assert sim.handle_line("*CLS") is None
    assert sim.handle_line("*ESR?") == "0"


@pytest.mark.parametrize(
    "query",
    [
        ":NUMeric:NORMal:VALue?",
        ":NUM:NORM:VAL?",
        ":numeric:normal:value?",
        ":Num:Norm:Val?",
        ":NUM:VAL?",
        "NUM:NORM:VAL?",
    ],
)
def test_short_long_and_case_insensitive_forms(query: str) -> None:
    sim, clock = make()
    clock.advance(INTERVAL_S)
    reply = sim.handle_line(query)
    assert reply is not None
    assert len(reply.split(",")) == 10


@pytest.mark.parametrize("bad", [":NUMER:VAL?", ":NUMERI:NORM:VAL?", ":RAT?", ":NUM:NORM:VALUES?"])
def test_partial_mnemonics_are_undefined_headers(bad: str) -> None:
    sim, _ = make()
    assert sim.handle_line(bad) is None
    assert sim.handle_line(":STATus:ERRor?") == ':STAT:ERR 113,"Undefined header"'


def test_unknown_command_is_silent_and_queued_in_order() -> None:
    sim, _ = make()
    assert sim.handle_line(":COMM:HEAD OFF") is None
    assert sim.handle_line(":BOGUS:COMMAND 1") is None
    assert sim.handle_line(":RATE 333MS") is None
    assert sim.handle_line(":INP:VOLT:RANG") is None
    assert sim.handle_line("*ESR?") == str(0x20 | 0x10)
    assert sim.handle_line(":STAT:ERR?") == '113,"Undefined header"'
    assert sim.handle_line(":STAT:ERR?") == '224,"Illegal parameter value"'
    assert sim.handle_line(":SYST:ERR?") == '109,"Missing Parameter"'
    assert sim.handle_line(":STAT:ERR?") == '0,"No error"'
    sim.handle_line(":STAT:QMES OFF;:FOO")
    assert sim.handle_line(":STAT:ERR?") == "113"


def test_error_queue_overflow_keeps_capacity_and_marks_overflow() -> None:
    sim, _ = make()
    sim.handle_line(":COMM:HEAD OFF")
    for _ in range(20):
        sim.handle_line(":NOPE")
    codes = [sim.handle_line(":STAT:ERR?") for _ in range(9)]
    assert codes[:7] == ['113,"Undefined header"'] * 7
    assert codes[7] == '350,"Queue overflow"'
    assert codes[8] == '0,"No error"'


def test_header_and_verbose_replies() -> None:
    sim, _ = make()
    assert sim.handle_line(":RATE?") == ":RATE 100MS"
    assert sim.handle_line(":INPUT:VOLTAGE:RANGE?") == ":INP:VOLT:RANG 600.0E+00"
    assert sim.handle_line(":NUM:NORM:ITEM6?") == ":NUM:NORM:ITEM6 LAMB,1"
    sim.handle_line(":COMMunicate:VERBose ON")
    assert sim.handle_line(":NUM:NORM:ITEM6?") == ":NUMERIC:NORMAL:ITEM6 LAMBDA,1"
    sim.handle_line(":COMMUNICATE:HEADER OFF")
    assert sim.handle_line(":RATE?") == "100MS"
    assert sim.handle_line(":INP:CURR:RANG?") == "20.00E+00"


def test_compound_message_with_relative_headers() -> None:
    sim, _ = make()
    reply = sim.handle_line(
        ":COMM:HEAD OFF;:INP:VOLT:RANG 150;AUTO OFF;RANG?;:INP:CURR:RANG 500MA;RANG?;*IDN?"
    )
    assert reply == "150.0E+00;500.0E-03;YOKOGAWA,WT310E,C2SIM0001,F1.02"


def test_no_data_until_first_update_then_values_consistent_with_load() -> None:
    sim, clock = make(watts=120.0, noise_w=0.0, noise_v=0.0, power_factor=0.8)
    assert all(math.isnan(v) for v in values(sim))
    clock.advance(INTERVAL_S)
    u, i, p, s, q, lam, phi, fu, fi, none = values(sim)
    assert p == pytest.approx(120.0, rel=1e-4)
    assert u == pytest.approx(230.0, rel=1e-4)
    assert lam == pytest.approx(0.8, rel=1e-4)
    assert u * i * lam == pytest.approx(p, rel=1e-3)
    assert s == pytest.approx(u * i, rel=1e-3)
    assert q == pytest.approx(math.sqrt(s**2 - p**2), rel=1e-3)
    assert phi == pytest.approx(math.degrees(math.acos(0.8)), rel=1e-3)
    assert fu == fi == pytest.approx(50.0)
    assert math.isnan(none)


def test_noise_is_seeded_and_bounded() -> None:
    first, clock1 = make(noise_w=0.5)
    second, clock2 = make(noise_w=0.5)
    samples = []
    for _ in range(50):
        clock1.advance(INTERVAL_S)
        clock2.advance(INTERVAL_S)
        assert first.handle_line(":NUM:VAL?") == second.handle_line(":NUM:VAL?")
        samples.append(values(first)[2])
    assert len(set(samples)) > 40
    assert all(abs(p - 100.0) < 0.5 * 6 for p in samples)
    assert sum(samples) / len(samples) == pytest.approx(100.0, abs=0.5)


def test_values_change_only_at_update_boundaries() -> None:
    sim, clock = make(noise_w=1.0)
    clock.advance(INTERVAL_S)
    first = sim.handle_line(":NUM:VAL?")
    clock.advance(INTERVAL_S * 0.99)
    assert sim.handle_line(":NUM:VAL?") == first
    clock.advance(INTERVAL_S * 0.02)
    assert sim.handle_line(":NUM:VAL?") != first


def test_rate_command_forms_and_restart() -> None:
    sim, clock = make()
    sim.handle_line(":COMM:HEAD OFF")
    for text, reply in [("250MS", "250MS"), ("0.5", "500MS"), ("1s", "1S"), ("20S", "20S")]:
        sim.handle_line(f":RATE {text}")
        assert sim.handle_line(":RATE?") == reply
    sim.handle_line(":RATE 100MS")
    clock.advance(0.05)
    assert math.isnan(values(sim)[0])
    clock.advance(0.05)
    assert not math.isnan(values(sim)[0])
    sim.handle_line(":RATE 50MS")
    assert sim.handle_line(":STAT:ERR?") == '224,"Illegal parameter value"'


def test_vendor_rate_extension_allows_one_millisecond() -> None:
    sim, clock = make(noise_w=5.0)
    sim.handle_line(":COMM:HEAD OFF;:SIMulate:RATE 1MS")
    assert sim.handle_line(":RATE?") == "1MS"
    seen = set()
    for _ in range(100):
        clock.advance(0.001)
        seen.add(values(sim)[2])
    assert len(seen) > 90
    sim.handle_line(":SIM:RATE 0.5MS")
    assert sim.handle_line(":STAT:ERR?") == '222,"Data out of range"'


def test_manual_range_change_gives_no_data_until_next_full_update() -> None:
    sim, clock = make()
    clock.advance(INTERVAL_S * 1.5)
    assert not math.isnan(values(sim)[0])
    sim.handle_line(":INPut:VOLTage:RANGe 300V")
    assert math.isnan(values(sim)[0])
    clock.advance(INTERVAL_S * 0.5)
    assert math.isnan(values(sim)[0]), "the update after the change started on the old range"
    clock.advance(INTERVAL_S)
    assert values(sim)[0] == pytest.approx(230.0, abs=1.0)


def test_range_values_outside_the_table_are_refused() -> None:
    sim, _ = make()
    sim.handle_line(":COMM:HEAD OFF;:INP:VOLT:RANG 100")
    assert sim.handle_line(":STAT:ERR?") == '224,"Illegal parameter value"'
    assert sim.handle_line(":INP:VOLT:RANG?") == "600.0E+00"
    sim.handle_line(":INP:CURR:RANG 5mA;:INP:CURR:RANG?")
    assert sim.handle_line(":INP:CURR:RANG?") == "5.000E-03"


def test_over_range_when_rms_exceeds_range() -> None:
    sim, clock = make(watts=230.0)  # ~1.05 A
    sim.handle_line(":INP:CURR:RANG 0.5")
    clock.advance(INTERVAL_S)
    u, i, p, s, _q, lam, _phi, fu, _fi, _ = values(sim)
    assert u == pytest.approx(230.0, abs=1.0)
    assert math.isinf(i) and math.isinf(p) and math.isinf(s) and math.isinf(lam)
    assert fu == pytest.approx(50.0)
    assert sim.handle_line(":INP:POV?") == ":INP:POV 2"


def test_over_range_when_peak_exceeds_range_times_crest_factor() -> None:
    # 0.475 A RMS on the 0.5 A range is within 140 % RMS, but a crest factor 3.5 current
    # peaks at 1.66 A > 0.5 A x CF3: over range. CF6 halves the table (1 A -> 0.5 A).
    sim, clock = make(watts=103.8, current_crest_factor=3.5, noise_w=0.0, noise_v=0.0)
    sim.handle_line(":INP:CURR:RANG 0.5")
    clock.advance(INTERVAL_S)
    assert math.isinf(values(sim)[1])
    sim.handle_line(":INP:CURR:RANG 1")
    clock.advance(2 * INTERVAL_S)
    assert values(sim)[1] == pytest.approx(0.475, rel=1e-3)
    sim.handle_line(":COMM:HEAD OFF;:INP:CFAC 6;:INP:CURR:RANG?")
    clock.advance(2 * INTERVAL_S)
    assert sim.handle_line(":INP:CURR:RANG?") == "500.0E-03"
    assert values(sim)[1] == pytest.approx(0.475, rel=1e-3)  # peak 1.66 A < 0.5 A x 6
    sim.handle_line(":INP:CURR:RANG 0.25")
    clock.advance(2 * INTERVAL_S)
    assert math.isinf(values(sim)[1])


def test_auto_range_up_immediately_with_one_update_gap_and_down_after_some_updates() -> None:
    profile = parse_profile("0, 20\n1.0, 800\n2.0, 20\n")
    clock = FakeClock()
    sim = SimulatedInstrument(
        "wt310e", profile, SimulatorConfig(update_interval_s=INTERVAL_S), seed=0, clock=clock
    )
    sim.handle_line(":COMM:HEAD OFF;:INP:CURR:AUTO ON;:INP:CURR:RANG 0.2;:INP:CURR:AUTO ON")
    assert sim.handle_line(":INP:CURR:AUTO?") == "1"
    ranges, amps = [], []
    for _ in range(40):
        clock.advance(INTERVAL_S)
        ranges.append(float(sim.handle_line(":INP:CURR:RANG?") or "nan"))
        amps.append(values(sim)[1])
    assert ranges[:9] == [0.2] * 9 and amps[1] == pytest.approx(0.0915, rel=0.01)
    # 800 W = 3.66 A from t=1.0 s: the update ending at 1.1 s ranges up to 5 A at once ...
    assert ranges[10] == 5.0 and math.isnan(amps[10])
    assert not any(math.isinf(a) for a in amps), "auto range never shows over-range here"
    # ... and the next update is valid on the new range.
    assert amps[11] == pytest.approx(3.66, rel=0.01)
    # Back to 20 W at 2.0 s: down one range per 3 updates below 30 %, a gap at each step.
    assert ranges[20:23] == [5.0, 5.0, 2.0]
    assert math.isnan(amps[22]) and not math.isnan(amps[23])
    assert ranges[-1] == 0.2
    assert amps[-1] == pytest.approx(0.0915, rel=0.01)


def test_fixed_range_turns_auto_off() -> None:
    sim, _ = make()
    sim.handle_line(":COMM:HEAD OFF;:INP:VOLT:AUTO ON;:INP:VOLT:RANG 300")
    assert sim.handle_line(":INP:VOLT:AUTO?") == "0"


def test_items_number_and_single_item_query() -> None:
    sim, clock = make(noise_w=0.0, noise_v=0.0)
    sim.handle_line(
        ":NUM:NORM:NUM 4;ITEM1 U,1;ITEM2 I,1;ITEM3 P,1;ITEM4 LAMBda,1;:NUMERIC:FORMAT ASCII"
    )
    clock.advance(INTERVAL_S)
    assert len(values(sim)) == 4
    assert values(sim, ":NUM:NORM:VAL? 3") == [pytest.approx(100.0)]
    sim.handle_line(":NUM:NORM:ITEM1 U,2")
    sim.handle_line(":NUM:NORM:ITEM300 U,1")
    sim.handle_line(":NUM:NORM:ITEM1 XYZ,1")
    sim.handle_line(":COMM:HEAD OFF")
    codes = [sim.handle_line(":STAT:ERR?") for _ in range(3)]
    assert [c.split(",")[0] for c in codes if c] == ["224", "114", "141"]
    sim.handle_line(":NUM:NORM:CLEAR ALL;:NUM:NORM:NUM ALL")
    assert sim.handle_line(":NUM:NORM:NUM?") == "255"
    assert all(math.isnan(v) for v in values(sim))


def test_binary_float_format() -> None:
    sim, clock = make(noise_w=0.0, noise_v=0.0)
    sim.handle_line(":NUM:FORM FLOAT;:NUM:NORM:NUM 3")
    reply = sim.handle_line(":NUM:VAL?")
    assert reply is not None and reply.startswith("#40012")
    import struct

    assert all(math.isnan(v) for v in struct.unpack(">3f", reply[6:].encode("latin-1")))
    clock.advance(INTERVAL_S)
    reply = sim.handle_line(":NUM:VAL?") or ""
    _u, _i, p = struct.unpack(">3f", reply[6:].encode("latin-1"))
    assert p == pytest.approx(100.0, rel=1e-5)


def test_integration_energy_matches_power_times_time() -> None:
    sim, clock = make(watts=360.0, noise_w=0.0, noise_v=0.0)
    sim.handle_line(":COMM:HEAD OFF;:NUM:NORM:NUM 3;ITEM1 P,1;ITEM2 WH,1;ITEM3 TIME,1")
    sim.handle_line(":INTEG:MODE NORM;:INTEG:TIM 0,0,0;:INTEG:STAR")
    assert sim.handle_line(":INTEGRATE:STATE?") == "STAR"
    clock.advance(10.0)
    _p, wh, elapsed = values(sim)
    assert wh == pytest.approx(360.0 * 10.0 / 3600.0, rel=1e-4)
    assert elapsed == pytest.approx(10.0)
    sim.handle_line(":INTEG:STOP")
    assert sim.handle_line(":INTEG:STAT?") == "STOP"
    clock.advance(5.0)
    assert values(sim)[1] == pytest.approx(1.0, rel=1e-4)
    sim.handle_line(":INTEG:MODE CONT")
    sim.handle_line(":INTEG:RES")
    assert sim.handle_line(":INTEG:STAT?") == "RES"
    assert values(sim)[1] == 0.0
    assert sim.handle_line(":STAT:ERR?") == '0,"No error"'


def test_integration_timer_times_up_and_refuses_changes_while_running() -> None:
    sim, clock = make(watts=3600.0, noise_w=0.0, noise_v=0.0)
    sim.handle_line(":COMM:HEAD OFF;:NUM:NORM:NUM 1;ITEM1 WH")
    sim.handle_line(":INTEG:TIMER 0,0,2;:INTEG:START")
    sim.handle_line(":INTEG:MODE CONT")
    assert sim.handle_line(":STAT:ERR?") == '221,"Setting conflict"'
    clock.advance(5.0)
    assert sim.handle_line(":INTEG:STAT?") == "TIME"
    assert values(sim) == [pytest.approx(2.0, rel=1e-4)]


def test_reset_restores_defaults() -> None:
    sim, _clock = make()
    sim.handle_line(":COMM:HEAD OFF;:RATE 1S;:INP:VOLT:RANG 15;:INP:CFAC 6;:NUM:NORM:NUM 2")
    sim.handle_line(":INPut:MODE DC")
    sim.handle_line("*RST")
    assert sim.handle_line(":RATE?") == "100MS"  # the configured default
    assert sim.handle_line(":INP:VOLT:RANG?") == "600.0E+00"
    assert sim.handle_line(":INP:CFAC?") == "3"
    assert sim.handle_line(":NUM:NORM:NUM?") == "10"
    assert sim.handle_line(":INP:MODE?") == "RMS"


def test_hold_freezes_values() -> None:
    sim, clock = make(noise_w=1.0)
    clock.advance(INTERVAL_S)
    frozen = sim.handle_line(":NUM:VAL?")
    sim.handle_line(":HOLD ON")
    clock.advance(10 * INTERVAL_S)
    assert sim.handle_line(":NUM:VAL?") == frozen
    sim.handle_line(":HOLD OFF")
    clock.advance(INTERVAL_S)
    assert sim.handle_line(":NUM:VAL?") != frozen


def test_wt210_dialect() -> None:
    sim, clock = make("wt210", noise_w=0.0, noise_v=0.0)
    assert sim.handle_line("*IDN?") == "YOKOGAWA,760401,C2SIM0001,F2.01"
    assert sim.handle_line(":MEAS:VAL?") == "9.91E+37,9.91E+37,9.91E+37"
    clock.advance(INTERVAL_S)
    sim.handle_line(":MEASure:ITEM:PF ON;:MEAS:ITEM:VA ON")
    u, i, p, s, pf = values(sim, ":MEASURE:NORMAL:VALUE?")
    assert p == pytest.approx(100.0) and pf == pytest.approx(0.95)
    assert s == pytest.approx(u * i, rel=1e-3)
    sim.handle_line(":CONFigure:CURRent:RANGe 0.5A")
    clock.advance(INTERVAL_S)
    assert sim.handle_line(":MEAS:VAL?") == "230.00E+00,457.67E-03,100.00E+00,105.26E+00,950.00E-03"
    sim.handle_line(":CONF:VOLT:RANG 150V")
    clock.advance(INTERVAL_S)
    assert sim.handle_line(":MEAS:VAL?") == "9.9E+37,457.67E-03,9.9E+37,9.9E+37,9.9E+37"
    sim.handle_line(":INP:VOLT:RANG 600")  # WT310E spelling: unknown here
    sim.handle_line(":INTEG:STAT?")  # no state query on the WT210
    sim.handle_line(":COMM:HEAD OFF;:SAMP:RATE 250MS")
    assert sim.handle_line(":SAMPLE:RATE?") == "250MS"
    assert sim.handle_line(":STAT:ERR?") == '113,"UNDEFINED HEADER"'
    assert sim.handle_line(":STAT:ERR?") == '113,"UNDEFINED HEADER"'
    assert sim.handle_line(":STAT:ERR?") == '0,"NO ERROR"'


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(SimulatorError, match="unknown dialect"):
        SimulatedInstrument("hmc8015", ConstantLoad(1.0))


def test_long_catch_up_is_bounded_and_integrates_the_gap() -> None:
    sim, clock = make(watts=3600.0, noise_w=0.0, noise_v=0.0)
    sim.handle_line(":SIM:RATE 1MS;:NUM:NORM:NUM 2;ITEM1 P;ITEM2 WH;:INTEG:STAR")
    clock.advance(3600.0)  # 3.6 million updates
    p, wh = values(sim)
    assert p == pytest.approx(3600.0)
    assert wh == pytest.approx(3600.0, rel=1e-6)


def test_range_items_report_the_range_in_effect_even_without_data() -> None:
    sim, clock = make(watts=50.0)  # 0.23 A: below 30 % of 1 A, above 30 % of 0.5 A
    sim.handle_line(":NUM:NORM:NUM 3;ITEM1 URANge,1;ITEM2 IRANGE,1;ITEM3 P,1;:INP:CURR:RANG 1")
    assert sim.handle_line(":NUM:VAL?") == "600.00E+00,1.0000E+00,NAN"
    sim.handle_line(":INP:CURR:AUTO ON")
    clock.advance(5 * INTERVAL_S)
    assert values(sim)[1] == 0.5


def test_rate_reply_can_be_written_back_even_when_not_a_real_rate() -> None:
    sim, _ = make(update_interval_s=0.005)
    sim.handle_line(":COMM:HEAD OFF")
    assert sim.handle_line(":RATE?") == "5MS"
    sim.handle_line(":RATE 250MS;:RATE 5MS;:SIM:RATE 2MS;:RATE 2MS")
    assert sim.handle_line(":RATE?") == "2MS"
    sim.handle_line(":RATE 3MS")
    assert sim.handle_line(":STAT:ERR?") == '224,"Illegal parameter value"'


def test_wt210_math_item_has_no_data() -> None:
    sim, clock = make("wt210")
    clock.advance(INTERVAL_S)
    sim.handle_line(":MEAS:ITEM:V OFF;:MEAS:ITEM:A OFF;:MEAS:ITEM:W OFF;:MEAS:ITEM:MATH ON")
    assert sim.handle_line(":MEAS:VAL?") == "9.91E+37"
