"""Declarative commands: each instrument command string is written once per driver.

A :class:`Command` pairs a set template and a query template with a one-line description and
the manual section it comes from. Templates use :meth:`str.format` fields: ``{value}`` for the
argument and named fields such as ``{n}`` (item number) or ``{element}``::

    RATE = Command(":RATE {value}", ":RATE?", "Data update interval.", "IM WT310E-17EN 6.9")
    meter.send(RATE, "250MS")      # writes ":RATE 250MS"
    meter.ask(RATE)                # writes ":RATE?" and returns the reply

:func:`control` turns a command into a typed property (pymeasure's ``Instrument.control``), for
settings that are read and written as a whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, overload

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Command:
    """One instrument command.

    Attributes:
        set_cmd: the set form, a format template (None: query only).
        get_cmd: the query form, a format template (None: set only).
        doc: what it does, one line.
        manual: where it is documented (manual and section).
    """

    set_cmd: str | None = None
    get_cmd: str | None = None
    doc: str = ""
    manual: str = ""

    def format_set(self, value: Any = None, **fields: Any) -> str:
        """Return the set form with ``value`` and ``fields`` filled in."""
        if self.set_cmd is None:
            raise TypeError(f"{self.get_cmd!r} is query-only")
        return self.set_cmd.format(value=value, **fields)

    def format_get(self, **fields: Any) -> str:
        """Return the query form with ``fields`` filled in."""
        if self.get_cmd is None:
            raise TypeError(f"{self.set_cmd!r} cannot be queried")
        return self.get_cmd.format(**fields)

    @property
    def mnemonics(self) -> tuple[str, ...]:
        """Return the command headers (templates up to the first space), for listings."""
        out = []
        for template in (self.set_cmd, self.get_cmd):
            if template is not None:
                header = template.split(" ", 1)[0]
                if header not in out:
                    out.append(header)
        return tuple(out)


class _Commanded(Protocol):
    def send(self, command: Command, value: Any = None, **fields: Any) -> None: ...

    def ask(self, command: Command, **fields: Any) -> str: ...


class Control(Generic[T]):
    """A typed property backed by a :class:`Command` (see :func:`control`)."""

    def __init__(
        self,
        command: Command,
        cast: Callable[[str], T],
        fmt: Callable[[T], str],
        values: Sequence[T] | None,
    ) -> None:
        self.command = command
        self.cast = cast
        self.fmt = fmt
        self.values = tuple(values) if values is not None else None
        self.__doc__ = command.doc
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> Control[T]: ...

    @overload
    def __get__(self, obj: _Commanded, owner: type) -> T: ...

    def __get__(self, obj: _Commanded | None, owner: type) -> Control[T] | T:
        if obj is None:
            return self
        return self.cast(obj.ask(self.command))

    def __set__(self, obj: _Commanded, value: T) -> None:
        if self.values is not None and value not in self.values:
            allowed = ", ".join(str(v) for v in self.values)
            raise ValueError(f"{self.name} = {value!r} is not one of {allowed}")
        obj.send(self.command, self.fmt(value))


def control(
    command: Command,
    cast: Callable[[str], T],
    fmt: Callable[[T], str] = str,
    values: Sequence[T] | None = None,
) -> Control[T]:
    """Return a property that queries ``command`` on get and sends it on set.

    Args:
        command: the declared command (needs both forms).
        cast: converts the reply text to the property's type.
        fmt: converts a value to the text sent.
        values: allowed values; others raise ValueError before anything is sent.
    """
    return Control(command, cast, fmt, values)


def on_off(reply: str) -> bool:
    """Parse an ON/OFF (1/0) reply."""
    return reply.strip().upper() in {"1", "ON"}


def fmt_on_off(value: bool) -> str:
    """Format a bool as ON/OFF."""
    return "ON" if value else "OFF"
