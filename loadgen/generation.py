"""Loadable sample sets and pre-generated queries, as the official LoadGen builds them.

Everything here runs before timing starts (``GenerateLoadableSets`` and ``GenerateQueries`` in
``loadgen/loadgen.cc``):

- performance mode loads only the first set of ``performance_sample_count`` indices, shuffled
  with ``qsl_rng_seed``; accuracy mode walks every set of ``accuracy_sample_count`` indices;
- SingleStream/MultiStream/Server draw sample indices with replacement from
  ``sample_index_rng_seed`` (MultiStream: one start index, then ``samples_per_query``
  contiguous samples of the set padded with its first ones); Offline lays the set out in order,
  repeated, in one query;
- SingleStream/MultiStream generate queries for 2x the target duration at the expected rate,
  Server for 1x at Poisson arrival times from ``schedule_rng_seed``, and every scenario at least
  ``min_query_count`` queries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadgen import rng
from loadgen.effective import EffectiveSettings
from loadgen.settings import TestScenario


@dataclass(frozen=True)
class QueryPlan:
    """Pre-generated queries for one loaded set.

    ``sample_indices`` is flat: query ``q`` owns ``[q*spq, (q+1)*spq)``. ``schedule_ns`` holds
    each query's scheduled offset from the start of issuing (Server only; None otherwise).
    """

    sample_indices: list[int]
    samples_per_query: int
    schedule_ns: list[int] | None
    duration_ns: int

    @property
    def query_count(self) -> int:
        """Return the number of queries."""
        return len(self.sample_indices) // self.samples_per_query


def _padding(eff: EffectiveSettings) -> int:
    return eff.samples_per_query - 1 if eff.scenario is TestScenario.MultiStream else 0


def loadable_sets(eff: EffectiveSettings, performance: bool) -> list[list[int]]:
    """Return the QSL index sets to load: the first only in performance mode.

    MultiStream sets carry ``samples_per_query - 1`` padding samples (copies of their first
    ones), so every start position has enough contiguous samples.
    """
    size = eff.performance_sample_count
    count = size if performance else eff.accuracy_sample_count
    sets = rng.loadable_sets(eff.qsl_rng_seed, count, size, padding=_padding(eff))
    return sets[:1] if performance else sets


def _fixed_period_count(eff: EffectiveSettings, gen_duration_ns: int) -> int:
    # queries at k*period; stop after the first one at or past the duration once the
    # minimum count is reached
    period = max(eff.period_ns, 1)
    k_stop = max(math.ceil(gen_duration_ns / period), eff.min_query_count - 1, 0)
    return _cap(k_stop + 1, eff)


def _cap(count: int, eff: EffectiveSettings) -> int:
    return min(count, eff.max_query_count) if eff.max_query_count else count


def _expand(loaded: list[int], positions: list[int], spq: int) -> list[int]:
    if spq == 1:
        return [loaded[p] for p in positions]
    return [loaded[p + j] for p in positions for j in range(spq)]


def performance_plan(eff: EffectiveSettings, loaded: list[int]) -> QueryPlan:
    """Return the performance-mode queries for the loaded set."""
    spq = eff.samples_per_query
    n_set = len(loaded) - _padding(eff)
    scenario = eff.scenario
    if scenario is TestScenario.Offline:
        samples = [loaded[i % n_set] for i in range(spq)]
        return QueryPlan(samples, spq, None, eff.period_ns)

    schedule: list[int] | None = None
    if scenario is TestScenario.Server:
        times, duration_ns = rng.server_schedule_ns(
            eff.schedule_rng_seed,
            eff.target_qps,
            gen_duration_ns=eff.target_duration_ms * 1_000_000,
            min_queries=eff.min_query_count,
        )
        schedule = times[: _cap(len(times), eff)].tolist()
        count = len(schedule)
    else:
        count = _fixed_period_count(eff, 2 * eff.target_duration_ms * 1_000_000)
        duration_ns = count * eff.period_ns

    if eff.performance_issue_same:
        same = loaded[eff.performance_issue_same_index]
        return QueryPlan([same] * (count * spq), spq, schedule, duration_ns)
    if eff.performance_issue_unique:
        order = rng.accuracy_sample_order(eff.sample_index_rng_seed, n_set, spq)
        count = min(count, len(order))
        if schedule is not None:
            schedule = schedule[:count]
        return QueryPlan(_expand(loaded, order[:count], spq), spq, schedule, duration_ns)
    if eff.sample_concatenate_permutation and spq == 1:
        perm = rng.equal_issue_positions(eff.sample_index_rng_seed, n_set, eff.min_query_count)
        positions = [int(perm[i % len(perm)]) for i in range(count)]
        return QueryPlan(_expand(loaded, positions, 1), 1, schedule, duration_ns)
    draws = rng.performance_sample_draws(
        eff.sample_index_rng_seed,
        count,
        n_set,
        loaded_set_size=len(loaded),
        stride=spq,
        min_queries=eff.min_query_count,
    ).tolist()
    return QueryPlan(_expand(loaded, draws, spq), spq, schedule, duration_ns)


def accuracy_plan(eff: EffectiveSettings, loaded: list[int]) -> QueryPlan:
    """Return the accuracy-mode queries: every sample of the set exactly once."""
    spq = eff.samples_per_query
    n_set = len(loaded) - _padding(eff)
    if eff.scenario is TestScenario.Offline:
        return QueryPlan(list(loaded), n_set, None, eff.period_ns)
    order = rng.accuracy_sample_order(eff.sample_index_rng_seed, n_set, spq)
    schedule: list[int] | None = None
    duration_ns = len(order) * eff.period_ns
    if eff.scenario is TestScenario.Server:
        times, duration_ns = rng.server_schedule_ns(
            eff.schedule_rng_seed, eff.target_qps, gen_duration_ns=0, min_queries=len(order)
        )
        schedule = times.tolist()
    return QueryPlan(_expand(loaded, order, spq), spq, schedule, duration_ns)
