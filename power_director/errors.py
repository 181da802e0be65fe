"""Exceptions raised by :mod:`power_director`.

Tree (extend here; one class per failure a caller may want to handle)::

    PowerDirectorError
    ├── TransportError            a byte transport failed (carries the port / resource name)
    │   └── TransportTimeoutError no reply within the timeout
    ├── MeterError                a meter misbehaved or is unsupported
    │   ├── MeterProtocolError    garbled or unexpected reply (carries sent and received bytes)
    │   └── MeterUnavailableError a meter or software source is absent on this machine
    ├── MeterSpecError            a meter spec string is malformed or names an unknown model
    ├── SimulatorError            the simulated meter could not start or was misused
    ├── RangeError                no range in the table fits the requested value
    ├── ConfigError               a director config file, flag or secret source is invalid
    ├── FileAccessError           a fetched path is outside the session or absent (carries code)
    ├── SessionStateError         a request is not allowed in the session's current state
    │   └── DirectorBusyError     another client holds the director's one active session
    └── ProtocolError             a director protocol message is malformed or unexpected
        ├── ProtocolVersionError  peers speak incompatible protocol versions
        ├── MalformedMessageError a line is not a valid message (carries the error code)
        ├── AuthenticationError   the challenge-response failed, or a request came before it
        ├── ConnectionClosedError the peer closed the connection
        └── RemoteError           the director refused a request (carries the error code)
"""

from __future__ import annotations


class PowerDirectorError(Exception):
    """Base class of every error raised by :mod:`power_director`."""


class TransportError(PowerDirectorError):
    """A byte transport (serial, VISA, TCP) failed.

    Args:
        resource: the port, resource string or address at fault.
        reason: what went wrong.
    """

    def __init__(self, resource: str, reason: str) -> None:
        self.resource = resource
        self.reason = reason
        super().__init__(f"{resource}: {reason}")


class TransportTimeoutError(TransportError):
    """No (complete) reply arrived within the timeout."""


class MeterError(PowerDirectorError):
    """A meter misbehaved or is unsupported."""


class MeterProtocolError(MeterError):
    """A meter reply could not be understood.

    Args:
        resource: the port or resource the meter is on.
        sent: the command that was sent.
        received: the raw reply.
        reason: what is wrong with it.
    """

    def __init__(self, resource: str, sent: bytes, received: bytes, reason: str) -> None:
        self.resource = resource
        self.sent = sent
        self.received = received
        super().__init__(f"{resource}: {reason} (sent {sent!r}, received {received!r})")


class MeterUnavailableError(MeterError):
    """A meter or software power source is not present on this machine."""


class MeterSpecError(PowerDirectorError):
    """A meter spec string is malformed or names an unknown model or interface."""


class SimulatorError(PowerDirectorError):
    """The simulated meter could not start or was misused."""


class RangeError(PowerDirectorError):
    """No range in the meter's table fits the requested value."""


class ConfigError(PowerDirectorError):
    """A director config file, command-line flag or secret source is invalid.

    The message names the file (or flag, or environment variable) and the key at fault.
    """


class FileAccessError(PowerDirectorError):
    """A fetch named a file that is absent or lies outside the session folder.

    Args:
        code: ``"not_found"`` or ``"forbidden"`` (the protocol error code).
        reason: the explanation sent to the client.
    """

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        super().__init__(reason)


class SessionStateError(PowerDirectorError):
    """A request is not allowed in the session's current state."""


class DirectorBusyError(SessionStateError):
    """Another client holds the director's one active session."""


class ProtocolError(PowerDirectorError):
    """A director protocol message is malformed or unexpected."""


class ProtocolVersionError(ProtocolError):
    """Client and director speak incompatible protocol versions."""


class MalformedMessageError(ProtocolError):
    """A protocol line is not a valid message.

    Args:
        code: the protocol error code to answer with (``bad_request``, ``too_large``,
            ``unknown_type``).
        reason: what is wrong with the line.
    """

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        super().__init__(reason)


class AuthenticationError(ProtocolError):
    """The challenge-response failed (wrong secret, replayed nonce), or a request preceded it."""


class ConnectionClosedError(ProtocolError):
    """The peer closed the connection (mid-message or while a reply was awaited)."""


class RemoteError(ProtocolError):
    """The director refused a request with ``Err(code, message)``.

    Args:
        code: the protocol error code (see ``docs/protocol.md``).
        message: the director's explanation.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"director refused the request [{code}]: {message}")
