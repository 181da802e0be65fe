"""Parsing of numeric replies: numbers, and the markers meters send instead of numbers.

A field is either a finite number or a *flag*: :data:`~power_director.samples.FLAG_OVER_RANGE`
(``INF``, ``9.9E+37``, ``-OF-``, ``OL``, ...) or :data:`~power_director.samples.FLAG_NO_DATA`
(``NAN``, ``9.91E+37``, ``----``, ...). Anything else raises :class:`GarbledFieldError`, and the
driver turns the whole reply into an invalid, ``garbled`` reading. No marker ever becomes a number.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping

from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE

log = logging.getLogger(__name__)

# NR1/NR2/NR3 only: float() would also accept "1_0", "nan", "infinity".
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")

#: Text markers (upper case, surrounding blanks removed) and what they mean.
TEXT_MARKERS: Mapping[str, str] = {
    "NAN": FLAG_NO_DATA,
    "+NAN": FLAG_NO_DATA,
    "-NAN": FLAG_NO_DATA,
    "INF": FLAG_OVER_RANGE,
    "+INF": FLAG_OVER_RANGE,
    "-INF": FLAG_OVER_RANGE,
    "-OF-": FLAG_OVER_RANGE,
    "OF": FLAG_OVER_RANGE,
    "-OL-": FLAG_OVER_RANGE,
    "OL": FLAG_OVER_RANGE,
    "O.L": FLAG_OVER_RANGE,
    "OVER": FLAG_OVER_RANGE,
    "----": FLAG_NO_DATA,
    "-----": FLAG_NO_DATA,
}

#: IEEE 488.2 / SCPI numeric sentinels: 9.91E+37 is "not a number", 9.9E+37 is +infinity.
SCPI_NAN = 9.91e37
SCPI_INF = 9.9e37


class GarbledFieldError(ValueError):
    """A reply field is neither a number nor a known marker."""


def parse_field(
    text: str, *, sentinels: Mapping[float, str] | None = None
) -> tuple[float, str | None]:
    """Return ``(value, flag)`` for one reply field; ``value`` is NaN whenever ``flag`` is set.

    Args:
        text: one comma-separated field of a numeric reply.
        sentinels: model-specific numeric codes (exact values, sign ignored) and their flags,
            checked before the generic SCPI ones.

    Raises:
        GarbledFieldError: the field is neither a number nor a marker.
    """
    token = text.strip().upper()
    marker = TEXT_MARKERS.get(token)
    if marker is not None:
        return math.nan, marker
    if not _NUMBER.match(token):
        raise GarbledFieldError(f"not a number: {text!r}")
    value = float(token)
    magnitude = abs(value)
    if sentinels:
        flag = sentinels.get(magnitude)
        if flag is not None:
            return math.nan, flag
    if math.isclose(magnitude, SCPI_NAN, rel_tol=1e-4):
        return math.nan, FLAG_NO_DATA
    if magnitude >= SCPI_INF * (1 - 1e-4):
        return math.nan, FLAG_OVER_RANGE
    return value, None


def parse_fields(
    reply: str, count: int, *, separator: str = ",", sentinels: Mapping[float, str] | None = None
) -> list[tuple[float, str | None]]:
    """Parse a reply of exactly ``count`` fields.

    Raises:
        GarbledFieldError: wrong field count or a garbled field.
    """
    fields = reply.split(separator)
    if len(fields) != count:
        raise GarbledFieldError(f"expected {count} fields, got {len(fields)}")
    return [parse_field(f, sentinels=sentinels) for f in fields]
