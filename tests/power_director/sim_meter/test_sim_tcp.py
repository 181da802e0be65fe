"""The simulator on TCP: raw sockets and pyvisa-py ``TCPIP0::host::port::SOCKET``."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
import pyvisa
from sim_helpers import FakeClock

from power_director.errors import SimulatorError
from power_director.sim import ConstantLoad, SimulatorConfig, start_simulator
from power_director.sim.simulator import parse_tcp_address


def _query(conn: socket.socket, line: bytes) -> bytes:
    conn.sendall(line + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(4096)
        assert chunk, "connection closed"
        data += chunk
    return data


def test_socket_client_and_spec(clock: FakeClock) -> None:
    config = SimulatorConfig(update_interval_s=0.1, noise_w=0.0, noise_v=0.0)
    with start_simulator(
        "wt310e", "tcp", "127.0.0.1:0", ConstantLoad(42.0), clock=clock, config=config
    ) as sim:
        host, port = parse_tcp_address(sim.address)
        assert host == "127.0.0.1" and port > 0
        assert sim.spec == f"wt310e@tcp:127.0.0.1:{port}"
        assert sim.visa_resource == f"TCPIP0::127.0.0.1::{port}::SOCKET"
        with socket.create_connection((host, port), timeout=2.0) as conn:
            assert _query(conn, b"*IDN?") == b"YOKOGAWA,WT310E,C2SIM0001,F1.02\n"
            clock.advance(0.1)
            assert _query(conn, b":COMM:HEAD OFF;:NUM:VAL? 3") == b"42.000E+00\n"
            # Two queries in one packet, one reply each.
            conn.sendall(b"*OPC?\n*OPC?\n")
            data = b""
            while data.count(b"\n") < 2:
                data += conn.recv(4096)
            assert data == b"1\n1\n"


def test_pyvisa_tcpip_socket(clock: FakeClock) -> None:
    config = SimulatorConfig(update_interval_s=0.1)
    with start_simulator("wt310e", "tcp", clock=clock, config=config, seed=5) as sim:
        rm = pyvisa.ResourceManager("@py")
        try:
            inst: Any = rm.open_resource(
                sim.visa_resource, read_termination="\n", write_termination="\n", timeout=2000
            )
            try:
                assert inst.query("*IDN?") == "YOKOGAWA,WT310E,C2SIM0001,F1.02"
                inst.write(":COMMunicate:HEADer OFF")
                inst.write(":NUMeric:NORMal:NUMber 3")
                inst.write(":NUMERIC:NORMAL:ITEM3 WH,1")
                clock.advance(0.1)
                u, i, p = (float(v) for v in inst.query(":NUMeric:NORMal:VALue?").split(","))
                assert u * i * 0.95 == pytest.approx(100.0, abs=1.0)
                assert p == 0.0
                inst.write(":BAD:HEADER")
                assert inst.query(":STATus:ERRor?") == '113,"Undefined header"'
            finally:
                inst.close()
        finally:
            rm.close()


def test_concurrent_clients_share_one_meter() -> None:
    with start_simulator("wt310e", "tcp", config=SimulatorConfig(update_interval_s=0.01)) as sim:
        host, port = parse_tcp_address(sim.address)
        failures: list[str] = []

        def client() -> None:
            with socket.create_connection((host, port), timeout=2.0) as conn:
                for _ in range(50):
                    reply = _query(conn, b"*IDN?")
                    if reply != b"YOKOGAWA,WT310E,C2SIM0001,F1.02\n":
                        failures.append(reply.decode())

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []


def test_client_that_never_reads_does_not_block_close() -> None:
    sim = start_simulator("wt310e", "tcp")
    host, port = parse_tcp_address(sim.address)
    with socket.create_connection((host, port), timeout=2.0) as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            conn.sendall(b":NUM:VAL?;:NUM:VAL?;:NUM:VAL?;:NUM:VAL?\n" * 3000)
        except OSError:
            pass
        sim.close()


def test_port_is_released_after_close() -> None:
    with start_simulator("wt310e", "tcp") as sim:
        address = sim.address
    with start_simulator("wt310e", "tcp", address) as again:
        assert again.address == address


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("0.0.0.0:0", "only loopback"),
        ("10.1.2.3:5025", "only loopback"),
        ("nonsense", "expected HOST:PORT"),
        ("127.0.0.1:http", "not a number"),
        ("127.0.0.1:70000", "out of range"),
    ],
)
def test_bad_addresses_are_refused(address: str, message: str) -> None:
    with pytest.raises(SimulatorError, match=message):
        start_simulator("wt310e", "tcp", address)


def test_busy_port_is_a_simulator_error() -> None:
    with (
        start_simulator("wt310e", "tcp") as sim,
        pytest.raises(SimulatorError, match="cannot listen"),
    ):
        start_simulator("wt310e", "tcp", sim.address)


def test_unknown_transport() -> None:
    with pytest.raises(SimulatorError, match="unknown transport"):
        start_simulator("wt310e", "usb")  # type: ignore[arg-type]
