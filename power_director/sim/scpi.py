"""SCPI / IEEE 488.2 program-message syntax as the simulated meters parse and format it.

Covers what the Yokogawa WT dialects need: program messages split into units on ``;``,
headers of ``:``-separated mnemonics in short or long form (case-insensitive, the short form
being the capitals of the manual's spelling, e.g. ``NUMeric`` -> ``NUM`` | ``NUMERIC``),
numeric suffixes (``ITEM12``), relative headers after ``;``, NRf numbers with unit suffixes
(``500MA``, ``250MS``), booleans, character data, and NR3 output formatting.

Errors are raised as :class:`ScpiError` carrying the instrument's error-queue code.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = [
    "Mnemonic",
    "ProgramUnit",
    "ScpiError",
    "format_nr3",
    "parse_bool",
    "parse_choice",
    "parse_int",
    "parse_quantity",
    "parse_unit",
    "short_form",
    "split_units",
]

_TOKEN = re.compile(r"^(\*?[A-Z][A-Z0-9]*)$")
_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:E[+-]?\d+)?)\s*([A-Z]*)$")
_MULTIPLIERS = {"": 1.0, "M": 1e-3, "U": 1e-6, "N": 1e-9, "K": 1e3}


class ScpiError(Exception):
    """A command failed; ``code`` is the error number the meter queues (e.g. 113)."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"{code} {detail}".strip())


@dataclass(frozen=True)
class Mnemonic:
    """One header node or character-data word, from the manual's mixed-case spelling.

    ``Mnemonic.parse("NUMeric")`` accepts ``NUM`` and ``NUMERIC``; ``"ITEM<n>"`` accepts a
    numeric suffix (default 1); ``"[NORMal]"`` marks the node optional.
    """

    short: str
    long: str
    has_suffix: bool = False
    optional: bool = False

    @classmethod
    def parse(cls, spelling: str) -> Mnemonic:
        optional = spelling.startswith("[") and spelling.endswith("]")
        text = spelling[1:-1] if optional else spelling
        has_suffix = text.endswith("<n>")
        if has_suffix:
            text = text[:-3]
        return cls(
            short=short_form(text), long=text.upper(), has_suffix=has_suffix, optional=optional
        )

    def match(self, token: str) -> int | None:
        """Return the numeric suffix (1 when absent) if ``token`` names this node, else None.

        Nodes without a suffix return 0 on a match.
        """
        name = token
        suffix = 0
        if self.has_suffix:
            digits = re.search(r"\d+$", token)
            if digits is not None:
                name = token[: digits.start()]
                suffix = int(digits.group())
            else:
                suffix = 1
        if name == self.short or name == self.long:
            return suffix
        return None

    def render(self, *, verbose: bool, suffix: int = 0) -> str:
        """Spell the node for a response header: long form if ``verbose`` else short form."""
        word = self.long if verbose else self.short
        return f"{word}{suffix}" if self.has_suffix else word


@dataclass(frozen=True)
class ProgramUnit:
    """One parsed program message unit: absolute header tokens, query flag, parameters."""

    tokens: tuple[str, ...]
    query: bool
    params: tuple[str, ...]

    @property
    def common(self) -> bool:
        return bool(self.tokens) and self.tokens[0].startswith("*")


def short_form(spelling: str) -> str:
    """Return the short form of a manual spelling: ``"LAMBda"`` -> ``"LAMB"``."""
    return "".join(c for c in spelling if not c.islower())


def split_units(line: str) -> list[str]:
    """Split a program message on ``;`` outside quoted strings; drop empty units."""
    units: list[str] = []
    current: list[str] = []
    quote = ""
    for char in line:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
            current.append(char)
        elif char == ";":
            units.append("".join(current))
            current = []
        else:
            current.append(char)
    units.append("".join(current))
    return [u.strip() for u in units if u.strip()]


def parse_unit(text: str, path: tuple[str, ...]) -> tuple[ProgramUnit, tuple[str, ...]]:
    """Parse one unit; ``path`` is the parent node of the previous unit (for relative headers).

    Returns the unit and the path for the next unit. Raises ScpiError(102) on bad syntax.
    """
    parts = text.split(None, 1)
    header = parts[0].upper() if parts else ""
    rest = parts[1] if len(parts) > 1 else ""
    query = header.endswith("?")
    if query:
        header = header[:-1]
    if not header:
        raise ScpiError(102, "empty header")
    if header.startswith("*"):
        absolute = True
        tokens = [header]
    else:
        absolute = header.startswith(":")
        tokens = header.lstrip(":").split(":")
    if not all(_TOKEN.match(t) for t in tokens):
        raise ScpiError(102, f"bad header {header!r}")
    full = tuple(tokens) if absolute else path + tuple(tokens)
    next_path = path if header.startswith("*") else full[:-1]
    params = _split_params(rest.strip())
    return ProgramUnit(tokens=full, query=query, params=params), next_path


def _split_params(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(p.strip() for p in text.split(","))


def parse_quantity(text: str, unit: str) -> float:
    """Parse an NRf number with an optional multiplier+unit suffix, e.g. ``500MA`` -> 0.5."""
    match = _NUMBER.match(text.strip().upper())
    if match is None:
        raise ScpiError(120, f"not a number: {text!r}")
    suffix = match.group(2)
    if suffix and unit and suffix.endswith(unit):
        suffix = suffix[: -len(unit)]
    if suffix not in _MULTIPLIERS:
        raise ScpiError(131, f"invalid suffix in {text!r}")
    value = float(match.group(1)) * _MULTIPLIERS[suffix]
    if not math.isfinite(value):
        raise ScpiError(120, f"not a finite number: {text!r}")
    return value


def parse_int(text: str) -> int:
    """Parse an NR1 integer (``NR2`` values are rounded as 488.2 instruments do)."""
    value = parse_quantity(text, "")
    return round(value)


def parse_bool(text: str) -> bool:
    """Parse ``ON``/``OFF``/``1``/``0``."""
    word = text.strip().upper()
    if word in ("ON", "1"):
        return True
    if word in ("OFF", "0"):
        return False
    raise ScpiError(141, f"invalid boolean {text!r}")


def parse_choice(text: str, choices: tuple[str, ...]) -> str:
    """Match character data against manual spellings; return the matching spelling."""
    word = text.strip().upper()
    for spelling in choices:
        if Mnemonic.parse(spelling).match(word) is not None:
            return spelling
    raise ScpiError(141, f"invalid character data {text!r}")


def format_nr3(value: float, digits: int = 5) -> str:
    """Format like the WT meters' ASCII output: engineering exponent, ``digits`` significant.

    ``format_nr3(230.123)`` -> ``"230.12E+00"``; ``format_nr3(0.2175)`` -> ``"217.50E-03"``.
    Non-finite values are the caller's business (each dialect has its own markers).
    """
    if value == 0.0:
        return f"{0.0:.{digits - 1}f}E+00"
    exponent = math.floor(math.log10(abs(value)) / 3) * 3
    for _ in range(2):
        mantissa = value / 10.0**exponent
        decimals = max(digits - len(str(int(abs(mantissa)))), 0)
        text = f"{mantissa:.{decimals}f}"
        if abs(float(text)) < 1000.0:
            break
        exponent += 3
    return f"{text}E{exponent:+03d}"
