"""SCPI syntax helpers of the simulator."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from power_director.sim.scpi import (
    Mnemonic,
    ScpiError,
    format_nr3,
    parse_quantity,
    parse_unit,
    split_units,
)


def test_mnemonic_forms() -> None:
    node = Mnemonic.parse("NUMeric")
    assert (node.short, node.long) == ("NUM", "NUMERIC")
    assert node.match("NUM") == 0 and node.match("NUMERIC") == 0
    assert node.match("NUME") is None
    item = Mnemonic.parse("ITEM<n>")
    assert item.match("ITEM12") == 12 and item.match("ITEM") == 1
    assert Mnemonic.parse("[NORMal]").optional


def test_split_units_respects_quotes() -> None:
    assert split_units(':A 1;:B "x;y";  ;*IDN?') == [":A 1", ':B "x;y"', "*IDN?"]


def test_relative_headers_and_common_commands_keep_the_path() -> None:
    unit, path = parse_unit(":INP:VOLT:RANG 150", ())
    assert unit.tokens == ("INP", "VOLT", "RANG") and unit.params == ("150",)
    unit, path = parse_unit("*IDN?", path)
    assert unit.query and unit.common
    unit, path = parse_unit("AUTO\tON", path)
    assert unit.tokens == ("INP", "VOLT", "AUTO") and unit.params == ("ON",)
    with pytest.raises(ScpiError) as info:
        parse_unit(":A$B 1", ())
    assert info.value.code == 102


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("150", "V", 150.0),
        ("150V", "V", 150.0),
        ("500MA", "A", 0.5),
        ("250ms", "S", 0.25),
        ("1.5E+2", "V", 150.0),
        ("5mA", "A", 0.005),
        ("2", "S", 2.0),
    ],
)
def test_parse_quantity(text: str, unit: str, value: float) -> None:
    assert parse_quantity(text, unit) == pytest.approx(value)


@pytest.mark.parametrize(("text", "code"), [("abc", 120), ("15X", 131), ("1e999", 120)])
def test_parse_quantity_errors(text: str, code: int) -> None:
    with pytest.raises(ScpiError) as info:
        parse_quantity(text, "V")
    assert info.value.code == code


def test_format_nr3_examples() -> None:
    assert format_nr3(230.123) == "230.12E+00"
    assert format_nr3(0.2175) == "217.50E-03"
    assert format_nr3(45.871) == "45.871E+00"
    assert format_nr3(999.999) == "1.0000E+03"
    assert format_nr3(0.0) == "0.0000E+00"
    assert format_nr3(-12.5) == "-12.500E+00"


@given(st.floats(min_value=1e-9, max_value=1e9) | st.floats(min_value=-1e9, max_value=-1e-9))
def test_format_nr3_round_trips_to_five_digits(value: float) -> None:
    text = format_nr3(value)
    assert math.isclose(float(text), value, rel_tol=1e-4)
    mantissa = text.split("E")[0].lstrip("-")
    assert 1.0 <= float(mantissa) < 1000.0
