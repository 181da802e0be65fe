"""The client side of the director protocol: :class:`DirectorClient`.

One TCP connection to a power director (``docs/protocol.md``): connect, check the director's
protocol version before sending anything, ``hello``, mutual HMAC authentication, then typed
requests. Every exchange is kept in :attr:`DirectorClient.transcript` (``client.json``).

Example::

    secret = load_secret(Path("secret"))
    with DirectorClient.connect("lab-pc:4950", secret) as client:
        client.new_session("resnet50 offline")
        client.start_phase("ranging")
        ...                                         # run the workload
        client.stop_phase("ranging")
        client.start_phase("testing")
        ...
        client.stop_phase("testing")
        summary = client.done()
        client.fetch_session_files(summary, out_dir / "power")

Timeouts: ``timeout_s`` bounds the TCP connect and each handshake reply; ``reply_timeout_s``
bounds each later reply (phase stops and fetches may take a while on a real meter). Nothing is
read while the workload runs between two requests, so an idle connection never times out; TCP
keepalive is on, so a director that vanishes is noticed.

Errors: :class:`~power_client.errors.DirectorUnreachableError` (no TCP connection: refused,
timed out, unknown host, malformed address; names ``host:port``),
:class:`~power_client.errors.DirectorError` (a refused request, with the director's ``code`` and
message and the :mod:`power_director.errors` exception as ``__cause__``; a version mismatch,
code ``version``; failed authentication either way, code ``auth_failed``; a broken connection,
a timeout or a malformed reply, code ``""``). After a connection-breaking error the client is
closed and every later request raises :class:`~power_client.errors.DirectorError`.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, BinaryIO, TypeVar

from power_client.clock_sync import TimeSample
from power_client.errors import DirectorError, DirectorUnreachableError
from power_client.transcript import CONNECT, Exchange
from power_director.auth import Secret, client_proof, new_nonce, verify_director
from power_director.errors import (
    AuthenticationError,
    ConnectionClosedError,
    MalformedMessageError,
    PowerDirectorError,
    ProtocolError,
    ProtocolVersionError,
)
from power_director.protocol import (
    DEFAULT_PORT,
    PROTOCOL_VERSION,
    Abort,
    Auth,
    AuthOk,
    Cleanup,
    DirectorInfo,
    Done,
    Err,
    ErrorCode,
    Fetch,
    FileHeader,
    Hello,
    InfoRequest,
    Message,
    MessageStream,
    NewSession,
    Ok,
    Phase,
    PhaseStarted,
    PhaseStopped,
    ServerHello,
    SessionCreated,
    SessionSummary,
    StartPhase,
    StopPhase,
    SummaryRequest,
    TimeReply,
    TimeRequest,
    decode,
    enable_keepalive,
    encode,
    error_from_reply,
    to_jsonable,
)
from power_director.transport.tcp import split_host_port

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT_S",
    "DEFAULT_REPLY_TIMEOUT_S",
    "DEFAULT_SOFTWARE",
    "DirectorClient",
    "SocketFactory",
    "format_address",
    "parse_address",
]

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

#: Opens a TCP connection to ``(host, port)`` within a timeout, s (``socket.create_connection``).
SocketFactory = Callable[[tuple[str, int], float], socket.socket]

#: Connect and handshake timeout, s.
DEFAULT_CONNECT_TIMEOUT_S = 10.0
#: Longest wait for one reply after the handshake, s.
DEFAULT_REPLY_TIMEOUT_S = 120.0

# Error codes after which the director closes the connection.
_CLOSING_CODES = frozenset(
    {ErrorCode.VERSION.value, ErrorCode.AUTH_FAILED.value, ErrorCode.TOO_LARGE.value}
)


def _software() -> str:
    try:
        version = importlib.metadata.version("wattbench")
    except importlib.metadata.PackageNotFoundError:
        version = "0+unknown"
    return f"wattbench-client/{version}"


#: What the client announces in ``hello``.
DEFAULT_SOFTWARE = _software()


def parse_address(address: str | tuple[str, int]) -> tuple[str, int]:
    """Return ``(host, port)`` from ``HOST:PORT``, ``[IPv6]:PORT``, ``HOST`` or a tuple.

    A bare host name gets :data:`~power_director.protocol.DEFAULT_PORT`.

    Raises:
        ValueError: the text is not an address.
    """
    if isinstance(address, tuple):
        return address[0], int(address[1])
    if ":" not in address:
        if not address:
            raise ValueError("empty director address; expected HOST:PORT")
        return address, DEFAULT_PORT
    return split_host_port(address)


def format_address(host: str, port: int) -> str:
    """Return ``host:port`` (``[host]:port`` for IPv6)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _announced_version(line: bytes) -> int | None:
    """Return the ``protocol_version`` of a ``server_hello`` line without decoding it fully.

    A director of another version may send a ``server_hello`` with other fields, which this
    version's decoder refuses; its version must still be reported as such.
    """
    try:
        body = json.loads(line)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("type") != ServerHello.TYPE:
        return None
    version = body.get("protocol_version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _relative_path(text: str) -> PurePosixPath | None:
    """Return ``text`` as a relative path that stays inside its folder, else None."""
    path = PurePosixPath(text)
    if not text or "\\" in text or "\x00" in text or path.is_absolute() or ".." in path.parts:
        return None
    return path


class DirectorClient:
    """An authenticated connection to a power director. Not thread-safe.

    Make one with :meth:`connect`; use it as a context manager or call :meth:`close`.

    Args:
        sock: a connected TCP socket (owned by the client from now on).
        address: ``host:port`` of the director, for messages.
        clock_ns: the client's UTC wall clock, ns (stamps the transcript and ``time``).
    """

    def __init__(
        self, sock: socket.socket, address: str, *, clock_ns: Callable[[], int] = time.time_ns
    ) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            enable_keepalive(sock)
        self.address = address
        self._clock_ns = clock_ns
        self._stream: MessageStream | None = MessageStream(sock)
        self._transcript: list[Exchange] = []
        self._server_hello: ServerHello | None = None

    # --- connecting ---------------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        address: str | tuple[str, int],
        secret: Secret,
        *,
        timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        reply_timeout_s: float | None = DEFAULT_REPLY_TIMEOUT_S,
        software: str = DEFAULT_SOFTWARE,
        clock_ns: Callable[[], int] = time.time_ns,
        socket_factory: SocketFactory = socket.create_connection,
    ) -> DirectorClient:
        """Connect to the director at ``address``, check its version and authenticate both ways.

        Args:
            address: ``HOST:PORT``, ``[IPv6]:PORT``, ``HOST`` (default port) or a tuple.
            secret: the shared secret (see :func:`power_director.auth.load_secret`).
            timeout_s: connect timeout and the longest wait for each handshake reply, s.
            reply_timeout_s: longest wait for each later reply, s; None waits forever.
            software: what the client announces in ``hello``.
            clock_ns: the client's UTC wall clock, ns.
            socket_factory: opens the TCP connection (injected in tests).

        Raises:
            DirectorUnreachableError: no connection (refused, timeout, unknown host, bad
                address).
            DirectorError: code ``version`` (the director speaks another protocol version),
                ``auth_failed`` (the secrets differ, or the director failed to prove it knows
                the secret), ``busy`` (too many connections), or ``""`` (closed or garbled).
        """
        try:
            host, port = parse_address(address)
        except ValueError as exc:
            raise DirectorUnreachableError(str(address), f"malformed address: {exc}") from exc
        where = format_address(host, port)
        connected_ns = clock_ns()
        try:
            sock = socket_factory((host, port), timeout_s)
        except socket.gaierror as exc:
            reason = f"cannot resolve host {host!r}: {exc.strerror or exc}"
            raise DirectorUnreachableError(where, reason) from exc
        except ConnectionRefusedError as exc:
            reason = "connection refused (nothing listens on that port)"
            raise DirectorUnreachableError(where, reason) from exc
        except TimeoutError as exc:
            reason = f"no answer within {timeout_s:g} s (host down, or a firewall drops packets?)"
            raise DirectorUnreachableError(where, reason) from exc
        except OSError as exc:
            raise DirectorUnreachableError(where, exc.strerror or str(exc)) from exc
        sock.settimeout(timeout_s)
        client = cls(sock, where, clock_ns=clock_ns)
        try:
            client._handshake(secret, software, connected_ns)
            client._open_stream().sock.settimeout(reply_timeout_s)
        except BaseException:
            client.close()
            raise
        return client

    def _handshake(self, secret: Secret, software: str, connected_ns: int) -> None:
        hello = self._receive_server_hello(connected_ns)
        self._call(Hello(PROTOCOL_VERSION, software), Ok)
        client_nonce = new_nonce()
        try:
            mac = client_proof(secret, hello.nonce, client_nonce)
        except AuthenticationError as exc:
            raise self._broken(
                f"its authentication challenge is malformed ({exc}); it is not a wattbench "
                f"director speaking protocol {PROTOCOL_VERSION}",
                ErrorCode.AUTH_FAILED.value,
            ) from exc
        try:
            reply = self._call(Auth(client_nonce, mac), AuthOk)
        except DirectorError as exc:
            if exc.code != ErrorCode.AUTH_FAILED.value:
                raise
            raise DirectorError(
                self.address,
                f"authentication failed: the secret of this client ({secret.source}) differs "
                f"from the director's; give both the same secret (a file passed with "
                f"--secret-file, or the WATTBENCH_SECRET environment variable). "
                f"Director said: {exc.__cause__}",
                exc.code,
            ) from exc.__cause__
        try:
            verify_director(secret, hello.nonce, client_nonce, reply.mac)
        except AuthenticationError as exc:
            raise self._broken(
                "the director failed to prove it knows the shared secret: it does not hold "
                f"the secret from {secret.source}, or it is an impostor; hung up",
                ErrorCode.AUTH_FAILED.value,
            ) from exc
        log.info(
            "connected to director %r (%s) at %s", hello.director, hello.software, self.address
        )

    def _receive_server_hello(self, connected_ns: int) -> ServerHello:
        stream = self._open_stream()
        try:
            line = stream.receive_line()
        except TimeoutError as exc:
            raise self._broken("no server_hello in time; is this a wattbench director?") from exc
        except (ConnectionClosedError, MalformedMessageError, OSError) as exc:
            raise self._broken(f"no server_hello: {exc}") from exc
        received_ns = self._clock_ns()
        request = {"address": self.address}
        version = _announced_version(line)
        if version is not None and version != PROTOCOL_VERSION:
            body = json.loads(line)
            body.pop("type", None)
            self._transcript.append(
                Exchange(CONNECT, request, connected_ns, ServerHello.TYPE, body, received_ns)
            )
            software = body.get("software", "?")
            raise self._broken(
                f"the director speaks protocol version {version} ({software}), this client "
                f"{PROTOCOL_VERSION} ({DEFAULT_SOFTWARE}); install matching wattbench versions "
                f"on both machines",
                ErrorCode.VERSION.value,
            ) from ProtocolVersionError(f"protocol version {version} != {PROTOCOL_VERSION}")
        try:
            message = decode(line)
        except MalformedMessageError as exc:
            raise self._broken(f"malformed server_hello: {exc}") from exc
        self._transcript.append(
            Exchange(CONNECT, request, connected_ns, message.TYPE, _fields(message), received_ns)
        )
        hello = self._accept(CONNECT, message, ServerHello)
        self._server_hello = hello
        return hello

    # --- properties ---------------------------------------------------------------------------

    @property
    def server_hello(self) -> ServerHello:
        """Return the director's greeting (its version, software and host name)."""
        if self._server_hello is None:
            raise DirectorError(self.address, "not connected: no server_hello yet")
        return self._server_hello

    @property
    def transcript(self) -> list[Exchange]:
        """Return every exchange so far, oldest first (a copy)."""
        return list(self._transcript)

    @property
    def closed(self) -> bool:
        """Return whether the connection is closed."""
        return self._stream is None

    # --- requests -----------------------------------------------------------------------------

    def info(self) -> DirectorInfo:
        """Return the director's host, software, protocol version and meters."""
        return self._call(InfoRequest(), DirectorInfo)

    def time(self, *, clock_ns: Callable[[], int] | None = None) -> TimeSample:
        """Return one clock exchange: the local wall clock around the director's clocks, ns.

        Args:
            clock_ns: the local clock to stamp with; None uses the client's.
        """
        clock = clock_ns if clock_ns is not None else self._clock_ns
        reply, sent_ns, received_ns = self._exchange(TimeRequest(), TimeReply, clock)
        return TimeSample(sent_ns, reply.wall_ns, reply.mono_ns, received_ns)

    def new_session(self, label: str = "") -> SessionCreated:
        """Open a measurement session (the director's one active session)."""
        return self._call(NewSession(label), SessionCreated)

    def start_phase(
        self,
        phase: Phase,
        mark: str = "",
        volts_range: float | None = None,
        amps_range: float | None = None,
    ) -> PhaseStarted:
        """Start sampling ``phase``; for testing, optional manual maxima to cover (V, A)."""
        return self._call(StartPhase(phase, mark, volts_range, amps_range), PhaseStarted)

    def stop_phase(self, phase: Phase) -> PhaseStopped:
        """Stop sampling ``phase``; the reply carries the phase summary."""
        return self._call(StopPhase(phase), PhaseStopped)

    def summary(self) -> SessionSummary:
        """Return the session's state, phases and files."""
        return self._call(SummaryRequest(), SessionSummary)

    def done(self) -> SessionSummary:
        """Close the tested session normally (ranges restored, summary written)."""
        return self._call(Done(), SessionSummary)

    def abort(self, reason: str = "") -> SessionSummary:
        """End the session early with ``reason`` (a running phase is stopped)."""
        return self._call(Abort(reason), SessionSummary)

    def cleanup(self) -> None:
        """Delete the finished session's folder on the director."""
        self._call(Cleanup(), Ok)

    def fetch(self, path: str, dest_file: Path) -> FileHeader:
        """Copy the session file ``path`` to ``dest_file`` atomically; return its header.

        The bytes go to a temporary file beside ``dest_file`` (parents are created), their
        SHA-256 is checked, then the file is renamed into place. On any failure nothing is left.

        Raises:
            DirectorError: the director refused (``not_found``, ``forbidden``, ``wrong_state``),
                the bytes do not match the announced SHA-256, or the connection broke.
            OSError: ``dest_file`` cannot be written (the connection is then closed: the rest
                of the transfer cannot be skipped).
        """
        dest_file.parent.mkdir(parents=True, exist_ok=True)
        part = dest_file.with_name(f".{dest_file.name}.{secrets.token_hex(4)}.part")
        try:
            # Opened before the request: once the header arrives, the bytes must be read.
            with part.open("xb") as sink:
                header = self._call(Fetch(path), FileHeader)
                self._receive_bytes(header, sink)
                sink.flush()
                os.fsync(sink.fileno())
            os.replace(part, dest_file)
        finally:
            part.unlink(missing_ok=True)
        log.debug("fetched %s (%d bytes) to %s", path, header.size, dest_file)
        return header

    def _receive_bytes(self, header: FileHeader, sink: BinaryIO) -> None:
        stream = self._open_stream()
        try:
            stream.receive_file(header, sink)
        except ConnectionClosedError as exc:
            raise self._broken(f"fetch of {header.path!r} cut short: {exc}") from exc
        except ProtocolError as exc:
            # Every announced byte was read: the stream is still in step.
            raise DirectorError(
                self.address, f"fetch of {header.path!r} failed, nothing written: {exc}"
            ) from exc
        except (TimeoutError, ConnectionError) as exc:
            raise self._broken(f"fetch of {header.path!r} failed: {exc}") from exc
        except OSError:
            self.close()
            raise

    def fetch_session_files(
        self,
        summary: SessionSummary,
        dest_dir: Path,
        mapping: Mapping[str, str] | None = None,
    ) -> dict[str, Path]:
        """Fetch every file ``summary`` lists into ``dest_dir``; return director path -> file.

        Args:
            summary: the session summary (from :meth:`done`, :meth:`abort` or :meth:`summary`).
            dest_dir: the local folder; files keep their relative paths.
            mapping: director path -> local path relative to ``dest_dir``, for files to rename
                (e.g. ``{"summary.json": "server.json"}``); unmapped files keep their path.

        Raises:
            ValueError: a ``mapping`` target is not a relative path inside ``dest_dir``.
            DirectorError: a listed path is unsafe (absolute, ``..``), or a fetch failed.
            OSError: a file cannot be written.
        """
        renames = dict(mapping or {})
        for remote, target in renames.items():
            if _relative_path(target) is None:
                raise ValueError(f"mapping {remote!r} -> {target!r}: not a relative path")
        fetched: dict[str, Path] = {}
        for entry in summary.files:
            remote = str(entry.get("path", ""))
            remote_path = _relative_path(remote)
            if remote_path is None:
                raise DirectorError(
                    self.address,
                    f"session {summary.session_id} lists an unsafe file path {remote!r}; "
                    f"refusing to write it",
                )
            local = _relative_path(renames.get(remote, remote)) or remote_path
            dest = dest_dir.joinpath(*local.parts)
            self.fetch(remote, dest)
            fetched[remote] = dest
        log.info("fetched %d file(s) of session %s", len(fetched), summary.session_id)
        return fetched

    # --- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (idempotent). An active session is aborted by the director."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
            log.debug("connection to %s closed", self.address)

    def __enter__(self) -> DirectorClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- internals ----------------------------------------------------------------------------

    def _open_stream(self) -> MessageStream:
        if self._stream is None:
            raise DirectorError(self.address, "the connection to the director is closed")
        return self._stream

    def _call(self, request: Message, reply_type: type[M]) -> M:
        return self._exchange(request, reply_type, self._clock_ns)[0]

    def _exchange(
        self, request: Message, reply_type: type[M], clock_ns: Callable[[], int]
    ) -> tuple[M, int, int]:
        """Send ``request``, record the exchange, return the reply and the send/receive stamps."""
        stream = self._open_stream()
        try:
            data = encode(request)
        except ProtocolError as exc:
            raise DirectorError(self.address, f"{request.TYPE} not sent: {exc}") from exc
        sent_ns = clock_ns()
        try:
            stream.sock.sendall(data)
            reply = stream.receive()
        except TimeoutError as exc:
            self._transcript.append(Exchange.of(request, sent_ns, None, None))
            raise self._broken(
                f"no reply to {request.TYPE} within {stream.sock.gettimeout():g} s; "
                f"connection closed"
            ) from exc
        except (ConnectionClosedError, MalformedMessageError, OSError) as exc:
            self._transcript.append(Exchange.of(request, sent_ns, None, None))
            raise self._broken(f"{request.TYPE} failed: {exc}") from exc
        received_ns = clock_ns()
        self._transcript.append(Exchange.of(request, sent_ns, reply, received_ns))
        log.debug("%s -> %s", request.TYPE, reply.TYPE)
        return self._accept(request.TYPE, reply, reply_type), sent_ns, received_ns

    def _accept(self, request_type: str, reply: Message, reply_type: type[M]) -> M:
        if isinstance(reply, reply_type):
            return reply
        if isinstance(reply, Err):
            cause: PowerDirectorError = error_from_reply(reply)
            if reply.code in _CLOSING_CODES:
                self.close()
            raise DirectorError(
                self.address, f"{request_type} refused [{reply.code}]: {reply.message}", reply.code
            ) from cause
        cause = ProtocolError(f"expected {reply_type.TYPE!r}, got {reply.TYPE!r}")
        raise self._broken(f"{request_type}: {cause}") from cause

    def _broken(self, message: str, code: str = "") -> DirectorError:
        """Close the connection and return the error to raise."""
        self.close()
        return DirectorError(self.address, message, code)


def _fields(message: Message) -> dict[str, Any]:
    fields: dict[str, Any] = to_jsonable(message)
    return fields
