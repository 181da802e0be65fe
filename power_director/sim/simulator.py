"""Start a simulated meter on a pty or a TCP port: :func:`start_simulator`.

Example::

    with start_simulator("wt310e", transport="pty", load=ConstantLoad(120.0)) as sim:
        port = serial.Serial(sim.address, 9600, timeout=1)  # e.g. /dev/pts/5
        port.write(b"*IDN?\\n"); port.readline()            # b"YOKOGAWA,WT310E,...\\n"
        port.close()

``sim.spec`` is the meter spec a driver would be given (``wt310e@serial:/dev/pts/5``,
``wt310e@tcp:127.0.0.1:40123``) and ``sim.visa_resource`` the pyvisa resource string
(``ASRL/dev/pts/5::INSTR``, ``TCPIP0::127.0.0.1::40123::SOCKET``).

Errors: :class:`~power_director.errors.SimulatorError` for an unknown dialect or transport,
a malformed or non-local address, or a port that cannot be bound.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import time
import tty
from dataclasses import replace
from types import TracebackType
from typing import Literal

from power_director.errors import SimulatorError
from power_director.sim.config import SimulatorConfig
from power_director.sim.instrument import Clock, SimulatedInstrument
from power_director.sim.load import ConstantLoad, LoadModel
from power_director.sim.server import StreamServer
from power_director.transport.tcp import split_host_port

__all__ = ["RunningSimulator", "parse_tcp_address", "start_simulator"]

logger = logging.getLogger(__name__)

Transport = Literal["pty", "tcp"]
DEFAULT_TCP_ADDRESS = "127.0.0.1:0"


class RunningSimulator:
    """A simulated meter being served; close it (or use ``with``) to stop it.

    Attributes:
        address: the pty slave path (``/dev/pts/N``) or ``host:port``.
        spec: meter spec string for a driver.
        visa_resource: pyvisa resource string for the same endpoint.
        instrument: the simulated meter itself (for inspection in tests).
    """

    def __init__(
        self,
        instrument: SimulatedInstrument,
        server: StreamServer,
        transport: Transport,
        address: str,
        fds: tuple[int, ...] = (),
    ) -> None:
        self.instrument = instrument
        self.transport = transport
        self.address = address
        self._server = server
        self._fds = fds
        self._closed = False

    @property
    def dialect(self) -> str:
        return self.instrument.dialect.name

    @property
    def spec(self) -> str:
        if self.transport == "pty":
            baud = self.instrument.config.baud
            query = f"?baud={baud}" if baud else ""
            return f"{self.dialect}@serial:{self.address}{query}"
        return f"{self.dialect}@tcp:{self.address}"

    @property
    def visa_resource(self) -> str:
        if self.transport == "pty":
            return f"ASRL{self.address}::INSTR"
        host, port = parse_tcp_address(self.address)
        return f"TCPIP0::{host}::{port}::SOCKET"

    def close(self) -> None:
        """Stop serving, join the thread, close every fd (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._server.close()
        finally:
            for fd in self._fds:
                os.close(fd)
        logger.info("sim.stop dialect=%s address=%s", self.dialect, self.address)

    def __enter__(self) -> RunningSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def parse_tcp_address(address: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6]:port`` too; a missing host means 127.0.0.1)."""
    try:
        return split_host_port(address, default_host="127.0.0.1", allow_port_zero=True)
    except ValueError as e:
        raise SimulatorError(f"TCP address {address!r}: {e}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def start_simulator(
    dialect: str = "wt310e",
    transport: Transport = "pty",
    address: str = DEFAULT_TCP_ADDRESS,
    load: LoadModel | None = None,
    seed: int | None = 0,
    clock: Clock = time.monotonic,
    config: SimulatorConfig | None = None,
    *,
    baud: int | None = None,
    allow_remote: bool = False,
) -> RunningSimulator:
    """Start a simulated meter in a background thread and return its handle.

    Args:
        dialect: ``"wt310e"`` or ``"wt210"``.
        transport: ``"pty"`` (a new pty pair; clients open the slave path like a
            USB-serial port) or ``"tcp"`` (LF-terminated lines, e.g. VISA ``::SOCKET``).
        address: ``host:port`` for TCP (port 0 picks a free one); ignored for pty.
        load: what the power follows; default a constant 100 W.
        seed: noise seed.
        clock: monotonic clock (seconds) for the meter's update timeline.
        config: environment, noise and timing; ``baud`` overrides its ``baud``.
        baud: serial byte-time delay (None = none).
        allow_remote: permit a non-loopback TCP bind address.
    """
    config = config if config is not None else SimulatorConfig()
    if baud is not None:
        config = replace(config, baud=baud)
    instrument = SimulatedInstrument(
        dialect, load if load is not None else ConstantLoad(100.0), config, seed, clock
    )
    server = StreamServer(instrument)
    try:
        if transport == "pty":
            running = _serve_pty(instrument, server)
        elif transport == "tcp":
            running = _serve_tcp(instrument, server, address, allow_remote)
        else:
            raise SimulatorError(f"unknown transport {transport!r}; choose 'pty' or 'tcp'")
    except BaseException:
        server.close()
        raise
    server.start()
    logger.info("sim.start dialect=%s transport=%s address=%s", dialect, transport, running.address)
    return running


def _serve_pty(instrument: SimulatedInstrument, server: StreamServer) -> RunningSimulator:
    master, slave = os.openpty()
    try:
        # Raw mode: no echo, no CR/LF translation, byte-transparent like a USB-serial port.
        tty.setraw(slave)
        path = os.ttyname(slave)
        server.serve_fd(master, f"pty:{path}")
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    # The simulator keeps its own slave fd open so the master never reads EIO between clients.
    return RunningSimulator(instrument, server, "pty", path, fds=(master, slave))


def _serve_tcp(
    instrument: SimulatedInstrument, server: StreamServer, address: str, allow_remote: bool
) -> RunningSimulator:
    host, port = parse_tcp_address(address)
    if not allow_remote and not _is_loopback(host):
        raise SimulatorError(f"refusing to bind {host!r}: only loopback unless allow_remote=True")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(4)
    except OSError as error:
        listener.close()
        raise SimulatorError(f"cannot listen on {host}:{port}: {error}") from error
    server.serve_tcp(listener)
    bound_host, bound_port = listener.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return RunningSimulator(instrument, server, "tcp", f"{shown}:{bound_port}")
