"""Raw TCP socket transport for LAN meters that speak SCPI lines on a port (e.g. 5025, 10001).

Errors: :class:`~power_director.errors.TransportError` naming ``host:port`` for connection and
socket failures, including a peer that closes the connection;
:class:`~power_director.errors.TransportTimeoutError` when a reply does not complete in time.
"""

from __future__ import annotations

import logging
import socket

from power_director.errors import TransportError
from power_director.transport.base import Transport

log = logging.getLogger(__name__)


def split_host_port(
    address: str, *, default_host: str | None = None, allow_port_zero: bool = False
) -> tuple[str, int]:
    """Split ``host:port`` (or ``[v6addr]:port``) into its parts.

    The one ``HOST:PORT`` parser of the package: meter addresses, the director's listen
    address and the simulator's TCP address all use it.

    Args:
        address: the text to split.
        default_host: host used when the text is ``:port``; None makes a missing host an error.
        allow_port_zero: accept port 0 ("pick a free port", for listening sockets).

    Raises:
        ValueError: the address has no host (and no default) or no valid port.
    """
    host, sep, port_text = address.rpartition(":")
    host = host.strip("[]") or (default_host or "")
    if not sep or not host:
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    if not port_text.isdigit():
        raise ValueError(f"port {port_text!r} is not a number in {address!r}")
    port = int(port_text)
    if not (0 if allow_port_zero else 1) <= port <= 65535:
        raise ValueError(f"port out of range in {address!r}")
    return host, port


class TcpTransport(Transport):
    """A TCP connection as a :class:`Transport`.

    Args:
        host: host name or address.
        port: TCP port.
        write_termination: see :class:`Transport`.
        read_termination: see :class:`Transport`.
        timeout_s: connect and read timeout, s.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        write_termination: str = "\n",
        read_termination: str = "\n",
        timeout_s: float = 2.0,
    ) -> None:
        super().__init__(
            f"{host}:{port}",
            write_termination=write_termination,
            read_termination=read_termination,
            timeout_s=timeout_s,
        )
        try:
            self._sock = socket.create_connection((host, port), timeout=timeout_s)
        except OSError as exc:
            raise TransportError(self.resource, f"cannot connect: {exc}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._timeout_set = timeout_s

    def _write_bytes(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise TransportError(self.resource, f"send failed: {exc}") from exc

    def _read_bytes(self, max_bytes: int, timeout_s: float) -> bytes:
        try:
            if timeout_s != self._timeout_set:
                self._sock.settimeout(timeout_s)
                self._timeout_set = timeout_s
            data = self._sock.recv(max_bytes)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise TransportError(self.resource, f"receive failed: {exc}") from exc
        if not data:
            raise TransportError(self.resource, "connection closed by peer")
        return data

    def _discard_input(self) -> None:
        try:
            self._sock.setblocking(False)
            while self._sock.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        finally:
            self._sock.settimeout(self._timeout_set)

    def _close(self) -> None:
        try:
            self._sock.close()
        except OSError as exc:
            log.debug("%s close failed: %s", self.resource, exc)
