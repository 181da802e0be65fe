"""The :class:`Transport` base: framing, terminators, timeouts and the DEBUG byte log.

Drivers call the public :meth:`Transport.write`, :meth:`Transport.query` and
:meth:`Transport.read_line`; they never see a terminator. Subclasses implement only the
private byte hooks (:meth:`Transport._write_bytes`, :meth:`Transport._read_bytes`, and
optionally :meth:`Transport._read_frame` when the library frames replies itself, as pyvisa does),
and translate their library's exceptions into :class:`~power_director.errors.TransportError`
in exactly that one place.

Every byte written or read is logged at DEBUG as ``"<resource> WRITE b'...'"`` /
``"<resource> READ b'...'"`` on this module's logger family.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from types import TracebackType

from power_director.errors import TransportError, TransportTimeoutError

log = logging.getLogger(__name__)

#: Terminator names accepted in spec strings (``?term=CRLF``).
TERMINATORS: dict[str, str] = {"LF": "\n", "CR": "\r", "CRLF": "\r\n", "NONE": ""}

_MAX_LINE_BYTES = 1 << 20


class Transport(ABC):
    """A line-oriented byte channel to one instrument.

    Args:
        resource: the port, resource string or address, used in logs and error messages.
        write_termination: appended to every write.
        read_termination: ends every reply; stripped (with any trailing CR) from replies.
        timeout_s: how long a read may wait for a complete reply, s.
        encoding: text encoding of commands and replies.
    """

    def __init__(
        self,
        resource: str,
        *,
        write_termination: str = "\n",
        read_termination: str = "\n",
        timeout_s: float = 2.0,
        encoding: str = "ascii",
    ) -> None:
        self.resource = resource
        self.write_termination = write_termination
        self.read_termination = read_termination
        self.timeout_s = timeout_s
        self.encoding = encoding
        self._buffer = b""
        self._closed = False

    # Public API. Subclasses must not override these: they own logging and framing.

    def write(self, data: str | bytes) -> None:
        """Send one command, adding the write terminator."""
        raw = data.encode(self.encoding) if isinstance(data, str) else data
        raw += self.write_termination.encode(self.encoding)
        log.debug("%s WRITE %r", self.resource, raw)
        self._write_bytes(raw)

    def read_raw_line(self) -> bytes:
        """Return one reply as raw bytes, without its terminator.

        Raises:
            TransportTimeoutError: no complete reply within ``timeout_s``.
            TransportError: the connection failed.
        """
        frame = self._read_frame()
        log.debug("%s READ %r", self.resource, frame)
        term = self.read_termination.encode(self.encoding)
        if term and frame.endswith(term):
            frame = frame[: -len(term)]
        return frame.rstrip(b"\r\n")

    def read_line(self) -> str:
        """Return one reply as text, without its terminator.

        Undecodable bytes are kept as surrogate escapes, so ``reply.encode(encoding,
        "surrogateescape")`` gives back the exact bytes for error messages.
        """
        return self.read_raw_line().decode(self.encoding, errors="surrogateescape")

    def query(self, command: str | bytes) -> str:
        """Write ``command`` and return the reply line."""
        self.write(command)
        return self.read_line()

    def discard_input(self) -> None:
        """Drop buffered and pending input (e.g. a late reply after a timeout)."""
        if self._buffer:
            log.debug("%s DISCARD %r", self.resource, self._buffer)
        self._buffer = b""
        self._discard_input()

    def close(self) -> None:
        """Close the connection; further calls do nothing."""
        if not self._closed:
            self._closed = True
            log.debug("%s CLOSE", self.resource)
            self._close()

    @property
    def closed(self) -> bool:
        """Return True once :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.resource!r})"

    # Hooks for subclasses.

    @abstractmethod
    def _write_bytes(self, data: bytes) -> None:
        """Send ``data`` completely; raise TransportError on failure."""

    @abstractmethod
    def _read_bytes(self, max_bytes: int, timeout_s: float) -> bytes:
        """Return 1..max_bytes bytes, waiting up to ``timeout_s``; b"" on timeout.

        Raise TransportError when the connection is closed or broken.
        """

    def _discard_input(self) -> None:  # noqa: B027 - optional hook
        """Drop input pending in the OS or library buffers (optional)."""

    def _close(self) -> None:  # noqa: B027 - optional hook
        """Release the underlying connection (optional)."""

    def _read_frame(self) -> bytes:
        """Return bytes up to and including the read terminator.

        The default implementation buffers :meth:`_read_bytes` chunks; bytes after the
        terminator stay buffered for the next call.
        """
        if self._closed:
            raise TransportError(self.resource, "transport is closed")
        term = self.read_termination.encode(self.encoding) or b"\n"
        deadline = time.monotonic() + self.timeout_s
        while True:
            index = self._buffer.find(term)
            if index >= 0:
                end = index + len(term)
                frame, self._buffer = self._buffer[:end], self._buffer[end:]
                return frame
            if len(self._buffer) > _MAX_LINE_BYTES:
                partial, self._buffer = self._buffer, b""
                raise TransportError(self.resource, f"reply longer than {_MAX_LINE_BYTES} bytes")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                partial, self._buffer = self._buffer, b""
                raise TransportTimeoutError(
                    self.resource,
                    f"no complete reply within {self.timeout_s:g} s (got {partial!r})",
                )
            self._buffer += self._read_bytes(4096, remaining)
