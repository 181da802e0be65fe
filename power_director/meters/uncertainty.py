"""Active-power accuracy of each meter model, as data, and the uncertainty of a reading.

The accuracy of a power reading is specified as ``±(a % of reading + b % of range)`` per
frequency band, where the power range is voltage range x current range. Crest factor 6 doubles
the range term on the Yokogawa WT300E/WT210 families. Values are 12-month figures at PF = 1
where the source gives them; the power-factor influence term (±0.1 % of apparent power at λ = 0
on the WT310E) is not included.

Sources (see ``/work/shared/reference/ecosystem.md`` §4 for the excerpts):

* WT310E / WT310EH / WT332E / WT333E: IM WT310E-02EN, "Specifications, active power accuracy".
* WT310 / WT332 / WT333: IM WT310-02EN, same table.
* WT210 / WT230: IM 760401-01E, chapter 15 "Specifications" (3-month figure; 12 months adds
  0.5 x the reading term, applied here).
* WT500, WT1800, WT5000: **not verified** against the manuals here (figures from Yokogawa's
  product literature as remembered); marked ``verified=False`` and flagged by ``meter list``.

Example: 60 W read on a 150 V x 1 A range with a WT310E at 50 Hz gives
``watts_uncertainty(60, 150, ACCURACY["wt310e"]) == 0.135`` W (0.23 %).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccuracyBand:
    """Accuracy in one frequency band: ``±(reading_pct % rdg + range_pct % rng)``.

    Attributes:
        f_min_hz: lowest frequency of the band, Hz (0 with f_max_hz 0 means DC).
        f_max_hz: highest frequency of the band, Hz (inclusive).
        reading_pct: reading term, % of reading.
        range_pct: range term, % of the power range.
    """

    f_min_hz: float
    f_max_hz: float
    reading_pct: float
    range_pct: float

    def contains(self, frequency_hz: float) -> bool:
        """Return True when ``frequency_hz`` lies in the band."""
        return self.f_min_hz <= frequency_hz <= self.f_max_hz


@dataclass(frozen=True, slots=True)
class AccuracySpec:
    """A model's active-power accuracy specification.

    Attributes:
        model: model name as printed on the meter.
        bands: accuracy per frequency band.
        source: manual and section the figures come from.
        verified: False when the figures were not checked against the manual.
        cf6_range_factor: multiplier on the range term at crest factor 6.
    """

    model: str
    bands: tuple[AccuracyBand, ...]
    source: str
    verified: bool = True
    cf6_range_factor: float = 2.0

    def band(self, frequency_hz: float) -> AccuracyBand | None:
        """Return the band covering ``frequency_hz`` (DC is 0), or None."""
        for band in self.bands:
            if band.contains(frequency_hz):
                return band
        return None


def watts_uncertainty(
    reading_w: float,
    range_w: float,
    spec: AccuracySpec,
    *,
    frequency_hz: float = 50.0,
    crest_factor: int = 3,
) -> float:
    """Return the absolute uncertainty of an active-power reading, W.

    Args:
        reading_w: the reading, W (its magnitude is used).
        range_w: the power range, voltage range x current range, W.
        spec: the model's accuracy.
        frequency_hz: signal frequency, Hz (0 for DC).
        crest_factor: 3 or 6.

    Returns:
        The uncertainty in W, or NaN when the frequency is outside every specified band or an
        input is not finite.
    """
    if not (math.isfinite(reading_w) and math.isfinite(range_w)):
        return math.nan
    band = spec.band(frequency_hz)
    if band is None:
        log.debug("%s: no accuracy band for %g Hz", spec.model, frequency_hz)
        return math.nan
    range_pct = band.range_pct * (spec.cf6_range_factor if crest_factor == 6 else 1.0)
    return (abs(reading_w) * band.reading_pct + abs(range_w) * range_pct) / 100.0


def _bands(
    dc: tuple[float, float] | None, *rest: tuple[float, float, float, float]
) -> tuple[AccuracyBand, ...]:
    out = [AccuracyBand(0.0, 0.0, dc[0], dc[1])] if dc else []
    out += [AccuracyBand(*band) for band in rest]
    return tuple(out)


_WT300E = _bands((0.1, 0.2), (45.0, 66.0, 0.1, 0.05), (66.0, 1000.0, 0.2, 0.2))
_WT300 = _bands((0.1, 0.2), (45.0, 66.0, 0.1, 0.1), (66.0, 1000.0, 0.2, 0.2))
_WT300E_SRC = "IM WT310E-02EN, Specifications: active power accuracy (12 months)"
_WT300_SRC = "IM WT310-02EN, Specifications: active power accuracy (12 months)"
_WT210 = _bands((0.45, 0.2), (45.0, 66.0, 0.15, 0.1))
_WT210_SRC = "IM 760401-01E, ch. 15 Specifications: active power (3 months + 0.5 x reading term)"

#: Accuracy per registry key.
ACCURACY: dict[str, AccuracySpec] = {
    "wt310e": AccuracySpec("WT310E", _WT300E, _WT300E_SRC),
    "wt310eh": AccuracySpec("WT310EH", _WT300E, _WT300E_SRC + " (same table assumed)", False),
    "wt332e": AccuracySpec("WT332E", _WT300E, _WT300E_SRC),
    "wt333e": AccuracySpec("WT333E", _WT300E, _WT300E_SRC),
    "wt310": AccuracySpec("WT310", _WT300, _WT300_SRC),
    "wt332": AccuracySpec("WT332", _WT300, _WT300_SRC),
    "wt333": AccuracySpec("WT333", _WT300, _WT300_SRC),
    "wt210": AccuracySpec("WT210", _WT210, _WT210_SRC),
    "wt230": AccuracySpec("WT230", _WT210, _WT210_SRC + " (WT230 assumed same)", False),
    "wt500": AccuracySpec(
        "WT500", _bands((0.1, 0.2), (45.0, 66.0, 0.1, 0.1)), "WT500 literature", False
    ),
    "wt1800": AccuracySpec(
        "WT1800", _bands((0.05, 0.1), (45.0, 66.0, 0.05, 0.05)), "WT1800 literature", False
    ),
    "wt5000": AccuracySpec(
        "WT5000", _bands((0.02, 0.05), (45.0, 66.0, 0.02, 0.04)), "WT5000 literature", False
    ),
}
