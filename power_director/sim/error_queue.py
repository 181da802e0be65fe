"""The meter's error queue and standard event status register (IEEE 488.2 style).

Codes and messages follow the Yokogawa WT communication manuals' "error messages" appendix,
which uses the IEEE 488.2 numbers without the SCPI minus sign (``113,"Undefined header"``).
The queue capacity (8) and the overflow entry (350) are assumptions, not checked on a meter.
"""

from __future__ import annotations

import collections

__all__ = ["ERROR_MESSAGES", "ErrorQueue"]

ERROR_MESSAGES: dict[int, str] = {
    0: "No error",
    102: "Syntax error",
    103: "Invalid separator",
    104: "Data type error",
    108: "Parameter not allowed",
    109: "Missing Parameter",
    113: "Undefined header",
    114: "Header suffix out of range",
    120: "Numeric data error",
    131: "Invalid suffix",
    141: "Invalid character data",
    221: "Setting conflict",
    222: "Data out of range",
    224: "Illegal parameter value",
    350: "Queue overflow",
    410: "Query INTERRUPTED",
}

_ESR_QYE = 0x04
_ESR_DDE = 0x08
_ESR_EXE = 0x10
_ESR_CME = 0x20


class ErrorQueue:
    """FIFO of error codes plus the event status register bits they set.

    Args:
        capacity: entries kept; when full the last entry becomes 350 "Queue overflow".
        upper_case_messages: the WT210 spells messages in capitals (``0,"NO ERROR"``).
    """

    def __init__(self, capacity: int = 8, *, upper_case_messages: bool = False) -> None:
        self._capacity = capacity
        self._upper = upper_case_messages
        self._codes: collections.deque[int] = collections.deque()
        self.event_status = 0

    def push(self, code: int) -> None:
        """Queue ``code`` and set the matching ESR bit (CME, EXE, DDE or QYE)."""
        if code < 200:
            self.event_status |= _ESR_CME
        elif code < 300:
            self.event_status |= _ESR_EXE
        elif code < 400:
            self.event_status |= _ESR_DDE
        else:
            self.event_status |= _ESR_QYE
        if len(self._codes) >= self._capacity:
            self._codes[-1] = 350
            return
        self._codes.append(code)

    def pop(self) -> int:
        """Remove and return the oldest code; 0 when empty."""
        return self._codes.popleft() if self._codes else 0

    def message(self, code: int) -> str:
        """Return the message text for ``code`` in this meter's spelling."""
        text = ERROR_MESSAGES.get(code, "Unknown error")
        return text.upper() if self._upper else text

    def clear(self) -> None:
        """``*CLS``: empty the queue and the event status register."""
        self._codes.clear()
        self.event_status = 0

    def read_event_status(self) -> int:
        """``*ESR?``: return and clear the event status register."""
        value, self.event_status = self.event_status, 0
        return value

    def __len__(self) -> int:
        return len(self._codes)
