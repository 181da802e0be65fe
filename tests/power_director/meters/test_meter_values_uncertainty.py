"""Reply-field parsing, range tables and the uncertainty maths."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from power_director.errors import RangeError
from power_director.meters.base import MeterIdentity, RangeTable, smallest_range_at_least
from power_director.meters.uncertainty import ACCURACY, watts_uncertainty
from power_director.meters.values import GarbledFieldError, parse_field, parse_fields
from power_director.meters.yokogawa import format_interval, parse_interval
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE

WT310E = ACCURACY["wt310e"]


@pytest.mark.parametrize(
    ("text", "value"), [("230.12E+00", 230.12), (" -1.5 ", -1.5), ("+.5e-3", 0.0005), ("42", 42.0)]
)
def test_numbers(text, value):
    assert parse_field(text) == (value, None)


@pytest.mark.parametrize("text", ["1_0", "infinity", "0x10", "", "1.2.3", "abc", "1e"])
def test_garbled(text):
    with pytest.raises(GarbledFieldError):
        parse_field(text)


def test_model_sentinels_win():
    assert parse_field("-999.99E+9", sentinels={999.99e9: FLAG_OVER_RANGE})[1] == FLAG_OVER_RANGE
    assert parse_field("777.77E+9", sentinels={777.77e9: FLAG_NO_DATA})[1] == FLAG_NO_DATA


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e30, max_value=1e30))
def test_any_finite_nr3_roundtrips(value):
    assert parse_field(f"{value:.6E}") == (pytest.approx(float(f"{value:.6E}")), None)


@given(st.text(max_size=20))
def test_never_a_number_from_junk(text):
    try:
        value, flag = parse_field(text)
    except GarbledFieldError:
        return
    assert (flag is None and math.isfinite(value)) or (flag and math.isnan(value))


def test_parse_fields_count():
    with pytest.raises(GarbledFieldError, match="expected 4 fields, got 3"):
        parse_fields("1,2,3", 4)


def test_wt310e_example_from_spec():
    # 60 W on 150 V x 1 A at 50 Hz: ±(0.06 + 0.075) W
    assert watts_uncertainty(60.0, 150.0, WT310E) == pytest.approx(0.135)


@pytest.mark.parametrize(
    ("frequency_hz", "crest_factor", "expected"),
    [
        (0.0, 3, 0.1 + 0.4),  # DC: 0.1 % rdg + 0.2 % rng
        (60.0, 3, 0.1 + 0.1),
        (60.0, 6, 0.1 + 0.2),  # CF6 doubles the range term
        (400.0, 3, 0.2 + 0.4),
    ],
)
def test_bands(frequency_hz, crest_factor, expected):
    assert watts_uncertainty(
        100.0, 200.0, WT310E, frequency_hz=frequency_hz, crest_factor=crest_factor
    ) == pytest.approx(expected)


def test_outside_bands_and_non_finite_are_nan():
    assert math.isnan(watts_uncertainty(100.0, 200.0, WT310E, frequency_hz=20.0))
    assert math.isnan(watts_uncertainty(math.nan, 200.0, WT310E))


def test_wt310_is_worse_than_wt310e():
    assert watts_uncertainty(60, 150, ACCURACY["wt310"]) > watts_uncertainty(60, 150, WT310E)


def test_unverified_specs_are_marked():
    assert ACCURACY["wt310e"].verified
    assert not ACCURACY["wt5000"].verified


def test_range_table_pick():
    table = RangeTable(volts={3: (15.0, 150.0, 300.0)}, amps={3: (0.5, 1.0, 2.0)})
    assert table.pick_volts(230.0) == 300.0
    assert table.pick_amps(1.1 * 0.9) == 1.0
    assert table.pick_amps(1.0) == 1.0
    with pytest.raises(RangeError, match="current 3 exceeds the largest range 2"):
        table.pick_amps(3.0)
    with pytest.raises(RangeError, match="no ranges for crest factor 6"):
        table.volts_ranges(6)
    assert smallest_range_at_least((5.0, 1.0), 0.2) == 1.0


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.1, "100MS"), (0.25, "250MS"), (1.0, "1S"), (20.0, "20S")]
)
def test_interval_format_roundtrip(seconds, text):
    assert format_interval(seconds) == text
    assert parse_interval(text) == seconds


def test_interval_parse_other_forms():
    assert parse_interval("250.0E-03") == 0.25
    assert math.isnan(parse_interval("AUTO"))


def test_identity_parse_short_reply():
    assert MeterIdentity.parse("ACME,X1") == MeterIdentity("ACME", "X1", "", "")
