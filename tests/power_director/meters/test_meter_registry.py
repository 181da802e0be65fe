"""Registry and spec parsing, and open_meter end to end over a pty, TCP, VISA SOCKET and @sim."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from power_director.errors import MeterError, MeterSpecError, MeterUnavailableError, TransportError
from power_director.meters import list_meters, meter_info, open_meter, parse_meter_spec
from power_director.meters.registry import register_source
from power_director.transport import parse_transport_spec

SIM_YAML = Path(__file__).parents[1] / "sim" / "wt310e.yaml"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("wt310e@serial:/dev/ttyUSB0?baud=9600", ("wt310e", "serial:/dev/ttyUSB0?baud=9600")),
        (
            "WT310E@visa:USB0::0x0B21::0x0025::C2XX00000V::INSTR",
            ("wt310e", "visa:USB0::0x0B21::0x0025::C2XX00000V::INSTR"),
        ),
        ("hmc8015@tcp:meter-host:5025", ("hmc8015", "tcp:meter-host:5025")),
        ("sim", ("sim", "")),
        ("sim:wt210", ("sim", "wt210")),
        ("sim?load=cpu&idle_w=60", ("sim", "?load=cpu&idle_w=60")),
        ("sim:wt210?profile=/p:q.txt", ("sim", "wt210?profile=/p:q.txt")),
        ("sim?profile=/p:q.txt", ("sim", "?profile=/p:q.txt")),
        ("rapl@/sys/class/powercap", ("rapl", "/sys/class/powercap")),
    ],
)
def test_parse_meter_spec(spec, expected):
    assert parse_meter_spec(spec) == expected


def test_parse_transport_spec_options():
    assert parse_transport_spec("serial:/dev/ttyUSB0?baud=9600&parity=N&term=LF&timeout_s=2") == (
        "serial",
        "/dev/ttyUSB0",
        {"baud": "9600", "parity": "N", "term": "LF", "timeout_s": "2"},
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("@serial:/dev/ttyUSB0", "has no model name"),
        ("wt999@serial:/dev/ttyUSB0", "unknown meter 'wt999'; known: .*wt310e"),
        ("wt310e", "needs a transport, e.g. wt310e@serial:"),
        ("wt310e@usb:/dev/usbtmc0", "must start with one of serial:, visa:, tcp:"),
        ("wt310e@serial:", "has no address after serial:"),
        ("wt310e@serial:/dev/ttyUSB0?speed=9600", "unknown option.*speed.*known: baud"),
        ("wt310e@serial:/dev/ttyUSB0?baud=fast", "baud='fast'.*is not a number"),
        ("wt310e@serial:/dev/ttyUSB0?term=NL", "terminator 'NL'.*LF, CR, CRLF"),
        ("wt310e@serial:/dev/ttyUSB0?parity=X", "parity.*must be N, E or O"),
        ("wt310e@tcp:meter-host", "expected HOST:PORT"),
    ],
)
def test_bad_specs_have_clear_messages(spec, message):
    with pytest.raises(MeterSpecError, match=message):
        open_meter(spec)


def test_absent_port_names_it():
    with pytest.raises(TransportError, match="/dev/ttyNOPE9"):
        open_meter("wt310e@serial:/dev/ttyNOPE9")


def test_silent_meter_is_unavailable_naming_port():
    master, slave = os.openpty()
    path = os.ttyname(slave)
    try:
        with pytest.raises(MeterUnavailableError, match=f"no wt310e answering on {path}"):
            open_meter(f"wt310e@serial:{path}?timeout_s=0.05")
    finally:
        os.close(slave)
        os.close(master)


def test_echoing_port_is_not_a_wt310e():
    with pytest.raises(MeterError, match=r"\*IDN\? says \*IDN\?"):
        open_meter("wt310e@serial:loop://?timeout_s=0.1")


def test_unimportable_module_is_a_spec_error(monkeypatch):
    from power_director.meters import registry

    monkeypatch.setitem(registry.LAZY_MODULES, "ghost", "power_director.meters.ghost_meter")
    with pytest.raises(MeterSpecError, match=r"provided by power_director\.meters\.ghost_meter"):
        meter_info("ghost")


def test_register_source_and_open(monkeypatch):
    from power_director.meters import registry

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    opened = []
    register_source("unit", lambda rest: opened.append(rest) or "meter", description="test")
    assert open_meter("unit@whatever") == "meter"
    assert opened == ["whatever"]
    assert meter_info("unit").interfaces == ("software",)


def test_list_meters_has_wt300_family_with_commands():
    infos = {info.name: info for info in list_meters()}
    for name in ("wt310e", "wt310eh", "wt332e", "wt333e", "wt310"):
        assert name in infos
    wt310e = infos["wt310e"]
    assert wt310e.interfaces == ("serial", "visa", "tcp")
    assert ":NUMeric:NORMal:VALue?" in wt310e.commands
    assert "Yokogawa WT310E" in wt310e.description


def test_import_is_light():
    code = (
        "import sys, power_director, power_director.meters, power_director.transport;"
        "bad = [m for m in ('pyvisa', 'serial', 'power_director.meters.yokogawa_wt300')"
        " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _exercise(meter, fake=None):
    try:
        assert meter.identity.model == "WT310E"
        (reading,) = meter.read()
        assert reading.valid
        assert reading.watts == pytest.approx(45.871)
        assert reading.watts_uncertainty == pytest.approx(0.045871 + 0.15)
        meter.set_ranges(150.0, 0.5)
    finally:
        meter.close()
    if fake is not None:
        # close() wrote the saved ranges back and returned to local.
        deadline = time.monotonic() + 2
        while fake.state.get(":COMMunicate:REMote") != "OFF" and time.monotonic() < deadline:
            time.sleep(0.005)
        assert fake.state[":COMMunicate:REMote"] == "OFF"
        assert fake.state[":INPut:VOLTage:RANGe"] == "300.0E+00"
        assert fake.state[":INPut:CURRent:RANGe"] == "1.000E+00"


def test_open_meter_over_pty(pty_meter, fake_wt310e):
    _exercise(open_meter(f"wt310e@serial:{pty_meter}?baud=115200&timeout_s=2"), fake_wt310e)


def test_open_meter_over_tcp(tcp_meter, fake_wt310e):
    host, port = tcp_meter
    _exercise(open_meter(f"wt310e@tcp:{host}:{port}"), fake_wt310e)


def test_open_meter_over_visa_socket(tcp_meter, fake_wt310e):
    host, port = tcp_meter
    _exercise(open_meter(f"wt310e@visa:TCPIP0::{host}::{port}::SOCKET"), fake_wt310e)


@pytest.mark.parametrize("resource", ["USB0::0x0B21::0x0025::C2XX00000V::INSTR", "ASRL1::INSTR"])
def test_open_meter_over_pyvisa_sim(resource):
    _exercise(open_meter(f"wt310e@visa:{resource}@{SIM_YAML}@sim"))
