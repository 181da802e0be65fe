"""Serve a simulated instrument over byte streams: a pty master fd or TCP connections.

One background thread runs a ``selectors`` loop over the stream endpoints, a listening
socket (TCP) and a wake-up pipe (for :meth:`StreamServer.close`). Input is split into lines
on LF (a trailing CR is dropped); each line goes to the instrument and its reply, plus the
configured terminator, is queued for sending at the time a real serial line would have
delivered it (:class:`LineTiming`). All fds are non-blocking, so a client that never reads
cannot wedge the loop or :meth:`close`.
"""

from __future__ import annotations

import collections
import logging
import os
import selectors
import socket
import threading
import time
from collections.abc import Callable

from power_director.errors import SimulatorError
from power_director.sim.instrument import SimulatedInstrument

__all__ = ["LineTiming", "StreamServer"]

logger = logging.getLogger(__name__)

_BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop
_READ_CHUNK = 4096
_IDLE_WAKE_S = 1.0


class LineTiming:
    """Byte-time model of a full-duplex serial line at ``baud`` (None = instant).

    A command of n bytes finishes arriving n x 10 / baud after the previous one did (or
    after it was read); its reply starts once the command is in and the transmit side is
    free, and is delivered m x 10 / baud later.
    """

    def __init__(self, baud: int | None) -> None:
        self._byte_s = _BITS_PER_BYTE / baud if baud else 0.0
        self._rx_free_s = 0.0
        self._tx_free_s = 0.0

    def command_done(self, now_s: float, size: int) -> float:
        self._rx_free_s = max(now_s, self._rx_free_s) + size * self._byte_s
        return self._rx_free_s

    def reply_ready(self, command_done_s: float, size: int) -> float:
        self._tx_free_s = max(command_done_s, self._tx_free_s) + size * self._byte_s
        return self._tx_free_s


class _Endpoint:
    """One byte stream with its input buffer, timed output queue and line timing."""

    def __init__(
        self,
        name: str,
        fileno: int,
        receive: Callable[[], bytes],
        send: Callable[[bytes], int],
        close: Callable[[], None] | None,
        baud: int | None,
    ) -> None:
        self.name = name
        self.fileno = fileno
        self.receive = receive
        self.send = send
        self.close = close
        self.timing = LineTiming(baud)
        self.inbuf = bytearray()
        self.pending: collections.deque[tuple[float, bytes]] = collections.deque()
        self.want_write = False


class StreamServer:
    """Background server of one instrument over a pty master or a TCP listener.

    Use :meth:`serve_fd` or :meth:`serve_tcp` to add the stream source, then :meth:`start`.

    Args:
        instrument: the simulated meter.
        monotonic: real-time clock for byte timing (never the instrument's fake clock).
    """

    def __init__(
        self, instrument: SimulatedInstrument, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._instrument = instrument
        self._monotonic = monotonic
        self._config = instrument.config
        self._terminator = self._config.reply_terminator.encode("latin-1")
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._listener: socket.socket | None = None
        self._endpoints: dict[int, _Endpoint] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wattbench-sim-meter", daemon=True)
        self._closed = False

    def serve_fd(self, fd: int, name: str) -> None:
        """Serve a pty master (the caller keeps ownership of ``fd``)."""
        os.set_blocking(fd, False)
        endpoint = _Endpoint(
            name,
            fd,
            receive=lambda: os.read(fd, _READ_CHUNK),
            send=lambda data: os.write(fd, data),
            close=None,
            baud=self._config.baud,
        )
        self._add(endpoint)

    def serve_tcp(self, listener: socket.socket) -> None:
        """Accept connections on a bound, listening socket (closed by :meth:`close`)."""
        listener.setblocking(False)
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, listener)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and close the listener, connections and wake pipe (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)
            if self._thread.is_alive():
                raise SimulatorError("simulated meter thread did not stop within 5 s")
        for endpoint in list(self._endpoints.values()):
            self._drop(endpoint)
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _add(self, endpoint: _Endpoint) -> None:
        self._endpoints[endpoint.fileno] = endpoint
        self._selector.register(endpoint.fileno, selectors.EVENT_READ, endpoint)

    def _drop(self, endpoint: _Endpoint) -> None:
        self._endpoints.pop(endpoint.fileno, None)
        try:
            self._selector.unregister(endpoint.fileno)
        except (KeyError, ValueError):
            pass
        if endpoint.close is not None:
            endpoint.close()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._step()
        except Exception:
            logger.exception("sim.server loop failed; the simulated meter stops answering")

    def _step(self) -> None:
        now = self._monotonic()
        due = [ep.pending[0][0] for ep in self._endpoints.values() if ep.pending]
        timeout = min([max(d - now, 0.0) for d in due], default=_IDLE_WAKE_S)
        for key, mask in self._selector.select(timeout):
            data = key.data
            if data is None:
                self._drain_wake()
            elif isinstance(data, socket.socket):
                self._accept(data)
            elif isinstance(data, _Endpoint) and mask & selectors.EVENT_READ:
                self._read(data)
        now = self._monotonic()
        for endpoint in list(self._endpoints.values()):
            self._flush(endpoint, now)

    def _drain_wake(self) -> None:
        try:
            os.read(self._wake_r, 64)
        except BlockingIOError:
            pass

    def _accept(self, listener: socket.socket) -> None:
        try:
            conn, peer = listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        logger.debug("sim.tcp accept peer=%s", peer)
        self._add(
            _Endpoint(
                f"tcp:{peer}",
                conn.fileno(),
                receive=lambda: conn.recv(_READ_CHUNK),
                send=conn.send,
                close=conn.close,
                baud=self._config.baud,
            )
        )

    def _read(self, endpoint: _Endpoint) -> None:
        try:
            data = endpoint.receive()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as error:
            logger.debug("sim.read %s failed: %s", endpoint.name, error)
            data = b""
        if not data:
            if endpoint.close is not None:
                logger.debug("sim.eof %s", endpoint.name)
                self._drop(endpoint)
            return
        endpoint.inbuf += data
        now = self._monotonic()
        while True:
            newline = endpoint.inbuf.find(b"\n")
            if newline < 0:
                break
            raw = bytes(endpoint.inbuf[: newline + 1])
            del endpoint.inbuf[: newline + 1]
            self._handle(endpoint, raw, now)
        if len(endpoint.inbuf) > self._config.max_line_bytes:
            endpoint.inbuf.clear()
            self._instrument.report_error(102)

    def _handle(self, endpoint: _Endpoint, raw: bytes, now: float) -> None:
        done = endpoint.timing.command_done(now, len(raw))
        line = raw.rstrip(b"\r\n").decode("latin-1")
        if not line.strip():
            return
        reply = self._instrument.handle_line(line)
        if reply is None:
            return
        data = reply.encode("latin-1") + self._terminator
        endpoint.pending.append((endpoint.timing.reply_ready(done, len(data)), data))

    def _flush(self, endpoint: _Endpoint, now: float) -> None:
        while endpoint.pending and endpoint.pending[0][0] <= now:
            ready, data = endpoint.pending[0]
            try:
                sent = endpoint.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as error:
                logger.debug("sim.write %s failed: %s", endpoint.name, error)
                endpoint.pending.clear()
                break
            if sent < len(data):
                endpoint.pending[0] = (ready, data[sent:])
                break
            endpoint.pending.popleft()
        want_write = bool(endpoint.pending) and endpoint.pending[0][0] <= now
        if want_write != endpoint.want_write and endpoint.fileno in self._endpoints:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want_write else 0)
            self._selector.modify(endpoint.fileno, events, endpoint)
            endpoint.want_write = want_write
