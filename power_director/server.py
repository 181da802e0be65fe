"""The director service: a threaded TCP server speaking :mod:`power_director.protocol`.

One thread per connection; each message type maps to one handler (:data:`HANDLERS`). Nothing but
``hello`` and ``auth`` is served before authentication. One session is active at a time: a
second client asking for a session gets ``busy``. A client that disconnects mid-session has its
session aborted: the running phase stopped, the meters' initial ranges restored.

Example (tests, benchmarks, the all-in-one run)::

    director = serve(DirectorConfig(listen="127.0.0.1:0", data_dir=tmp), engine_factory,
                     secret=secret)
    host, port = director.address
    ...
    director.close()

Errors: :func:`serve` raises ``OSError`` when it cannot listen and
:class:`~power_director.errors.ConfigError` for an invalid secret source.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

from power_director.auth import Authenticator, Secret, load_secret, new_nonce
from power_director.config import DirectorConfig
from power_director.errors import (
    AuthenticationError,
    ConnectionClosedError,
    DirectorBusyError,
    MalformedMessageError,
    PowerDirectorError,
    SessionStateError,
)
from power_director.protocol import (
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
    Hello,
    InfoRequest,
    Message,
    MessageStream,
    NewSession,
    Ok,
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
    enable_keepalive,
)
from power_director.session import (
    EngineFactory,
    FileAccessError,
    MeasurementSession,
    create_session,
)

__all__ = ["SOFTWARE", "RunningDirector", "serve"]

log = logging.getLogger(__name__)

SOFTWARE = "wattbench-director/0.1.0"


class _Close(Exception):
    """Send ``reply`` and close the connection."""

    def __init__(self, reply: Message) -> None:
        self.reply = reply
        super().__init__(reply)


class _Connection:
    """One client connection: its handshake state and (at most one) session."""

    def __init__(self, director: RunningDirector, sock: socket.socket, peer: str) -> None:
        self.director = director
        self.stream = MessageStream(sock, max_line_bytes=director.config.max_line_bytes)
        self.peer = peer
        self.nonce = new_nonce()
        self.hello_done = False
        self.authenticated = False
        self.session: MeasurementSession | None = None

    # --- loop ---------------------------------------------------------------------------------

    def serve(self) -> None:
        sock = self.stream.sock
        try:
            sock.settimeout(self.director.config.handshake_timeout_s)
            self.stream.send(
                ServerHello(PROTOCOL_VERSION, SOFTWARE, self.nonce, socket.gethostname())
            )
            while True:
                try:
                    message = self.stream.receive()
                except MalformedMessageError as exc:
                    if exc.code == ErrorCode.TOO_LARGE.value:
                        raise _Close(Err(exc.code, str(exc))) from None
                    self.stream.send(Err(exc.code, str(exc)))
                    continue
                reply = self.dispatch(message)
                if reply is not None:
                    self.stream.send(reply)
        except _Close as close:
            self._send_quietly(close.reply)
        except ConnectionClosedError:
            log.debug("connection %s closed by peer", self.peer)
        except TimeoutError:
            self._send_quietly(
                Err.of(ErrorCode.UNAUTHENTICATED, "hello and auth not completed in time")
            )
        except OSError as exc:
            log.info("connection %s failed: %s", self.peer, exc)
        finally:
            self.finish()

    def dispatch(self, message: Message) -> Message | None:
        handler = HANDLERS.get(type(message))
        if handler is None:
            return Err.of(ErrorCode.UNKNOWN_TYPE, f"{message.TYPE!r} is a reply, not a request")
        if not self.hello_done and not isinstance(message, Hello):
            return Err.of(ErrorCode.UNAUTHENTICATED, f"{message.TYPE!r} refused: send hello first")
        if not self.authenticated and not isinstance(message, (Hello, Auth)):
            return Err.of(
                ErrorCode.UNAUTHENTICATED, f"{message.TYPE!r} refused: authenticate first"
            )
        try:
            return handler(self, message)
        except DirectorBusyError as exc:
            return Err.of(ErrorCode.BUSY, str(exc))
        except SessionStateError as exc:
            return Err.of(ErrorCode.WRONG_STATE, str(exc))
        except FileAccessError as exc:
            return Err(exc.code, str(exc))
        except ValueError as exc:
            return Err.of(ErrorCode.BAD_REQUEST, str(exc))
        except PowerDirectorError as exc:
            log.error("connection %s: %s failed: %s", self.peer, message.TYPE, exc)
            return Err.of(ErrorCode.METER, f"{message.TYPE} failed: {exc}")
        except (_Close, OSError):
            raise
        except Exception as exc:
            log.exception("connection %s: %s failed", self.peer, message.TYPE)
            return Err.of(ErrorCode.INTERNAL, f"{message.TYPE} failed: {type(exc).__name__}: {exc}")
        finally:
            if self.session is not None and not self.session.active:
                self.director._session_ended(self)

    def finish(self) -> None:
        session = self.session
        if session is not None and session.active:
            phase = session.running_phase
            reason = f"client {self.peer} disconnected" + (f" during {phase}" if phase else "")
            session.abort(reason)
        self.director._release(self)
        self.stream.close()

    def _send_quietly(self, message: Message) -> None:
        try:
            self.stream.send(message)
        except OSError:
            pass

    def _session(self) -> MeasurementSession:
        if self.session is None:
            raise SessionStateError("no session: send new_session first")
        return self.session

    # --- handlers -----------------------------------------------------------------------------

    def on_hello(self, msg: Hello) -> Message:
        if self.hello_done:
            raise SessionStateError("hello was already received on this connection")
        if msg.protocol_version != PROTOCOL_VERSION:
            log.warning(
                "connection %s speaks protocol %s (%s); director speaks %s",
                self.peer,
                msg.protocol_version,
                msg.software,
                PROTOCOL_VERSION,
            )
            raise _Close(
                Err.of(
                    ErrorCode.VERSION,
                    f"director speaks protocol version {PROTOCOL_VERSION}, client "
                    f"{msg.protocol_version}; install matching wattbench versions",
                )
            )
        self.hello_done = True
        log.debug("connection %s hello from %s", self.peer, msg.software)
        return Ok()

    def on_auth(self, msg: Auth) -> Message:
        if self.authenticated:
            raise SessionStateError("already authenticated")
        try:
            proof = self.director.authenticator.verify_client(self.nonce, msg.client_nonce, msg.mac)
        except AuthenticationError as exc:
            log.warning("connection %s: authentication failed: %s", self.peer, exc)
            raise _Close(Err.of(ErrorCode.AUTH_FAILED, f"authentication failed: {exc}")) from None
        self.authenticated = True
        self.stream.sock.settimeout(None)
        log.info("connection %s authenticated", self.peer)
        return AuthOk(proof)

    def on_info(self, msg: InfoRequest) -> Message:
        return DirectorInfo(
            socket.gethostname(), SOFTWARE, PROTOCOL_VERSION, tuple(self.director.meters_info)
        )

    def on_time(self, msg: TimeRequest) -> Message:
        return TimeReply(self.director.wall_ns(), self.director.mono_ns())

    def on_new_session(self, msg: NewSession) -> Message:
        if self.session is not None and self.session.active:
            raise SessionStateError(
                f"new_session is not allowed: session {self.session.session_id} is still "
                f"{self.session.state.value} (send done or abort first)"
            )
        session = self.director._open_session(self, msg.label)
        self.session = session
        return SessionCreated(session.session_id, session.label)

    def on_start_phase(self, msg: StartPhase) -> Message:
        session = self._session()
        record = session.start_phase(
            msg.phase, msg.mark, volts_range=msg.volts_range, amps_range=msg.amps_range
        )
        return PhaseStarted(msg.phase, record.mark, record.start_wall_ns, record.start_mono_ns)

    def on_stop_phase(self, msg: StopPhase) -> Message:
        session = self._session()
        if session.running_phase not in (None, msg.phase):
            raise SessionStateError(
                f"stop_phase {msg.phase!r} refused: the running phase is {session.running_phase}"
            )
        record = session.stop_phase(msg.phase)
        return PhaseStopped(
            msg.phase,
            record.mark,
            record.stop_wall_ns or 0,
            record.stop_mono_ns or 0,
            dict(record.summary or {}),
        )

    def on_summary(self, msg: SummaryRequest) -> Message:
        return self._session().summary()

    def on_fetch(self, msg: Fetch) -> Message | None:
        path = self._session().resolve_file(msg.path)
        try:
            f = path.open("rb")
        except OSError as exc:
            return Err.of(ErrorCode.NOT_FOUND, f"{msg.path!r} cannot be opened: {exc.strerror}")
        with f:
            header = self.stream.send_file(msg.path, f)
        log.info("connection %s fetched %s (%d bytes)", self.peer, msg.path, header.size)
        return None

    def on_abort(self, msg: Abort) -> Message:
        return self._session().abort(msg.reason or f"aborted by client {self.peer}")

    def on_done(self, msg: Done) -> Message:
        summary: SessionSummary = self._session().done()
        return summary

    def on_cleanup(self, msg: Cleanup) -> Message:
        session = self._session()
        if not self.director.config.allow_cleanup:
            return Err.of(ErrorCode.FORBIDDEN, "cleanup is disabled on this director")
        session.cleanup()
        return Ok()


#: Message type -> handler. A type absent here is a reply and is refused as a request.
HANDLERS: Mapping[type[Message], Callable[[_Connection, Any], Message | None]] = {
    Hello: _Connection.on_hello,
    Auth: _Connection.on_auth,
    InfoRequest: _Connection.on_info,
    TimeRequest: _Connection.on_time,
    NewSession: _Connection.on_new_session,
    StartPhase: _Connection.on_start_phase,
    StopPhase: _Connection.on_stop_phase,
    SummaryRequest: _Connection.on_summary,
    Fetch: _Connection.on_fetch,
    Abort: _Connection.on_abort,
    Done: _Connection.on_done,
    Cleanup: _Connection.on_cleanup,
}


class RunningDirector:
    """A director being served; :meth:`close` (or ``with``) stops it and aborts any session.

    Attributes:
        address: ``(host, port)`` actually listened on (the port is real even for port 0).
        config: the configuration it runs with.
    """

    def __init__(
        self,
        config: DirectorConfig,
        engine_factory: EngineFactory,
        secret: Secret,
        *,
        meters_info: Sequence[Mapping[str, Any]] = (),
        meter_names: Sequence[str] = (),
        wall_ns: Callable[[], int] = time.time_ns,
        mono_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.config = config
        self.engine_factory = engine_factory
        self.authenticator = Authenticator(secret)
        self.meters_info = [dict(m) for m in meters_info]
        self.meter_names = tuple(meter_names)
        self.wall_ns = wall_ns
        self.mono_ns = mono_ns
        self._lock = threading.Lock()
        self._connections: dict[_Connection, threading.Thread] = {}
        self._active: tuple[_Connection, MeasurementSession] | None = None
        self._closing = threading.Event()
        host, port = config.listen_address
        self._listener = socket.create_server(
            (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
        )
        self._listener.settimeout(0.1)
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"director-accept-{self.address[1]}", daemon=True
        )
        self._thread.start()
        log.info("director listening on %s:%d, data in %s", *self.address, config.data_dir)

    def __enter__(self) -> RunningDirector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def active_session(self) -> MeasurementSession | None:
        """Return the session holding the meters, if any."""
        with self._lock:
            return self._active[1] if self._active else None

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop listening, drop every connection (aborting its session) and join the threads."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._thread.join(timeout_s)
        self._listener.close()
        with self._lock:
            connections = list(self._connections.items())
        for conn, _ in connections:
            try:
                conn.stream.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _, thread in connections:
            thread.join(timeout_s)
        log.info("director on %s:%d stopped", *self.address)

    # --- internals ----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            try:
                sock, addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if not self._closing.is_set():
                    log.exception("accept failed")
                return
            self._start_connection(sock, f"{addr[0]}:{addr[1]}")

    def _start_connection(self, sock: socket.socket, peer: str) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        enable_keepalive(sock)
        conn = _Connection(self, sock, peer)
        with self._lock:
            full = len(self._connections) >= self.config.max_connections
            if not full:
                thread = threading.Thread(
                    target=conn.serve, name=f"director-conn-{peer}", daemon=True
                )
                self._connections[conn] = thread
        if full:
            log.warning("refusing %s: %d connections already", peer, self.config.max_connections)
            conn._send_quietly(
                Err.of(
                    ErrorCode.BUSY,
                    f"director busy: {self.config.max_connections} connections already served",
                )
            )
            conn.stream.close()
            return
        log.debug("connection from %s", peer)
        thread.start()

    def _open_session(self, conn: _Connection, label: str) -> MeasurementSession:
        with self._lock:
            if self._active is not None:
                other, session = self._active
                raise DirectorBusyError(
                    f"director busy: session {session.session_id} of client {other.peer} is "
                    f"active ({session.state.value}); one session at a time"
                )
            session = create_session(
                self.config.data_dir,
                label,
                self.engine_factory,
                wall_ns=self.wall_ns,
                mono_ns=self.mono_ns,
                meter_names=self.meter_names,
            )
            self._active = (conn, session)
        return session

    def _release(self, conn: _Connection) -> None:
        with self._lock:
            self._connections.pop(conn, None)
            if self._active is not None and self._active[0] is conn:
                self._active = None
        log.debug("connection %s finished", conn.peer)

    def _session_ended(self, conn: _Connection) -> None:
        with self._lock:
            if self._active is not None and self._active[0] is conn:
                self._active = None


def serve(
    config: DirectorConfig,
    engine_factory: EngineFactory,
    *,
    secret: Secret | None = None,
    meters_info: Sequence[Mapping[str, Any]] = (),
    meter_names: Sequence[str] = (),
    wall_ns: Callable[[], int] = time.time_ns,
    mono_ns: Callable[[], int] = time.monotonic_ns,
) -> RunningDirector:
    """Start serving ``config.listen`` in background threads; return the running director.

    Args:
        config: listen address, data folder, limits.
        engine_factory: builds one session's measurement engine from its folder.
        secret: the shared secret; None loads it from ``config`` (file or environment).
        meters_info: what ``info`` reports about each meter (spec, name, identity...).
        meter_names: the names the engine knows the meters by (keys of manual ranges).
        wall_ns: UTC wall clock, ns (injected in tests).
        mono_ns: monotonic clock, ns.

    Raises:
        ConfigError: no usable secret.
        OSError: the address cannot be bound.
    """
    if secret is None:
        secret = load_secret(config.secret_file, env_var=config.secret_env)
    return RunningDirector(
        config,
        engine_factory,
        secret,
        meters_info=meters_info,
        meter_names=meter_names,
        wall_ns=wall_ns,
        mono_ns=mono_ns,
    )
