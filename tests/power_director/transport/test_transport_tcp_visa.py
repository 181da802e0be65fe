"""TCP and VISA transports against a real loopback socket, and pyvisa-sim ``@sim``."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from power_director.errors import TransportError, TransportTimeoutError
from power_director.transport import open_transport
from power_director.transport.tcp import TcpTransport, split_host_port
from power_director.transport.visa import VisaTransport

SIM_YAML = Path(__file__).parents[1] / "sim" / "wt310e.yaml"


def test_tcp_query(tcp_meter):
    host, port = tcp_meter
    with TcpTransport(host, port, timeout_s=2) as transport:
        assert transport.resource == f"127.0.0.1:{port}"
        assert transport.query("*IDN?") == "YOKOGAWA,WT310E,C2PTY0001,F1.02"


def test_tcp_refused_names_address():
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(TransportError, match=f"127.0.0.1:{port}: cannot connect"):
        TcpTransport("127.0.0.1", port, timeout_s=1)


def test_tcp_peer_close_and_silence():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
    thread.start()
    transport = TcpTransport("127.0.0.1", port, timeout_s=0.1)
    thread.join(2)
    try:
        with pytest.raises(TransportTimeoutError):
            transport.read_line()
        accepted[0].close()
        with pytest.raises(TransportError, match="connection closed by peer"):
            transport.read_line()
    finally:
        transport.close()
        server.close()


@pytest.mark.parametrize(
    ("address", "expected"),
    [("meter:5025", ("meter", 5025)), ("[::1]:10001", ("::1", 10001))],
)
def test_split_host_port(address, expected):
    assert split_host_port(address) == expected


@pytest.mark.parametrize("address", ["meter", "meter:", "meter:http", "meter:70000"])
def test_split_host_port_rejects(address):
    with pytest.raises(ValueError):
        split_host_port(address)


def test_visa_pyvisa_py_socket(tcp_meter, fake_wt310e):
    host, port = tcp_meter
    transport = open_transport(f"visa:TCPIP0::{host}::{port}::SOCKET?timeout_s=2")
    try:
        assert isinstance(transport, VisaTransport)
        assert transport.backend == "@py"
        assert transport.query("*IDN?") == "YOKOGAWA,WT310E,C2PTY0001,F1.02"
        transport.write(":RATE 1S")
        assert transport.query(":RATE?") == "1S"
    finally:
        transport.close()
    assert fake_wt310e.received[-2:] == [":RATE 1S", ":RATE?"]


def test_visa_timeout_is_transport_timeout():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    try:
        transport = VisaTransport(f"TCPIP0::127.0.0.1::{port}::SOCKET", timeout_s=0.1)
        try:
            with pytest.raises(TransportTimeoutError, match=r"no reply within 0\.1 s"):
                transport.read_line()
        finally:
            transport.close()
    finally:
        server.close()


def test_visa_bad_resource_names_it():
    with pytest.raises(TransportError, match="NOPE::INSTR: cannot open VISA resource"):
        VisaTransport("NOPE::INSTR", backend="@sim")


def test_visa_sim_backend_from_spec():
    transport = open_transport(f"visa:USB0::0x0B21::0x0025::C2XX00000V::INSTR@{SIM_YAML}@sim")
    try:
        assert transport.query("*IDN?") == "YOKOGAWA,WT310E,C2XX00000V,F1.02"
        transport.write(":RATE 500MS")
        assert transport.query(":RATE?") == "500MS"
    finally:
        transport.close()


def test_visa_sim_backend_option():
    transport = open_transport(f"visa:ASRL1::INSTR?backend={SIM_YAML}@sim&baud=9600")
    try:
        assert transport.query("*IDN?").startswith("YOKOGAWA,WT310E")
    finally:
        transport.close()
