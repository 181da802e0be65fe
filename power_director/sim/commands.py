"""Command tables and the interpreter that runs program messages against them.

A dialect declares each command once as a :class:`Command` (manual spelling of the header,
a set handler and/or a query handler). The :class:`Interpreter` splits a line into units,
resolves headers (short/long forms, optional nodes, suffixes, relative paths), runs the
handlers, adds response headers when ``:COMMunicate:HEADer ON``, and turns every
:class:`~power_director.sim.scpi.ScpiError` into silence plus an error-queue entry, as the
meters do. Like IEEE 488.2 instruments it abandons the rest of a message after an error.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from power_director.sim.error_queue import ErrorQueue
from power_director.sim.scpi import Mnemonic, ProgramUnit, ScpiError, parse_unit, split_units

__all__ = [
    "Args",
    "Command",
    "CommandTable",
    "Interpreter",
    "QueryHandler",
    "ResponseFormat",
    "SetHandler",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Args:
    """What a handler receives: parameters, header suffixes, and the engine time of the line."""

    params: tuple[str, ...]
    suffixes: tuple[int, ...]
    now_s: float

    def exactly(self, count: int) -> tuple[str, ...]:
        """Return the parameters, raising 109 (missing) or 108 (too many) unless ``count``."""
        if len(self.params) < count:
            raise ScpiError(109)
        if len(self.params) > count:
            raise ScpiError(108)
        return self.params

    def suffix(self, lowest: int, highest: int) -> int:
        """Return the (last) header suffix, raising 114 when outside ``lowest..highest``."""
        value = self.suffixes[-1] if self.suffixes else 1
        if not lowest <= value <= highest:
            raise ScpiError(114)
        return value


SetHandler = Callable[[Args], None]
QueryHandler = Callable[[Args], str]


@dataclass(frozen=True)
class Command:
    """One command as the manual spells it, e.g. ``":NUMeric[:NORMal]:ITEM<n>"``.

    ``bare`` responses never carry a header (common commands, numeric data).
    """

    spelling: str
    set: SetHandler | None = None
    query: QueryHandler | None = None
    bare: bool = False
    nodes: tuple[Mnemonic, ...] = field(init=False)

    def __post_init__(self) -> None:
        text = self.spelling
        words = [text] if text.startswith("*") else text.replace("[:", ":[").lstrip(":").split(":")
        object.__setattr__(self, "nodes", tuple(Mnemonic.parse(w) for w in words))

    def variants(self) -> Iterable[tuple[Mnemonic, ...]]:
        """Every node sequence the header may be written as (optional nodes in or out)."""
        optional = [i for i, n in enumerate(self.nodes) if n.optional]
        for keep in itertools.product((True, False), repeat=len(optional)):
            dropped = {i for i, k in zip(optional, keep, strict=True) if not k}
            yield tuple(n for i, n in enumerate(self.nodes) if i not in dropped)


@dataclass(frozen=True)
class _Match:
    command: Command
    nodes: tuple[Mnemonic, ...]
    suffixes: tuple[int, ...]


class CommandTable:
    """Resolve header tokens to commands; results are cached per spelling."""

    def __init__(self, commands: Sequence[Command]) -> None:
        self._variants = [(v, c) for c in commands for v in c.variants()]
        self._cache: dict[tuple[str, ...], _Match | None] = {}

    def resolve(self, tokens: tuple[str, ...]) -> _Match | None:
        if tokens in self._cache:
            return self._cache[tokens]
        found: _Match | None = None
        for nodes, command in self._variants:
            if len(nodes) != len(tokens):
                continue
            suffixes = [n.match(t) for n, t in zip(nodes, tokens, strict=True)]
            if all(s is not None for s in suffixes):
                kept = tuple(
                    s
                    for s, n in zip(suffixes, nodes, strict=True)
                    if n.has_suffix and s is not None
                )
                found = _Match(command, nodes, kept)
                break
        self._cache[tokens] = found
        return found


@dataclass
class ResponseFormat:
    """``:COMMunicate:HEADer`` and ``:COMMunicate:VERBose`` state (mutable meter settings)."""

    header: bool = True
    verbose: bool = False


class Interpreter:
    """Run program messages against a command table.

    Args:
        table: the dialect's commands.
        errors: the meter's error queue.
        response: header/verbose switches shared with the dialect's ``:COMMunicate`` commands.
    """

    def __init__(self, table: CommandTable, errors: ErrorQueue, response: ResponseFormat) -> None:
        self._table = table
        self._errors = errors
        self._response = response

    def execute(self, line: str, now_s: float) -> str | None:
        """Run one line; return the response text (units joined by ``;``) or None."""
        replies: list[str] = []
        path: tuple[str, ...] = ()
        for text in split_units(line):
            try:
                unit, path = parse_unit(text, path)
                reply = self._run(unit, now_s)
            except ScpiError as error:
                logger.debug("sim.error code=%d unit=%r detail=%s", error.code, text, error.detail)
                self._errors.push(error.code)
                break
            if reply is not None:
                replies.append(reply)
        return ";".join(replies) if replies else None

    def _run(self, unit: ProgramUnit, now_s: float) -> str | None:
        match = self._table.resolve(unit.tokens)
        if match is None:
            raise ScpiError(113, ":".join(unit.tokens))
        args = Args(params=unit.params, suffixes=match.suffixes, now_s=now_s)
        command = match.command
        if not unit.query:
            if command.set is None:
                raise ScpiError(113, "query-only command sent without '?'")
            command.set(args)
            return None
        if command.query is None:
            raise ScpiError(113, "command has no query form")
        data = command.query(args)
        if command.bare or not self._response.header:
            return data
        return f"{self._header(match)} {data}"

    def _header(self, match: _Match) -> str:
        suffixes = iter(match.suffixes)
        words = [
            n.render(verbose=self._response.verbose, suffix=next(suffixes) if n.has_suffix else 0)
            for n in match.nodes
        ]
        return ":" + ":".join(words)
