"""Protocol-test helpers shipped with the package: replay exact command/reply exchanges.

:func:`expected_protocol` builds a meter on a :class:`ProtocolTransport` that holds the
expected ``(sent, reply)`` pairs. A write that differs from the next expected one fails with a
readable message; so does a read with no reply pending, and, when the block ends, any pair left
unused or reply left unread. Terminators are the transport's business, so pairs never contain
them. Example::

    with expected_protocol(YokogawaWT300, [("*IDN?", "YOKOGAWA,WT310E,C2XX,F1.02")]) as meter:
        assert meter.identify().model == "WT310E"

Use :data:`TIMEOUT` as a reply to make the read time out (a silent meter).
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from power_director.errors import TransportTimeoutError
from power_director.transport.base import Transport

log = logging.getLogger(__name__)

M = TypeVar("M")


class _Silence(enum.Enum):
    TIMEOUT = object()


#: A reply that makes the read raise :class:`~power_director.errors.TransportTimeoutError`.
TIMEOUT: Final = _Silence.TIMEOUT

Reply = str | bytes | _Silence | None
Exchange = tuple[str | bytes | None, Reply]


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("ascii", "surrogateescape") if isinstance(value, str) else value


class ProtocolTransport(Transport):
    """A transport that replays expected exchanges instead of doing I/O.

    Args:
        exchanges: ``(sent, reply)`` pairs in order. ``sent`` is what the driver must write
            next (None: nothing, only a read follows); ``reply`` is what the next read returns
            (None: the command has no reply; :data:`TIMEOUT`: the read times out).
        resource: name used in logs and errors.
    """

    def __init__(self, exchanges: Sequence[Exchange], *, resource: str = "protocol") -> None:
        super().__init__(resource, write_termination="", read_termination="")
        self._pending: deque[Exchange] = deque(exchanges)
        self._total = len(exchanges)
        self._replies: deque[bytes | _Silence] = deque()
        self._history: list[bytes] = []

    def _position(self) -> str:
        return f"exchange {self._total - len(self._pending)} of {self._total}"

    def _write_bytes(self, data: bytes) -> None:
        if not self._pending:
            raise AssertionError(f"Unexpected write {data!r}: all {self._total} exchanges used")
        sent, reply = self._pending[0]
        if sent is None:
            raise AssertionError(
                f"Unexpected write {data!r}: expected a read of {reply!r} ({self._position()})"
            )
        expected = _as_bytes(sent)
        if data != expected:
            raise AssertionError(
                f"Written bytes {data!r} do not match expected {expected!r} "
                f"(exchange {self._total - len(self._pending) + 1} of {self._total}; "
                f"previous writes: {self._history[-3:]!r})"
            )
        self._pending.popleft()
        self._history.append(data)
        if reply is not None:
            self._replies.append(reply if isinstance(reply, _Silence) else _as_bytes(reply))

    def _read_frame(self) -> bytes:
        if not self._replies and self._pending and self._pending[0][0] is None:
            reply = self._pending.popleft()[1]
            if reply is not None:
                self._replies.append(reply if isinstance(reply, _Silence) else _as_bytes(reply))
        if not self._replies:
            last = self._history[-1] if self._history else None
            raise AssertionError(f"Read requested but no reply is expected (last write {last!r})")
        reply = self._replies.popleft()
        if isinstance(reply, _Silence):
            raise TransportTimeoutError(self.resource, "no reply (TIMEOUT in expected protocol)")
        return reply

    def _read_bytes(self, max_bytes: int, timeout_s: float) -> bytes:
        raise AssertionError("ProtocolTransport frames replies itself")  # pragma: no cover

    def assert_done(self) -> None:
        """Fail if expected exchanges remain unused or replies unread."""
        if self._pending:
            raise AssertionError(
                f"Unprocessed protocol definitions remain: {list(self._pending)!r}"
            )
        if self._replies:
            raise AssertionError(f"Replies were never read: {list(self._replies)!r}")


@contextmanager
def expected_protocol(
    meter_factory: Callable[..., M], exchanges: Sequence[Exchange], **kwargs: Any
) -> Iterator[M]:
    """Yield ``meter_factory(transport, **kwargs)`` on a :class:`ProtocolTransport`.

    On a clean exit, every exchange must have been used and every reply read.
    """
    transport = ProtocolTransport(exchanges)
    meter = meter_factory(transport, **kwargs)
    yield meter
    transport.assert_done()
