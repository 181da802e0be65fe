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

from power_director.meters.uncertainty import AccuracySpec, watts_uncertainty
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE, ChannelReading

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


Field = tuple[float, str | None]


def build_reading(
    values: Mapping[str, Field],
    volts_range: float | None,
    amps_range: float | None,
    accuracy: AccuracySpec | None,
    *,
    frequency_hz: float,
    crest_factor: int,
) -> ChannelReading:
    """Turn one channel's parsed fields into a :class:`ChannelReading`.

    ``values`` maps quantities (``volts``, ``amps``, ``watts``, ``power_factor``, optionally
    ``energy_wh`` / ``energy_j`` and the ranges the meter reported, ``volts_range`` /
    ``amps_range``) to parsed fields. A reported range wins over the driver's ``volts_range`` /
    ``amps_range``. Any flagged quantity (ranges excepted) makes the reading invalid; the W
    uncertainty is computed only for a valid reading with known ranges and accuracy (else NaN).
    """
    flags = frozenset(f for key, (_, f) in values.items() if f and not key.endswith("_range"))
    reported_v = values.get("volts_range", (math.nan, None))[0]
    reported_a = values.get("amps_range", (math.nan, None))[0]
    vr = volts_range if math.isnan(reported_v) else reported_v
    ar = amps_range if math.isnan(reported_a) else reported_a
    watts = values["watts"][0]
    uncertainty = math.nan
    if not flags and accuracy is not None and vr is not None and ar is not None:
        uncertainty = watts_uncertainty(
            watts, vr * ar, accuracy, frequency_hz=frequency_hz, crest_factor=crest_factor
        )
    energy: float | None = None
    if "energy_wh" in values:
        energy = values["energy_wh"][0] * 3600.0
    elif "energy_j" in values:
        energy = values["energy_j"][0]
    return ChannelReading(
        volts=values["volts"][0],
        amps=values["amps"][0],
        watts=watts,
        power_factor=values["power_factor"][0],
        energy_joules=energy,
        volts_range=vr,
        amps_range=ar,
        watts_uncertainty=uncertainty,
        valid=not flags,
        flags=flags,
    )
