"""Early-stopping criterion of MLPerf LoadGen (SingleStream, MultiStream, Server).

A run of ``n`` queries of which ``t`` were "over latency" (Server) is accepted when,
with confidence ``c``, the system's true under-latency rate is at least ``p - d``
(``p`` the target percentile, ``d`` a tolerance; LoadGen hard-codes ``c = 0.99``, ``d = 0``).
Let ``x = p - d``. The probability that a system whose under-latency rate is exactly ``x``
shows at most ``t`` over-latency queries among ``h + t`` is::

    odds(h, t) = I_x(h, t + 1)                                  (regularised incomplete beta)
               = P[Binomial(h + t, 1 - x) <= t]
               = sum_{k=0..t} C(h + t, k) (1 - x)^k x^(h + t - k)

``odds`` decreases as ``h`` grows, and::

    h(t) = min { h >= 0 : odds(h, t) < 1 - c }                  (min_passing_queries)

Server (``t`` = number of samples with latency > target): the run passes iff ``n >= h(t) + t``;
otherwise it would need ``h(t) + t - n`` more queries, all of them under latency.

SingleStream / MultiStream: the run needs ``n >= h(1) + 1`` queries (64 at p = 0.90, 662 at
p = 0.99, 6636 at p = 0.999). Then ``t`` is the largest ``i`` with ``n >= h(i) + i``, the
early-stopping percentile estimate is ``sorted_latencies[n - t]`` (ascending order), i.e. the
``t - 1`` highest latencies are discarded. Because ``h(i) + i <= n`` holds exactly when
``odds(n - i, i) < 1 - c``, ``t`` is found by a binary search on that predicate.

Numerics: the official C++ (``loadgen/early_stopping.cc``) evaluates ``I_x`` with a
hypergeometric series. Here ``log odds`` is computed from one binomial log-probability
(Loader's saddle-point form: Stirling-series remainders plus a deviance term, accurate to a
few ulps even for n in the tens of millions) times a sum of ratios of neighbouring binomial
terms, taken from the tail that does not contain the mode so that the sum is short
(``O(sqrt(n))`` terms) and never overflows. Nothing here can yield NaN.

Agreement with the official LoadGen 6.0.17 was checked run by run: Server ``h(t)`` for
t = 0..300 at p = 0.90 and 0.99, a few t up to 18729, and p = 0.999; SingleStream discard counts
on both sides of every step ``n = h(t) + t`` for t = 1..120, 200, 300, 500, 1000, 2171 at
p = 0.90 and t = 1, 2, 3, 10 at p = 0.5, 0.95, 0.99, 0.999; full summary texts, estimates
included, of traced SingleStream and MultiStream runs. The only difference found: p = 0.99,
t = 8550, where ``odds(868100, 8550)`` exceeds 1 - c by about 3e-9 (relative); the official
double-precision series says it passes (h = 868100), exact integer arithmetic says it does not
(h = 868101, which is what this module returns).

The summary texts returned by :func:`single_stream_text`, :func:`multi_stream_text` and
:func:`server_text` are the lines printed under ``Early Stopping Result:`` in
``mlperf_log_summary.txt``; :func:`detail_text` joins them as the ``early_stopping_result``
value of ``mlperf_log_detail.txt`` (where LoadGen replaces each newline with a space).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_TOLERANCE",
    "MULTI_STREAM_PERCENTILE",
    "PercentileEstimate",
    "ServerEarlyStopping",
    "clear_cache",
    "detail_text",
    "format_percentile",
    "min_passing_queries",
    "multi_stream_text",
    "percentile_estimate",
    "server_early_stopping",
    "server_text",
    "single_stream_text",
]

DEFAULT_CONFIDENCE = 0.99
"""Confidence ``c`` hard-coded by LoadGen (``PerformanceSummary::EarlyStopping``)."""

DEFAULT_TOLERANCE = 0.0
"""Tolerance ``d`` hard-coded by LoadGen."""

MULTI_STREAM_PERCENTILE = 0.99
"""Percentile of the second SingleStream estimate (``early_stopping_latency_ms``)."""

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SUM_EPS = 2.0**-60  # relative size below which further tail terms are dropped

# Stirling-series remainder for small integers, exact up to rounding:
# stirlerr(n) = log(n!) - (n + 1/2) log(n) + n - log(sqrt(2 pi)).
_STIRLERR_SMALL = [0.0] + [
    math.lgamma(k + 1.0) - (k + 0.5) * math.log(k) + k - _LOG_SQRT_2PI for k in range(1, 16)
]


def _stirlerr(n: int) -> float:
    """Return ``log(n!) - log(sqrt(2 pi n) (n / e)^n)`` for an integer ``n >= 1``."""
    if n <= 15:
        return _STIRLERR_SMALL[n]
    s0, s1, s2, s3, s4 = 1.0 / 12, 1.0 / 360, 1.0 / 1260, 1.0 / 1680, 1.0 / 1188
    nf = float(n)
    nn = nf * nf
    if n > 500:
        return (s0 - s1 / nn) / nf
    if n > 80:
        return (s0 - (s1 - s2 / nn) / nn) / nf
    if n > 35:
        return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / nf
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / nf


def _bd0(x: float, m: float) -> float:
    """Return the deviance term ``x log(x / m) + m - x`` without cancellation (x, m > 0)."""
    diff = x - m
    if abs(diff) < 0.1 * (x + m):
        v = diff / (x + m)
        s = diff * v
        ej = 2.0 * x * v
        v2 = v * v
        j = 1
        while True:
            ej *= v2
            s_next = s + ej / (2 * j + 1)
            if s_next == s:
                return s_next
            s = s_next
            j += 1
    return x * math.log(x / m) + m - x


def _log_binom_pmf(k: int, n: int, q: float) -> float:
    """Return ``log P[Binomial(n, q) = k]`` for ``0 <= k <= n`` and ``0 < q < 1``."""
    if k == 0:
        return n * math.log1p(-q)
    if k == n:
        return n * math.log(q)
    rest = n - k
    lc = (
        _stirlerr(n)
        - _stirlerr(k)
        - _stirlerr(rest)
        - _bd0(float(k), n * q)
        - _bd0(float(rest), n * (1.0 - q))
    )
    return lc - _LOG_SQRT_2PI - 0.5 * (math.log(k) + math.log1p(-k / n))


def _log_binom_cdf(k: int, n: int, q: float) -> float:
    """Return ``log P[Binomial(n, q) <= k]`` (``-inf`` for ``k < 0``, ``0.0`` for ``k >= n``)."""
    if k < 0:
        return -math.inf
    if k >= n:
        return 0.0
    odds_ratio = (1.0 - q) / q  # P(j - 1) / P(j) = j / (n - j + 1) * odds_ratio
    if k <= n * q:
        # Lower tail: sum P(j) / P(k) for j = k, k - 1, ..., 0 (terms shrink).
        total = 1.0
        term = 1.0
        j = k
        while j > 0:
            term *= j / (n - j + 1) * odds_ratio
            total += term
            if term < total * _SUM_EPS:
                break
            j -= 1
        return _log_binom_pmf(k, n, q) + math.log(total)
    # Upper tail: P[X > k] = sum P(j) for j = k + 1 ... n (terms shrink); CDF = 1 - that.
    inv_ratio = q / (1.0 - q)
    total = 1.0
    term = 1.0
    j = k + 1
    while j < n:
        term *= (n - j) / (j + 1) * inv_ratio
        total += term
        if term < total * _SUM_EPS:
            break
        j += 1
    log_upper = _log_binom_pmf(k + 1, n, q) + math.log(total)
    if log_upper >= 0.0:  # only reachable through rounding
        return -math.inf
    return math.log1p(-math.exp(log_upper))


def _log_odds(h: int, t: int, x: float) -> float:
    """Return ``log odds(h, t) = log I_x(h, t + 1) = log P[Binomial(h + t, 1 - x) <= t]``."""
    if h <= 0:
        return 0.0
    return _log_binom_cdf(t, h + t, 1.0 - x)


def _check_args(percentile: float, confidence: float, tolerance: float) -> float:
    """Validate the criterion's parameters and return ``x = percentile - tolerance``."""
    if not 0.0 < percentile < 1.0:
        raise ValueError(f"percentile must be in (0, 1), got {percentile!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if not 0.0 <= tolerance < percentile:
        raise ValueError(f"tolerance must be in [0, percentile), got {tolerance!r}")
    return percentile - tolerance


@lru_cache(maxsize=65536)
def _min_passing_cached(overlatency: int, x: float, log_threshold: float) -> int:
    """Smallest ``h`` with ``log odds(h, overlatency) < log_threshold``."""
    t = overlatency
    q = 1.0 - x
    # At h = t * x / q the binomial mean equals t, so odds >= 1/2 there: a failing lower bound.
    lo = math.floor(t * x / q)
    if lo > 0 and _log_odds(lo, t, x) < log_threshold:
        lo = 0  # cannot happen for confidence >= 1/2; odds(0, t) = 1 always fails
    step = max(1, math.ceil(3.0 * math.sqrt(t + 1.0) / q))
    hi = lo + step
    while _log_odds(hi, t, x) >= log_threshold:
        lo = hi
        step *= 2
        hi = lo + step
    # Invariant: odds(lo) fails, odds(hi) passes.
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _log_odds(mid, t, x) < log_threshold:
            hi = mid
        else:
            lo = mid
    return hi


def min_passing_queries(
    overlatency: int,
    percentile: float,
    confidence: float = DEFAULT_CONFIDENCE,
    tolerance: float = DEFAULT_TOLERANCE,
) -> int:
    """Return ``h(t)``: the fewest under-latency queries that pass with ``t`` over latency.

    ``h(t)`` is the smallest ``h`` with ``I_{p-d}(h, t + 1) < 1 - c``, i.e. with
    ``P[Binomial(h + t, 1 - (p - d)) <= t] < 1 - c``. Results are cached.

    Args:
        overlatency: ``t``, the number of over-latency queries (>= 0).
        percentile: ``p``, the target latency percentile, in (0, 1).
        confidence: ``c``, in (0, 1); LoadGen uses 0.99.
        tolerance: ``d``, in [0, p); LoadGen uses 0.

    Returns:
        ``h(t)``; e.g. at p = 0.99: ``h(0) = 459``, ``h(1) = 661``, ``h(10) = 2000``.

    Raises:
        ValueError: an argument is out of range.
    """
    if overlatency < 0:
        raise ValueError(f"overlatency must be >= 0, got {overlatency!r}")
    x = _check_args(percentile, confidence, tolerance)
    return _min_passing_cached(int(overlatency), x, math.log(1.0 - confidence))


def clear_cache() -> None:
    """Empty the caches of :func:`min_passing_queries` and :func:`percentile_estimate`."""
    _min_passing_cached.cache_clear()
    _percentile_estimate_cached.cache_clear()


@dataclass(frozen=True)
class PercentileEstimate:
    """Early-stopping percentile estimate for SingleStream / MultiStream.

    Attributes:
        met: whether enough queries were processed (``n >= h(1) + 1``).
        queries_needed: the minimum number of queries, ``h(1) + 1``.
        discarded: ``t - 1``, how many of the highest latencies are discarded (0 if not met).
        estimate_index: index ``n - t`` into the ascending-sorted latencies, or None if not met.
    """

    met: bool
    queries_needed: int
    discarded: int
    estimate_index: int | None


@lru_cache(maxsize=4096)
def _percentile_estimate_cached(
    n: int, x: float, log_threshold: float, needed: int
) -> PercentileEstimate:
    """Cached body of :func:`percentile_estimate` (arguments already validated)."""
    if n < needed:
        return PercentileEstimate(
            met=False, queries_needed=needed, discarded=0, estimate_index=None
        )
    # pred(i) := h(i) + i <= n  <=>  odds(n - i, i) < 1 - c; true at i = 1, false at i = n.
    lo, hi = 1, n
    # Tighter failing bound: i >= n (1 - x) puts i at or above the binomial median.
    mean_bound = min(n, math.floor(n * (1.0 - x)) + 1)
    if mean_bound > lo and _log_odds(n - mean_bound, mean_bound, x) >= log_threshold:
        hi = mean_bound
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _log_odds(n - mid, mid, x) < log_threshold:
            lo = mid
        else:
            hi = mid
    t = lo
    return PercentileEstimate(
        met=True, queries_needed=needed, discarded=t - 1, estimate_index=n - t
    )


def percentile_estimate(
    n: int,
    percentile: float,
    confidence: float = DEFAULT_CONFIDENCE,
    tolerance: float = DEFAULT_TOLERANCE,
) -> PercentileEstimate:
    """Return where the early-stopping estimate lies among ``n`` sorted latencies.

    Needs ``n >= h(1) + 1``; then ``t`` is the largest ``i`` with ``n >= h(i) + i`` and the
    estimate is ``sorted_latencies[n - t]``. Found by binary search over ``t``
    (``O(log n)`` evaluations of ``O(sqrt(n))`` cost each).

    Args:
        n: number of queries processed (``queries_issued``), >= 0.
        percentile: the target percentile (SingleStream 0.90, MultiStream 0.99).
        confidence: ``c``; LoadGen uses 0.99.
        tolerance: ``d``; LoadGen uses 0.

    Returns:
        The estimate; e.g. at p = 0.90, n = 4400: ``discarded = 392``, ``estimate_index = 4007``.

    Raises:
        ValueError: an argument is out of range.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n!r}")
    x = _check_args(percentile, confidence, tolerance)
    log_threshold = math.log(1.0 - confidence)
    needed = _min_passing_cached(1, x, log_threshold) + 1
    return _percentile_estimate_cached(int(n), x, log_threshold, needed)


@dataclass(frozen=True)
class ServerEarlyStopping:
    """Early-stopping outcome of a Server run.

    Attributes:
        met: whether ``queries >= h(overlatency) + overlatency``.
        queries: ``n``, the number of queries processed.
        overlatency: ``t``, the number of samples with latency above the target.
        queries_needed_more: ``h(t) + t - n`` when not met, else 0.
    """

    met: bool
    queries: int
    overlatency: int
    queries_needed_more: int


def server_early_stopping(
    n: int,
    overlatency: int,
    percentile: float,
    confidence: float = DEFAULT_CONFIDENCE,
    tolerance: float = DEFAULT_TOLERANCE,
) -> ServerEarlyStopping:
    """Apply the Server early-stopping test: pass iff ``n >= h(t) + t``.

    Args:
        n: number of queries processed (>= 0).
        overlatency: number of samples with latency strictly above the target (>= 0).
        percentile: the target percentile (``server_target_latency_percentile``, 0.99).
        confidence: ``c``; LoadGen uses 0.99.
        tolerance: ``d``; LoadGen uses 0.

    Returns:
        The outcome; e.g. ``n = 2000, overlatency = 10`` at p = 0.99 needs 10 more queries.

    Raises:
        ValueError: an argument is out of range.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n!r}")
    required = min_passing_queries(overlatency, percentile, confidence, tolerance) + overlatency
    met = n >= required
    return ServerEarlyStopping(
        met=met, queries=n, overlatency=overlatency, queries_needed_more=0 if met else required - n
    )


def format_percentile(percentile: float) -> str:
    """Format a percentile as LoadGen's summary does: ``0.9 -> "90.0"``, ``0.999 -> "99.9"``.

    Args:
        percentile: a fraction in (0, 1).

    Returns:
        ``percentile * 100`` in fixed notation with one decimal.
    """
    return f"{percentile * 100:.1f}"


def _stream_lines(sorted_latencies: Sequence[int], percentile: float) -> tuple[list[str], bool]:
    """Lines shared by SingleStream and MultiStream, and whether early stopping is met."""
    n = len(sorted_latencies)
    est = percentile_estimate(n, percentile)
    if not est.met or est.estimate_index is None:
        return [
            f" * Only processed {n} queries.",
            f" * Need to process at least {est.queries_needed} queries for early stopping.",
        ], False
    return [
        f" * Processed at least {est.queries_needed} queries ({n}).",
        f" * Would discard {est.discarded} highest latency queries.",
        f" * Early stopping {format_percentile(percentile)}th percentile estimate: "
        f"{sorted_latencies[est.estimate_index]}",
    ], True


def single_stream_text(
    sorted_latencies: Sequence[int],
    percentile: float = 0.90,
    multi_stream_percentile: float = MULTI_STREAM_PERCENTILE,
) -> list[str]:
    """Return the SingleStream ``Early Stopping Result:`` lines of the summary.

    Args:
        sorted_latencies: per-query latencies in ns, sorted ascending (one per query).
        percentile: ``single_stream_target_latency_percentile`` (0.90).
        multi_stream_percentile: percentile of the second estimate (0.99, hard-coded by LoadGen).

    Returns:
        The lines without newlines, e.g. ``" * Would discard 392 highest latency queries."``.
    """
    lines, met = _stream_lines(sorted_latencies, percentile)
    if not met:
        return lines
    n = len(sorted_latencies)
    est = percentile_estimate(n, multi_stream_percentile)
    pct = format_percentile(multi_stream_percentile)
    if not est.met or est.estimate_index is None:
        lines += [
            f" * Not enough queries processed for {pct}th percentile",
            " early stopping estimate (would need to process at",
            f" least {est.queries_needed} total queries).",
        ]
    else:
        lines.append(
            f" * Early stopping {pct}th percentile estimate: {sorted_latencies[est.estimate_index]}"
        )
    return lines


def multi_stream_text(sorted_query_latencies: Sequence[int], percentile: float = 0.99) -> list[str]:
    """Return the MultiStream ``Early Stopping Result:`` lines of the summary.

    Args:
        sorted_query_latencies: per-query latencies in ns (max over each query's samples),
            sorted ascending.
        percentile: ``multi_stream_target_latency_percentile`` (0.99).

    Returns:
        The lines without newlines.
    """
    return _stream_lines(sorted_query_latencies, percentile)[0]


def server_text(queries: int, overlatency: int, percentile: float = 0.99) -> list[str]:
    """Return the Server ``Early Stopping Result:`` lines of the summary.

    Args:
        queries: number of queries processed.
        overlatency: number of samples with latency strictly above the target.
        percentile: ``server_target_latency_percentile`` (0.99).

    Returns:
        ``[" * Run successful."]`` or the five lines of the unsuccessful variant.
    """
    res = server_early_stopping(queries, overlatency, percentile)
    if res.met:
        return [" * Run successful."]
    return [
        " * Run unsuccessful.",
        f" * Processed {queries} queries.",
        f" * Would need to run at least {res.queries_needed_more} more queries,",
        " with the run being successful if every additional",
        " query were under latency.",
    ]


def detail_text(lines: Sequence[str]) -> str:
    """Join summary lines into the ``early_stopping_result`` value of the detail log.

    LoadGen builds one newline-separated string and replaces each newline with a space.

    Args:
        lines: lines from one of the ``*_text`` helpers.

    Returns:
        The lines joined with single spaces.
    """
    return " ".join(lines)
