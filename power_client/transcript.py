"""The record of every request/reply exchanged with the director (``client.json``'s messages).

Each :class:`Exchange` holds the request's type and fields, the client's wall clock when it was
sent, the reply's type and fields (an ``error`` reply included) and the client's wall clock when
it arrived. An exchange that got no reply (connection closed, timeout) has ``reply_type`` None.
The unsolicited ``server_hello`` is recorded as the reply to a pseudo-request ``connect``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from power_director.protocol import Message, to_jsonable

__all__ = ["CONNECT", "Exchange"]

#: ``request_type`` of the exchange that opened the connection (reply: ``server_hello``).
CONNECT = "connect"


@dataclass(frozen=True)
class Exchange:
    """One request and its reply, stamped on the client's wall clock (ns since the epoch).

    Attributes:
        request_type: the request's ``type`` (or :data:`CONNECT`).
        request: the request's fields.
        sent_wall_ns: client wall clock just before sending.
        reply_type: the reply's ``type``; None when none arrived.
        reply: the reply's fields (empty when none arrived).
        replied_wall_ns: client wall clock just after the reply arrived; None when none did.
    """

    request_type: str
    request: Mapping[str, Any]
    sent_wall_ns: int
    reply_type: str | None
    reply: Mapping[str, Any]
    replied_wall_ns: int | None

    @classmethod
    def of(
        cls,
        request: Message,
        sent_wall_ns: int,
        reply: Message | None,
        replied_wall_ns: int | None,
    ) -> Exchange:
        """Return the exchange of ``request`` and ``reply`` (None: no reply)."""
        return cls(
            request.TYPE,
            to_jsonable(request),
            sent_wall_ns,
            None if reply is None else reply.TYPE,
            {} if reply is None else to_jsonable(reply),
            replied_wall_ns,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the exchange as a JSON object."""
        return {
            "request_type": self.request_type,
            "request": to_jsonable(self.request),
            "sent_wall_ns": self.sent_wall_ns,
            "reply_type": self.reply_type,
            "reply": to_jsonable(self.reply),
            "replied_wall_ns": self.replied_wall_ns,
        }
