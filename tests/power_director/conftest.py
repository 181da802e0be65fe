"""Fixtures for power_director tests: real loopback peers (pty pair, TCP socket).

``FakeWT310E`` is a deliberately tiny line responder (not the project's simulator): it answers
``*IDN?``, remembers every setting and answers its query, and returns fixed numeric values. It
exists to test transports and the registry over real file descriptors and sockets.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import tty
from collections.abc import Callable, Iterator

import pytest

Responder = Callable[[str], "str | None"]

WT310E_IDN = "YOKOGAWA,WT310E,C2PTY0001,F1.02"
WT310E_VALUES = "230.12E+00,0.2175E+00,45.871E+00,0.9166E+00,300.0E+00,1.000E+00"


class FakeWT310E:
    """Answer WT310E commands: settings are stored, queries return them (or a default)."""

    def __init__(self, reply_terminator: str = "\r\n") -> None:
        self.terminator = reply_terminator
        self.received: list[str] = []
        self.state: dict[str, str] = {
            ":INPut:CFACtor": "3",
            ":RATE": "250MS",
            ":INPut:VOLTage:RANGe": "300.0E+00",
            ":INPut:VOLTage:AUTO": "0",
            ":INPut:CURRent:RANGe": "1.000E+00",
            ":INPut:CURRent:AUTO": "0",
            ":NUMeric:NORMal:NUMber": "4",
        }

    def __call__(self, line: str) -> str | None:
        self.received.append(line)
        if line == "*IDN?":
            return WT310E_IDN
        if line == ":NUMeric:NORMal:VALue?":
            return WT310E_VALUES
        if line.endswith("?"):
            return self.state.get(line[:-1], "NONE")
        header, _, value = line.partition(" ")
        self.state[header] = value
        return None


def _serve_lines(
    recv: Callable[[], bytes],
    send: Callable[[bytes], None],
    responder: FakeWT310E,
    stop: threading.Event,
    ready: Callable[[], bool],
) -> None:
    buffer = b""
    while not stop.is_set():
        if not ready():
            continue
        try:
            chunk = recv()
        except OSError:
            return
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            reply = responder(line.decode("ascii").strip())
            if reply is not None:
                send((reply + responder.terminator).encode("ascii"))


@pytest.fixture
def fake_wt310e() -> FakeWT310E:
    return FakeWT310E()


@pytest.fixture
def pty_meter(fake_wt310e: FakeWT310E) -> Iterator[str]:
    """Yield the slave path of a pty pair whose master side is answered by ``fake_wt310e``."""
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def ready() -> bool:
        return bool(select.select([master], [], [], 0.05)[0])

    thread = threading.Thread(
        target=_serve_lines,
        args=(
            lambda: os.read(master, 4096),
            lambda b: os.write(master, b) and None,
            fake_wt310e,
            stop,
            ready,
        ),
        daemon=True,
    )
    thread.start()
    yield os.ttyname(slave)
    stop.set()
    thread.join(2)
    os.close(slave)
    os.close(master)


@pytest.fixture
def tcp_meter(fake_wt310e: FakeWT310E) -> Iterator[tuple[str, int]]:
    """Yield ``(host, port)`` of a loopback TCP server answered by ``fake_wt310e``."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            conns.append(conn)

            def ready(c: socket.socket = conn) -> bool:
                return bool(select.select([c], [], [], 0.05)[0])

            threading.Thread(
                target=_serve_lines,
                args=(lambda c=conn: c.recv(4096), conn.sendall, fake_wt310e, stop, ready),
                daemon=True,
            ).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    yield server.getsockname()[:2]
    stop.set()
    thread.join(2)
    server.close()
    for conn in conns:
        conn.close()
