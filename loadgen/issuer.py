"""The issue loops: hand pre-generated queries to the SUT with the official timing rules.

SingleStream and MultiStream issue the next query only when the previous one has completed;
Server issues each query at its Poisson-scheduled time (optionally coalescing past-due ones);
Offline issues one query holding every sample. Performance passes end naturally once
``min_query_count`` queries were issued and ``target_duration`` has elapsed (Server: once every
generated query was issued), or early at ``max_query_count`` / ``max_duration`` / when the SUT
stalls. Nothing here logs or allocates beyond one small list per query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from loadgen.clock import Clock
from loadgen.generation import QueryPlan
from loadgen.interfaces import QuerySample, SystemUnderTest
from loadgen.recorder import Recorder
from loadgen.settings import TestScenario

ENDED_NATURALLY = "Ending naturally: Minimum query count and test duration met."
RAN_OUT = (
    "Ending early: Ran out of generated queries to issue before the minimum query count and "
    "test duration were reached. Please update the relevant expected latency or target qps "
    "in the TestSettings so they are more accurate."
)
MAX_QUERIES = "Ending early: Max query count reached."
MAX_DURATION = "Ending early: Max test duration reached."
TOO_MANY_OUTSTANDING = "Ending early: Too many outstanding queries."


@dataclass
class IssueOutcome:
    """What happened while issuing one pass."""

    start_ns: int = 0
    start_wall_ns: int = 0
    queries_issued: int = 0
    issued_ns: list[int] = field(default_factory=list)  # per query (SS/MS/Offline)
    end_message: str = ""
    end_is_error: bool = False
    stalled: bool = False
    interrupted: bool = False


@dataclass(frozen=True)
class IssueLimits:
    """End conditions of a pass, in ns and counts (0 = no limit)."""

    min_queries: int
    target_duration_ns: int
    max_queries: int
    max_duration_ns: int
    max_async_queries: int
    stall_timeout_s: float
    performance: bool
    coalesce: bool = False


def issue_pass(
    scenario: TestScenario,
    plan: QueryPlan,
    sut: SystemUnderTest,
    rec: Recorder,
    clock: Clock,
    limits: IssueLimits,
    out: IssueOutcome,
    on_start: Callable[[int, int], None] | None = None,
) -> None:
    """Issue ``plan`` to ``sut``; fill ``out``. Stamps ``out.start_*`` just before the first issue.

    ``on_start(wall_ns, mono_ns)`` runs right after the stamps (keep it short: it delays the
    first query).

    Raises KeyboardInterrupt after recording what was issued, so callers can flush logs.
    """
    out.issued_ns = [0] * plan.query_count
    offline_samples: list[QuerySample] = []
    if scenario is TestScenario.Offline:  # building the one big query is untimed
        offline_samples = [QuerySample(i + 1, idx) for i, idx in enumerate(plan.sample_indices)]
    out.start_wall_ns = clock.wall_ns()
    out.start_ns = clock.now_ns()
    if on_start is not None:
        on_start(out.start_wall_ns, out.start_ns)
    try:
        if scenario is TestScenario.Offline:
            _offline(offline_samples, sut, rec, out)
            if limits.performance:
                _end(out, ENDED_NATURALLY, False)
        elif scenario is TestScenario.Server:
            _server(plan, sut, rec, clock, limits, out)
        else:
            _streams(plan, sut, rec, clock, limits, out)
    except KeyboardInterrupt:
        # a query handed to the SUT counts as issued even if the interrupt came inside it
        out.queries_issued = rec.issued // plan.samples_per_query
        out.interrupted = True
        out.end_message, out.end_is_error = "Ending early: interrupted by the user.", True
        raise


def _end(out: IssueOutcome, message: str, is_error: bool) -> None:
    out.end_message = message
    out.end_is_error = is_error


def _offline(
    samples: list[QuerySample], sut: SystemUnderTest, rec: Recorder, out: IssueOutcome
) -> None:
    rec.issued = len(samples)
    out.issued_ns[0] = out.start_ns
    sut.issue_queries(samples, rec.complete)
    out.queries_issued = 1


def _streams(
    plan: QueryPlan,
    sut: SystemUnderTest,
    rec: Recorder,
    clock: Clock,
    limits: IssueLimits,
    out: IssueOutcome,
) -> None:
    now = clock.now_ns
    issue = sut.issue_queries
    complete = rec.complete
    indices = plan.sample_indices
    spq = plan.samples_per_query
    issued_ns = out.issued_ns
    start = out.start_ns
    perf = limits.performance
    min_q, target = limits.min_queries, limits.target_duration_ns
    max_q, max_dur = limits.max_queries, limits.max_duration_ns
    stall = limits.stall_timeout_s
    n = plan.query_count
    q = 0
    while q < n:
        base = q * spq
        if rec.completed != base and not rec.wait_completed(base, stall):
            out.stalled = True
            break
        t = now()
        issued_ns[q] = t
        if spq == 1:
            rec.issued = q + 1
            issue([QuerySample(q + 1, indices[q])], complete)
        else:
            rec.issued = base + spq
            issue([QuerySample(base + j + 1, indices[base + j]) for j in range(spq)], complete)
        q += 1
        if perf:
            elapsed = t - start
            if q >= min_q and elapsed >= target:
                _end(out, ENDED_NATURALLY, False)
                break
            if max_q and q >= max_q:
                _end(out, MAX_QUERIES, True)
                break
            if max_dur and elapsed >= max_dur:
                _end(out, MAX_DURATION, True)
                break
    else:
        if perf:
            _end(out, RAN_OUT, True)
    out.queries_issued = q


def _server(
    plan: QueryPlan,
    sut: SystemUnderTest,
    rec: Recorder,
    clock: Clock,
    limits: IssueLimits,
    out: IssueOutcome,
) -> None:
    now = clock.now_ns
    sleep_until = clock.sleep_until_ns
    issue = sut.issue_queries
    complete = rec.complete
    indices = plan.sample_indices
    assert plan.schedule_ns is not None
    schedule = plan.schedule_ns
    start = out.start_ns
    max_q, max_dur = limits.max_queries, limits.max_duration_ns
    max_async = limits.max_async_queries
    coalesce = limits.coalesce
    n = plan.query_count
    q = 0
    while q < n:
        due = start + schedule[q]
        t = now()
        if t < due:
            sleep_until(due)
            t = due
        if coalesce:
            last = q + 1
            while last < n and start + schedule[last] <= t:
                last += 1
            rec.issued = last
            issue([QuerySample(k + 1, indices[k]) for k in range(q, last)], complete)
            q = last
        else:
            rec.issued = q + 1
            issue([QuerySample(q + 1, indices[q])], complete)
            q += 1
        if max_async and q - rec.completed > max_async:
            _end(out, TOO_MANY_OUTSTANDING, True)
            break
        if max_q and q >= max_q:
            _end(out, MAX_QUERIES, True)
            break
        if max_dur and schedule[q - 1] >= max_dur:
            _end(out, MAX_DURATION, True)
            break
    out.queries_issued = q
