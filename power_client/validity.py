"""The validity rules of a measured run: each one a named check with its reason.

A result is valid only when every check passes. The rules (defaults in :class:`ValidityRules`)::

    loadgen_valid           the testing run's LoadGen result is VALID
    window_in_phase         each phase's LoadGen window lies inside the client's phase bounds
    clock_offset            |offset| + RTT/2 <= tolerance at every clock check
    samples_in_window       >= min_samples samples in the testing window
    max_gap                 no gap between valid samples longer than max_gap_periods x period
    invalid_samples         no invalid sample in the testing window
    over_range              no over-range sample in the testing window
    uncertainty             every testing sample's W uncertainty <= 1 % of its reading
    testing_vs_ranging      testing average W >= ranging average W x (1 - 5 %)
    director_phase          the director judged the testing phase valid (its own reasons)

power-dev has no sample-count, gap, invalid-sample or clock-drift rule, and judges uncertainty
only through PTDaemon's "above 1.00% limit" warnings (see ``docs/results.md``). Inputs are
plain numbers (:class:`PhaseFacts`), so the same code judges a live run and ``wattbench check``
on a result folder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Check", "PhaseFacts", "RunFacts", "ValidityRules", "evaluate", "utc_text"]


@dataclass(frozen=True)
class Check:
    """One rule's verdict: ``name``, ``passed`` and a readable ``detail`` with the numbers."""

    name: str
    passed: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True)
class ValidityRules:
    """Thresholds of the rules (defaults as documented in ``docs/results.md``)."""

    min_samples: int = 10
    max_gap_periods: float = 2.0
    max_uncertainty_ratio: float = 0.01
    max_power_drop_ratio: float = 0.05
    clock_tolerance_s: float = 0.1


@dataclass(frozen=True)
class PhaseFacts:
    """What the rules need to know about one phase.

    Times are ns since the epoch on the director's clock (the LoadGen window already mapped
    with the measured offset).
    """

    phase: str
    bounds_ns: tuple[int, int]
    window_ns: tuple[int, int]
    loadgen_validity: str
    samples_in_window: int
    invalid_samples: int
    over_range_samples: int
    max_gap_s: float
    period_s: float
    max_uncertainty_ratio: float
    avg_watts: float
    director_valid: bool = True
    director_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunFacts:
    """The facts of a whole run: both phases and every clock check ``(when, offset_s, rtt_s)``."""

    testing: PhaseFacts
    ranging: PhaseFacts | None
    clock_checks: Sequence[tuple[str, float, float]] = field(default_factory=tuple)


def utc_text(t_ns: int) -> str:
    """Return ``t_ns`` as ``YYYY-MM-DD HH:MM:SS.mmm UTC`` for messages."""
    import datetime as _dt

    moment = _dt.datetime.fromtimestamp(t_ns / 1e9, tz=_dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def _window_check(facts: PhaseFacts) -> Check:
    begin, end = facts.window_ns
    lo, hi = facts.bounds_ns
    ok = lo <= begin <= end <= hi
    detail = (
        f"{facts.phase}: LoadGen window {utc_text(begin)} .. {utc_text(end)} "
        f"{'inside' if ok else 'NOT inside'} phase {utc_text(lo)} .. {utc_text(hi)}"
    )
    return Check(f"window_in_phase_{facts.phase}", ok, detail)


def evaluate(facts: RunFacts, rules: ValidityRules = ValidityRules()) -> list[Check]:
    """Return every check, in the documented order."""
    t = facts.testing
    checks = [
        Check(
            "loadgen_valid",
            t.loadgen_validity == "VALID",
            f"testing LoadGen result is {t.loadgen_validity}",
        )
    ]
    for phase in (facts.ranging, t):
        if phase is not None:
            checks.append(_window_check(phase))
    if facts.clock_checks:
        worst = max(facts.clock_checks, key=lambda c: abs(c[1]) + c[2] / 2)
        when, offset_s, rtt_s = worst
        bound = abs(offset_s) + rtt_s / 2
        checks.append(
            Check(
                "clock_offset",
                bound <= rules.clock_tolerance_s,
                f"worst |offset| + RTT/2 = {bound * 1e3:.3f} ms ({when}; tolerance "
                f"{rules.clock_tolerance_s * 1e3:g} ms) over {len(facts.clock_checks)} checks",
            )
        )
    else:
        checks.append(Check("clock_offset", False, "no clock offset was measured"))
    checks.append(
        Check(
            "samples_in_window",
            t.samples_in_window >= rules.min_samples,
            f"{t.samples_in_window} samples in the testing window (>= {rules.min_samples})",
        )
    )
    gap_limit = rules.max_gap_periods * t.period_s
    checks.append(
        Check(
            "max_gap",
            t.max_gap_s <= gap_limit,
            f"longest gap {t.max_gap_s:.3f} s (<= {rules.max_gap_periods:g} update periods = "
            f"{gap_limit:.3f} s)",
        )
    )
    checks.append(
        Check(
            "invalid_samples",
            t.invalid_samples == 0,
            f"{t.invalid_samples} invalid samples in the testing window",
        )
    )
    checks.append(
        Check(
            "over_range",
            t.over_range_samples == 0,
            f"{t.over_range_samples} over-range samples in the testing window",
        )
    )
    ratio = t.max_uncertainty_ratio
    checks.append(
        Check(
            "uncertainty",
            math.isfinite(ratio) and ratio <= rules.max_uncertainty_ratio,
            f"largest W uncertainty {ratio * 100:.3f} % of reading "
            f"(<= {rules.max_uncertainty_ratio * 100:g} %)"
            if math.isfinite(ratio)
            else "W uncertainty unknown for some sample (the meter gives no accuracy figure)",
        )
    )
    if facts.ranging is None:
        checks.append(
            Check(
                "testing_vs_ranging",
                False,
                "no ranging phase was run (--skip-ranging): MLPerf's power flow requires one",
            )
        )
    else:
        r_w = facts.ranging.avg_watts
        floor = r_w * (1 - rules.max_power_drop_ratio)
        checks.append(
            Check(
                "testing_vs_ranging",
                t.avg_watts >= floor,
                f"testing {t.avg_watts:.3f} W vs ranging {r_w:.3f} W "
                f"(testing must be >= {floor:.3f} W, ranging - "
                f"{rules.max_power_drop_ratio * 100:g} %)",
            )
        )
    reasons = "; ".join(t.director_reasons) or "no reason given"
    checks.append(
        Check(
            "director_phase",
            t.director_valid,
            "the director judged the testing phase valid"
            if t.director_valid
            else f"the director judged the testing phase invalid: {reasons}",
        )
    )
    return checks
