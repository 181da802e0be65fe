"""The director's wire protocol: typed messages, one line codec, size-framed file transfer.

Stdlib only (the power client imports it). The full spec is ``docs/protocol.md``. In short:
one JSON object per line (UTF-8, ``\\n``-terminated, at most :data:`MAX_LINE_BYTES` including
the newline), each with a ``type`` field naming its message class; strict request/response;
the director speaks first (:class:`ServerHello`). A fetched file follows its
:class:`FileHeader` line as exactly ``size`` raw bytes whose SHA-256 the header states.

Example (client side)::

    stream = MessageStream(socket.create_connection(("127.0.0.1", 4950)))
    hello = stream.expect(ServerHello)
    stream.request(Hello(PROTOCOL_VERSION, "my-client/1.0"), Ok)
    reply = stream.request(TimeRequest(), TimeReply)   # reply.wall_ns, reply.mono_ns

Errors: :class:`~power_director.errors.MalformedMessageError` (a line that is not a valid
message; carries the code to answer with), :class:`~power_director.errors.ConnectionClosedError`,
:class:`~power_director.errors.RemoteError` and its mapped siblings (:func:`error_from_reply`),
:class:`~power_director.errors.ProtocolError` (unexpected reply, file hash mismatch).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import socket
import types
from collections.abc import Mapping
from pathlib import PurePath
from typing import (
    Any,
    BinaryIO,
    ClassVar,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from power_director.errors import (
    AuthenticationError,
    ConnectionClosedError,
    DirectorBusyError,
    MalformedMessageError,
    PowerDirectorError,
    ProtocolError,
    ProtocolVersionError,
    RemoteError,
    SessionStateError,
)

__all__ = [
    "DEFAULT_PORT",
    "MAX_LINE_BYTES",
    "PROTOCOL_VERSION",
    "Abort",
    "Auth",
    "AuthOk",
    "Cleanup",
    "DirectorInfo",
    "Done",
    "Err",
    "ErrorCode",
    "Fetch",
    "FileHeader",
    "Hello",
    "InfoRequest",
    "Message",
    "MessageStream",
    "NewSession",
    "Ok",
    "Phase",
    "PhaseStarted",
    "PhaseStopped",
    "ServerHello",
    "SessionCreated",
    "SessionSummary",
    "StartPhase",
    "StopPhase",
    "SummaryRequest",
    "TimeReply",
    "TimeRequest",
    "decode",
    "encode",
    "error_from_reply",
    "message_types",
    "to_jsonable",
]

#: Version of this protocol; peers must speak the same one (see docs/protocol.md, Versioning).
PROTOCOL_VERSION = 1
#: Longest accepted line, newline included, bytes.
MAX_LINE_BYTES = 64 * 1024
#: The director's default TCP port (as power-dev's).
DEFAULT_PORT = 4950
#: Chunk size of file transfers, bytes.
FILE_CHUNK_BYTES = 1 << 20

Phase = Literal["ranging", "testing"]

M = TypeVar("M", bound="Message")


class ErrorCode(str, enum.Enum):
    """The reason codes an :class:`Err` reply carries."""

    BAD_REQUEST = "bad_request"  # not JSON, missing/unknown field, wrong type or value
    TOO_LARGE = "too_large"  # line over the size limit (the connection is then closed)
    UNKNOWN_TYPE = "unknown_type"  # no such message type, or a reply type sent as a request
    VERSION = "version"  # protocol versions differ (the connection is then closed)
    UNAUTHENTICATED = "unauthenticated"  # request before hello/auth completed
    AUTH_FAILED = "auth_failed"  # wrong proof or replayed nonce (the connection is then closed)
    WRONG_STATE = "wrong_state"  # request not allowed in the session's state, or no session
    BUSY = "busy"  # another client holds the one active session, or too many connections
    NOT_FOUND = "not_found"  # no such file in the session
    FORBIDDEN = "forbidden"  # path outside the session folder, or cleanup disabled
    METER = "meter"  # the measurement engine or a meter failed
    INTERNAL = "internal"  # a director bug; see its log


class Message:
    """Base of every message; subclasses are frozen dataclasses with a unique ``TYPE``."""

    TYPE: ClassVar[str] = ""
    _registry: ClassVar[dict[str, type[Message]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.TYPE or cls.TYPE in Message._registry:
            raise TypeError(f"message class {cls.__name__} needs a unique TYPE")
        Message._registry[cls.TYPE] = cls


# --- handshake and auth ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ServerHello(Message):
    """Director -> client on connect: its version, software and the auth challenge (hex)."""

    TYPE: ClassVar[str] = "server_hello"
    protocol_version: int
    software: str
    nonce: str
    director: str = ""


@dataclasses.dataclass(frozen=True)
class Hello(Message):
    """Client's first request: its protocol version and software. Reply: :class:`Ok`."""

    TYPE: ClassVar[str] = "hello"
    protocol_version: int
    software: str = ""


@dataclasses.dataclass(frozen=True)
class Auth(Message):
    """Client's proof: ``mac = HMAC-SHA256(secret, nonce || client_nonce || "wattbench-v1")``.

    Reply: :class:`AuthOk` carrying the director's proof.
    """

    TYPE: ClassVar[str] = "auth"
    client_nonce: str
    mac: str


@dataclasses.dataclass(frozen=True)
class AuthOk(Message):
    """The director's proof, ``HMAC-SHA256(secret, N_c || N_d || "wattbench-v1-director")``."""

    TYPE: ClassVar[str] = "auth_ok"
    mac: str


# --- service ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class InfoRequest(Message):
    """Ask what the director measures with. Reply: :class:`DirectorInfo`."""

    TYPE: ClassVar[str] = "info"


@dataclasses.dataclass(frozen=True)
class DirectorInfo(Message):
    """The director's host, software and meters (each ``{"spec", "name", "identity", ...}``)."""

    TYPE: ClassVar[str] = "director_info"
    director: str
    software: str
    protocol_version: int
    meters: tuple[dict[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class TimeRequest(Message):
    """Ask for the director's clocks (for the offset estimate). Reply: :class:`TimeReply`."""

    TYPE: ClassVar[str] = "time"


@dataclasses.dataclass(frozen=True)
class TimeReply(Message):
    """The director's UTC wall clock and monotonic clock, both ns, read back to back."""

    TYPE: ClassVar[str] = "time_reply"
    wall_ns: int
    mono_ns: int


@dataclasses.dataclass(frozen=True)
class NewSession(Message):
    """Open a measurement session. Reply: :class:`SessionCreated`."""

    TYPE: ClassVar[str] = "new_session"
    label: str = ""


@dataclasses.dataclass(frozen=True)
class SessionCreated(Message):
    """The new session's id (also its folder name: ``<UTC timestamp>_<sanitised label>``)."""

    TYPE: ClassVar[str] = "session_created"
    session_id: str
    label: str


@dataclasses.dataclass(frozen=True)
class StartPhase(Message):
    """Start sampling a phase. Reply: :class:`PhaseStarted`.

    ``mark`` tags the samples (``[A-Za-z0-9_.-]``, 1-64 characters; empty means
    ``<session_id>_<phase>``). ``volts_range`` and ``amps_range`` (V, A; testing only) are
    maxima to cover on every meter, rounded up to the meter's range table; each overrides what
    ranging chose. Both given allow testing without ranging.
    """

    TYPE: ClassVar[str] = "start_phase"
    phase: Phase
    mark: str = ""
    volts_range: float | None = None
    amps_range: float | None = None


@dataclasses.dataclass(frozen=True)
class PhaseStarted(Message):
    """When sampling started on the director's clocks, ns."""

    TYPE: ClassVar[str] = "phase_started"
    phase: Phase
    mark: str
    wall_ns: int
    mono_ns: int


@dataclasses.dataclass(frozen=True)
class StopPhase(Message):
    """Stop the running phase. Reply: :class:`PhaseStopped`."""

    TYPE: ClassVar[str] = "stop_phase"
    phase: Phase


@dataclasses.dataclass(frozen=True)
class PhaseStopped(Message):
    """When sampling stopped, and the phase summary (samples, gaps, ranges, uncertainty...)."""

    TYPE: ClassVar[str] = "phase_stopped"
    phase: Phase
    mark: str
    wall_ns: int
    mono_ns: int
    summary: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class SummaryRequest(Message):
    """Ask for the session summary. Reply: :class:`SessionSummary`."""

    TYPE: ClassVar[str] = "summary"


@dataclasses.dataclass(frozen=True)
class SessionSummary(Message):
    """The session's state, per-phase summaries and files (``{"path", "size"}``).

    ``reason`` says why an aborted session was aborted.
    """

    TYPE: ClassVar[str] = "session_summary"
    session_id: str
    label: str
    state: str
    phases: tuple[dict[str, Any], ...] = ()
    files: tuple[dict[str, Any], ...] = ()
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Fetch(Message):
    """Fetch one file of the session by its path relative to the session folder.

    Reply: :class:`FileHeader` followed by the file's bytes.
    """

    TYPE: ClassVar[str] = "fetch"
    path: str


@dataclasses.dataclass(frozen=True)
class FileHeader(Message):
    """Announces exactly ``size`` raw bytes following this line, with their SHA-256 (hex)."""

    TYPE: ClassVar[str] = "file"
    path: str
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class Abort(Message):
    """Abort the session (a running phase is stopped, ranges restored). Reply: summary."""

    TYPE: ClassVar[str] = "abort"
    reason: str = ""


@dataclasses.dataclass(frozen=True)
class Done(Message):
    """Close a completed session (ranges restored). Reply: :class:`SessionSummary`."""

    TYPE: ClassVar[str] = "done"


@dataclasses.dataclass(frozen=True)
class Cleanup(Message):
    """Delete the finished session's folder on the director. Reply: :class:`Ok`."""

    TYPE: ClassVar[str] = "cleanup"


@dataclasses.dataclass(frozen=True)
class Ok(Message):
    """Success with nothing to report."""

    TYPE: ClassVar[str] = "ok"


@dataclasses.dataclass(frozen=True)
class Err(Message):
    """A refused request: ``code`` (an :class:`ErrorCode` value) and a readable ``message``."""

    TYPE: ClassVar[str] = "error"
    code: str
    message: str

    @classmethod
    def of(cls, code: ErrorCode, message: str) -> Err:
        """Return an error reply with ``code``."""
        return cls(code.value, message)


#: Messages a client may send; everything else is a reply.
REQUEST_TYPES: tuple[type[Message], ...] = (
    Hello,
    Auth,
    InfoRequest,
    TimeRequest,
    NewSession,
    StartPhase,
    StopPhase,
    SummaryRequest,
    Fetch,
    Abort,
    Done,
    Cleanup,
)


def message_types() -> dict[str, type[Message]]:
    """Return every message class by its ``type`` name."""
    return dict(Message._registry)


# --- codec -----------------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON data (dataclasses, enums, paths; NaN/inf -> None)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def encode(message: Message, *, max_bytes: int = MAX_LINE_BYTES) -> bytes:
    """Return ``message`` as one JSON line (UTF-8, ``\\n``-terminated).

    Raises:
        ProtocolError: the line would exceed ``max_bytes``.
    """
    body: dict[str, Any] = {"type": message.TYPE}
    for f in dataclasses.fields(message):  # type: ignore[arg-type]
        body[f.name] = to_jsonable(getattr(message, f.name))
    line = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n"
    data = line.encode("utf-8")
    if len(data) > max_bytes:
        raise ProtocolError(
            f"{message.TYPE!r} message is {len(data)} bytes, over the {max_bytes}-byte line limit"
        )
    return data


def decode(line: bytes, *, max_bytes: int = MAX_LINE_BYTES) -> Message:
    """Parse one protocol line into its message.

    Raises:
        MalformedMessageError: with code ``too_large``, ``bad_request`` or ``unknown_type``.
    """
    if len(line) > max_bytes:
        raise MalformedMessageError(
            ErrorCode.TOO_LARGE.value, f"line of {len(line)}+ bytes exceeds {max_bytes} bytes"
        )
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(ErrorCode.BAD_REQUEST.value, f"not UTF-8: {exc}") from exc
    try:
        body = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise MalformedMessageError(ErrorCode.BAD_REQUEST.value, f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise MalformedMessageError(
            ErrorCode.BAD_REQUEST.value, f"expected a JSON object, got {type(body).__name__}"
        )
    kind = body.pop("type", None)
    if not isinstance(kind, str):
        raise MalformedMessageError(ErrorCode.BAD_REQUEST.value, "missing string field 'type'")
    cls = Message._registry.get(kind)
    if cls is None:
        known = ", ".join(t.TYPE for t in REQUEST_TYPES)
        raise MalformedMessageError(
            ErrorCode.UNKNOWN_TYPE.value, f"unknown message type {kind!r}; requests are: {known}"
        )
    return _build(cls, kind, body)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _build(cls: type[Message], kind: str, body: dict[str, Any]) -> Message:
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise MalformedMessageError(
            ErrorCode.BAD_REQUEST.value, f"unknown field(s) {', '.join(unknown)} in {kind!r}"
        )
    values: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in body:
            no_default = (
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            )
            if no_default:
                raise MalformedMessageError(
                    ErrorCode.BAD_REQUEST.value, f"missing field {name!r} in {kind!r}"
                )
            continue
        ok, value = _coerce(body[name], hints[name])
        if not ok:
            raise MalformedMessageError(
                ErrorCode.BAD_REQUEST.value,
                f"field {name!r} of {kind!r} must be {_describe(hints[name])}, "
                f"got {body[name]!r:.80}",
            )
        values[name] = value
    return cls(**values)


_HINTS: dict[type[Message], dict[str, Any]] = {}


def _hints(cls: type[Message]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _coerce(value: Any, hint: Any) -> tuple[bool, Any]:
    """Return ``(ok, value converted to hint)``; supports the types messages use."""
    origin = get_origin(hint)
    if hint is Any:
        return True, value
    if hint is type(None):
        return value is None, value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if hint is str:
        return isinstance(value, str), value
    if origin is Literal:
        return value in get_args(hint) and isinstance(value, str), value
    if origin in (Union, types.UnionType):
        for arg in get_args(hint):
            ok, converted = _coerce(value, arg)
            if ok:
                return True, converted
        return False, value
    if origin is tuple:
        if not isinstance(value, list):
            return False, value
        item_hint = get_args(hint)[0]
        items = []
        for item in value:
            ok, converted = _coerce(item, item_hint)
            if not ok:
                return False, value
            items.append(converted)
        return True, tuple(items)
    if origin is dict:
        return isinstance(value, dict), value
    raise TypeError(f"unsupported message field type {hint!r}")  # a bug in this module


def _describe(hint: Any) -> str:
    origin = get_origin(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(hint))
    if origin in (Union, types.UnionType):
        return " or ".join(_describe(a) for a in get_args(hint))
    if origin is tuple:
        return f"a list of {_describe(get_args(hint)[0])}"
    if origin is dict:
        return "an object"
    if hint is type(None):
        return "null"
    return {int: "an integer", float: "a number", str: "a string", bool: "a boolean"}.get(
        hint, str(hint)
    )


# --- errors across the wire ------------------------------------------------------------------

_ERROR_CLASSES: dict[str, type[PowerDirectorError]] = {
    ErrorCode.VERSION.value: ProtocolVersionError,
    ErrorCode.UNAUTHENTICATED.value: AuthenticationError,
    ErrorCode.AUTH_FAILED.value: AuthenticationError,
    ErrorCode.WRONG_STATE.value: SessionStateError,
    ErrorCode.BUSY.value: DirectorBusyError,
}


def error_from_reply(err: Err) -> PowerDirectorError:
    """Return the exception a client should raise for ``err``.

    ``version`` -> ProtocolVersionError, ``unauthenticated``/``auth_failed`` ->
    AuthenticationError, ``wrong_state`` -> SessionStateError, ``busy`` -> DirectorBusyError,
    any other code -> RemoteError (which carries ``.code``). Messages start with the code.
    """
    cls = _ERROR_CLASSES.get(err.code)
    if cls is None:
        return RemoteError(err.code, err.message)
    return cls(f"director refused the request [{err.code}]: {err.message}")


# --- streams ---------------------------------------------------------------------------------


class MessageStream:
    """Send and receive protocol lines (and framed files) over a connected socket.

    Used by both peers. Not thread-safe: one request/response at a time.

    Args:
        sock: a connected TCP socket; the stream owns it (see :meth:`close`).
        max_line_bytes: longest accepted incoming line, newline included.
    """

    def __init__(self, sock: socket.socket, *, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.sock = sock
        self.max_line_bytes = max_line_bytes
        self._reader = sock.makefile("rb", buffering=FILE_CHUNK_BYTES)

    def send(self, message: Message) -> None:
        """Send one message."""
        self.sock.sendall(encode(message))

    def receive_line(self) -> bytes:
        """Return the next raw line (newline kept).

        Raises:
            ConnectionClosedError: the peer closed the connection (or closed it mid-line).
            MalformedMessageError: the line is over the limit (code ``too_large``); the rest of
                the line is not consumed, so the connection must be closed.
        """
        line = self._reader.readline(self.max_line_bytes + 1)
        if not line:
            raise ConnectionClosedError("connection closed by peer")
        if len(line) > self.max_line_bytes:
            raise MalformedMessageError(
                ErrorCode.TOO_LARGE.value,
                f"line exceeds {self.max_line_bytes} bytes; refused",
            )
        if not line.endswith(b"\n"):
            raise ConnectionClosedError("connection closed by peer in the middle of a line")
        return line

    def receive(self) -> Message:
        """Return the next message (see :meth:`receive_line` and :func:`decode` for errors)."""
        return decode(self.receive_line(), max_bytes=self.max_line_bytes)

    def expect(self, kind: type[M]) -> M:
        """Receive a message that must be a ``kind``.

        Raises:
            PowerDirectorError: an :class:`Err` reply, as :func:`error_from_reply` maps it.
            ProtocolError: any other unexpected message.
        """
        message = self.receive()
        if isinstance(message, kind):
            return message
        if isinstance(message, Err):
            raise error_from_reply(message)
        raise ProtocolError(f"expected {kind.TYPE!r}, got {message.TYPE!r}")

    def request(self, message: Message, reply: type[M]) -> M:
        """Send ``message`` and return its ``reply`` (see :meth:`expect`)."""
        self.send(message)
        return self.expect(reply)

    def send_file(self, path: str, source: BinaryIO) -> FileHeader:
        """Send ``source`` (a regular file opened ``rb``) as a :class:`FileHeader` + bytes.

        The file is hashed first, then sent; it must not change in between.
        """
        digest = hashlib.sha256()
        size = 0
        source.seek(0)
        while chunk := source.read(FILE_CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
        header = FileHeader(path, size, digest.hexdigest())
        self.send(header)
        if size:
            self.sock.sendfile(source, 0, size)
        return header

    def receive_file(self, header: FileHeader, dest: BinaryIO) -> None:
        """Copy exactly ``header.size`` bytes into ``dest`` and check their SHA-256.

        Raises:
            ConnectionClosedError: the connection ended before ``header.size`` bytes.
            ProtocolError: the bytes do not match ``header.sha256``.
        """
        digest = hashlib.sha256()
        left = header.size
        while left > 0:
            chunk = self._reader.read(min(left, FILE_CHUNK_BYTES))
            if not chunk:
                raise ConnectionClosedError(
                    f"connection closed after {header.size - left} of {header.size} bytes "
                    f"of {header.path!r}"
                )
            digest.update(chunk)
            dest.write(chunk)
            left -= len(chunk)
        if digest.hexdigest() != header.sha256:
            raise ProtocolError(
                f"{header.path!r}: SHA-256 of the received bytes {digest.hexdigest()} "
                f"differs from the announced {header.sha256}"
            )

    def close(self) -> None:
        """Close the reader and the socket."""
        try:
            self._reader.close()
        finally:
            self.sock.close()


def enable_keepalive(sock: socket.socket) -> None:
    """Turn on TCP keepalive (idle 2 s, interval 2 s, 10 probes where the OS allows).

    Both peers use it: each notices a vanished other within ~22 s, even while a long workload
    leaves the connection silent.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", 2), ("TCP_KEEPINTVL", 2), ("TCP_KEEPCNT", 10)):
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
