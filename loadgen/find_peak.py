"""FindPeakPerformance: search the highest Server QPS that stays VALID.

As the official LoadGen (``FindPeakPerformance`` in ``loadgen/loadgen.cc``): run at
``server_target_qps``; if that fails, stop with "Initial lower bound does not satisfy
performance constraints"; otherwise widen the upper bound to ``qps x (1 + step)`` until a run
fails, then bisect until ``floor(l * 10^d) + 1 >= floor(u * 10^d)`` with ``d`` =
``server_find_peak_qps_decimals_of_precision``. Every probe is a full-length performance pass.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from loadgen import generation
from loadgen.results import PerformanceResult
from loadgen.settings import TestScenario

if TYPE_CHECKING:
    from loadgen.effective import EffectiveSettings
    from loadgen.runner import _Run

_MAX_PROBES = 64


def find_peak(run: _Run, eff: EffectiveSettings) -> PerformanceResult | None:
    """Return the result of the highest passing QPS probe (None if none passed)."""
    if eff.scenario is not TestScenario.Server:
        run.error("error_invalid_test_settings", "FindPeakPerformance needs the Server scenario.")
        return None
    loaded = generation.loadable_sets(eff, performance=True)[0]

    def probe(qps: float) -> PerformanceResult | None:
        run.detail.log("generic_message", f"FindPeakPerformance: probing {qps:g} QPS")
        return run.run_pass(dataclasses.replace(eff, target_qps=qps), loaded, performance=True)

    lower = eff.target_qps
    best = probe(lower)
    if best is None or not best.valid:
        run.error("error_runtime", "Initial lower bound does not satisfy performance constraints.")
        return best
    run_step = max(run.find_peak_step, 1e-9)
    upper = lower * (1 + run_step)
    probes = 1
    while probes < _MAX_PROBES:
        res = probe(upper)
        probes += 1
        if res is None or not res.valid:
            break
        best, lower = res, upper
        upper = upper * (1 + run_step)
    digits = 10**run.find_peak_decimals
    while probes < _MAX_PROBES and math.floor(lower * digits) + 1 < math.floor(upper * digits):
        mid = (lower + upper) / 2
        res = probe(mid)
        probes += 1
        if res is not None and res.valid:
            best, lower = res, mid
        else:
            upper = mid
    run.detail.log("generic_message", f"FindPeakPerformance: peak {lower:g} QPS")
    return best
