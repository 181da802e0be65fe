"""The simulator as a real peer on a pty: pyserial and pyvisa-py open the slave path."""

from __future__ import annotations

import math
import os
import time
from typing import Any

import pytest
import pyvisa
from sim_helpers import FakeClock, Port

from power_director.sim import ConstantLoad, SimulatorConfig, parse_profile, start_simulator
from power_director.sim.simulator import RunningSimulator


def test_identify_and_spec_strings(pty_sim: RunningSimulator, port: Port) -> None:
    assert pty_sim.address.startswith("/dev/pts/")
    assert pty_sim.spec == f"wt310e@serial:{pty_sim.address}"
    assert pty_sim.visa_resource == f"ASRL{pty_sim.address}::INSTR"
    assert port.query("*IDN?") == "YOKOGAWA,WT310E,C2SIM0001,F1.02"
    assert port.query(":COMMUNICATE:HEADER OFF;:rate?") == "100MS"


def test_values_follow_update_boundaries(
    pty_sim: RunningSimulator, port: Port, clock: FakeClock
) -> None:
    port.write(":COMM:HEAD OFF;:NUM:NORM:NUM 4;ITEM1 U,1;ITEM2 I,1;ITEM3 P,1;ITEM4 LAMB,1")
    assert all(math.isnan(v) for v in port.values())
    clock.advance(0.1)
    first = port.query(":NUM:NORM:VAL?")
    u, i, p, lam = (float(v) for v in first.split(","))
    assert p == pytest.approx(100.0, abs=1.0)
    assert u * i * lam == pytest.approx(p, rel=1e-3)
    clock.advance(0.05)
    assert port.query(":NUM:NORM:VAL?") == first
    clock.advance(0.05)
    assert port.query(":NUM:NORM:VAL?") != first


def test_unknown_command_is_silent_then_error_queue(pty_sim: RunningSimulator) -> None:
    client = Port(pty_sim.address, timeout_s=0.2)
    try:
        client.write(":NOT:A:COMMAND?")
        assert client.serial.readline() == b""
        assert client.query(":STAT:ERR?") == ':STAT:ERR 113,"Undefined header"'
        assert client.query(":STATUS:ERROR?") == ':STAT:ERR 0,"No error"'
    finally:
        client.close()


def test_crlf_input_and_several_clients_in_turn(pty_sim: RunningSimulator) -> None:
    for _ in range(3):
        client = Port(pty_sim.address)
        try:
            client.serial.write(b"*IDN?\r\n")
            assert client.serial.readline() == b"YOKOGAWA,WT310E,C2SIM0001,F1.02\n"
        finally:
            client.close()


def test_byte_time_delay_at_low_baud() -> None:
    config = SimulatorConfig(baud=1200, reply_terminator="\r\n")
    with start_simulator("wt310e", "pty", load=ConstantLoad(50.0), config=config) as sim:
        assert sim.spec.endswith("?baud=1200")
        client = Port(sim.address, timeout_s=2.0, baud=1200)
        try:
            started = time.monotonic()
            client.write("*IDN?")
            reply = client.serial.readline()
            elapsed = time.monotonic() - started
        finally:
            client.close()
    assert reply == b"YOKOGAWA,WT310E,C2SIM0001,F1.02\r\n"
    # 6 command bytes + 33 reply bytes at 10 bits each over 1200 bit/s.
    assert elapsed >= (6 + len(reply)) * 10 / 1200 * 0.95


def test_profile_load_over_pty_shows_the_steps(clock: FakeClock) -> None:
    profile = parse_profile("0, 40\n1, 150\n2, 150\n3, 60, ramp\n")
    config = SimulatorConfig(update_interval_s=0.25, noise_w=0.1)
    with start_simulator("wt310e", load=profile, seed=7, clock=clock, config=config) as sim:
        client = Port(sim.address)
        try:
            client.write(":COMM:HEAD OFF")
            watts = []
            for _ in range(16):
                clock.advance(0.25)
                watts.append(client.values(":NUM:VAL? 3")[0])
        finally:
            client.close()
    assert watts[0:4] == pytest.approx([40.0] * 4, abs=0.5)
    assert watts[4:8] == pytest.approx([150.0] * 4, abs=0.5)
    # Ramp 150 -> 60 W over 2..3 s: mean of each 0.25 s update.
    assert watts[8:12] == pytest.approx([138.75, 116.25, 93.75, 71.25], abs=0.5)
    assert watts[12:] == pytest.approx([60.0] * 4, abs=0.5)


def test_pyvisa_asrl_on_the_pty(pty_sim: RunningSimulator, clock: FakeClock) -> None:
    rm = pyvisa.ResourceManager("@py")
    try:
        inst: Any = rm.open_resource(
            pty_sim.visa_resource,
            baud_rate=9600,
            read_termination="\n",
            write_termination="\n",
            timeout=2000,
        )
        try:
            assert inst.query("*IDN?") == "YOKOGAWA,WT310E,C2SIM0001,F1.02"
            inst.write(":COMM:HEAD OFF")
            clock.advance(0.1)
            assert float(inst.query(":NUM:NORM:VAL? 3")) == pytest.approx(100.0, abs=1.0)
        finally:
            inst.close()
    finally:
        rm.close()


def test_close_releases_the_pty_and_is_idempotent() -> None:
    sim = start_simulator("wt210", "pty")
    path = sim.address
    client = Port(path)
    assert client.query("*IDN?").startswith("YOKOGAWA,760401,")
    client.close()
    sim.close()
    sim.close()
    assert not os.path.exists(path) or path not in _open_ptys()


def _open_ptys() -> set[str]:
    paths = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            paths.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return paths
