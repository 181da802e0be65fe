"""Tests of :mod:`loadgen.early_stopping` against vectors from the official LoadGen 6.0.17.

How the hard-coded vectors were produced: the official ``mlperf_loadgen`` 6.0.17 (PyPI
``mlcommons-loadgen``) was run in PerformanceOnly mode with an inline SUT (every query completed
inside ``IssueQuery``), ``min_duration_ms = 0`` and ``min_query_count = max_query_count = n``;
values were read from ``mlperf_log_summary.txt`` (the ``Early Stopping Result:`` block) and
``mlperf_log_detail.txt`` (``early_stopping_result``, ``result_query_count``,
``result_overlatency_query_count``); latencies from ``mlperf_log_trace.json``
(``complete_ns - issue_start_ns`` per sample; MultiStream: the max over a query's samples).

* ``OFFICIAL_H_*``: Server with ``server_target_latency_ns = 1``, so every sample is over latency
  (overlatency = n = t) and the summary says "Would need to run at least h(t) more queries".
* ``OFFICIAL_STEP_P90``: SingleStream (p = 0.90) runs at n = N - 1 and n = N; "Would discard"
  goes from t - 2 to t - 1 exactly at N = h(t) + t (for t = 1: "Only processed 63 queries").
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.early_stopping import (
    PercentileEstimate,
    ServerEarlyStopping,
    _log_odds,
    clear_cache,
    detail_text,
    format_percentile,
    min_passing_queries,
    multi_stream_text,
    percentile_estimate,
    server_early_stopping,
    server_text,
    single_stream_text,
)

# h(t) from official Server runs (all samples over latency): {t: h(t)}.
# fmt: off
OFFICIAL_H_P99: dict[int, int] = {
    1: 661, 2: 836, 3: 998, 4: 1153, 5: 1302, 6: 1447, 7: 1589, 8: 1728, 9: 1865, 10: 2000,
    11: 2133, 12: 2265, 13: 2396, 14: 2525, 15: 2654, 16: 2782, 17: 2908, 18: 3034, 19: 3160,
    20: 3284, 21: 3408, 22: 3532, 23: 3655, 24: 3777, 25: 3899, 26: 4021, 27: 4142, 28: 4263,
    29: 4383, 30: 4503, 31: 4623, 32: 4742, 33: 4861, 34: 4980, 35: 5098, 36: 5216, 37: 5334,
    38: 5452, 39: 5569, 40: 5687, 41: 5804, 42: 5920, 43: 6037, 44: 6153, 45: 6269, 46: 6385,
    47: 6501, 48: 6617, 49: 6732, 50: 6848, 51: 6963, 52: 7078, 53: 7193, 54: 7307, 55: 7422,
    56: 7536, 57: 7651, 58: 7765, 59: 7879, 60: 7993, 70: 9125, 80: 10248, 90: 11363, 100: 12471,
    110: 13574, 120: 14671, 130: 15765, 140: 16854, 150: 17940, 160: 19022, 170: 20102,
    180: 21180, 190: 22254, 200: 23327, 210: 24398, 220: 25467, 230: 26534, 240: 27599,
    250: 28663, 260: 29725, 270: 30786, 280: 31846, 290: 32904, 300: 33962, 1000: 106569,
    2171: 225963, 3118: 321855, 5000: 511615, 11590: 1172576, 13975: 1411136, 18111: 1824386,
    18729: 1886095,
}
OFFICIAL_H_P90: dict[int, int] = {
    1: 63, 2: 79, 3: 94, 4: 109, 5: 122, 6: 136, 7: 149, 8: 162, 9: 174, 10: 187, 11: 199,
    12: 211, 13: 223, 14: 235, 15: 247, 16: 259, 17: 270, 18: 282, 19: 293, 20: 305, 21: 316,
    22: 328, 23: 339, 24: 350, 25: 361, 26: 372, 27: 384, 28: 395, 29: 406, 30: 417, 31: 428,
    32: 439, 33: 449, 34: 460, 35: 471, 36: 482, 37: 493, 38: 504, 39: 514, 40: 525, 41: 536,
    42: 547, 43: 557, 44: 568, 45: 578, 46: 589, 47: 600, 48: 610, 49: 621, 50: 631, 51: 642,
    52: 652, 53: 663, 54: 673, 55: 684, 56: 694, 57: 705, 58: 715, 59: 726, 60: 736, 70: 840,
    80: 942, 90: 1044, 100: 1146, 110: 1246, 120: 1347, 130: 1446, 140: 1546, 150: 1645,
    160: 1744, 170: 1842, 180: 1941, 190: 2039, 200: 2137, 210: 2234, 220: 2332, 230: 2429,
    240: 2527, 250: 2624, 260: 2720, 270: 2817, 280: 2914, 290: 3010, 300: 3107, 2171: 20591,
    3118: 29319, 13905: 127772, 16425: 150677, 17451: 159999,
}
OFFICIAL_H_P999: dict[int, int] = {
    1: 6635, 2: 8401, 3: 10039, 10: 20130, 50: 69008, 200: 235227,
}


# {t: N} with N = h(t) + t at p = 0.90, from official SingleStream "Would discard" steps.
OFFICIAL_STEP_P90: dict[int, int] = {
    1: 64, 2: 81, 3: 97, 4: 113, 5: 127, 6: 142, 7: 156, 8: 170, 9: 183, 10: 197, 11: 210,
    12: 223, 13: 236, 14: 249, 15: 262, 16: 275, 17: 287, 18: 300, 19: 312, 20: 325, 21: 337,
    22: 350, 23: 362, 24: 374, 25: 386, 26: 398, 27: 411, 28: 423, 29: 435, 30: 447, 31: 459,
    32: 471, 33: 482, 34: 494, 35: 506, 36: 518, 37: 530, 38: 542, 39: 553, 40: 565, 41: 577,
    42: 589, 43: 600, 44: 612, 45: 623, 46: 635, 47: 647, 48: 658, 49: 670, 50: 681, 51: 693,
    52: 704, 53: 716, 54: 727, 55: 739, 56: 750, 57: 762, 58: 773, 59: 785, 60: 796, 119: 1456,
    120: 1467, 200: 2337, 300: 3407, 500: 5518, 1000: 10722, 2171: 22762,
}

# SingleStream n = 100 (p = 0.90), per-query latencies (ns) in issue order, from the trace.
OFFICIAL_SS_100 = [
    7113, 64862, 2924, 1466, 1228, 1163, 1210, 1088, 1190, 1247, 1164, 1255, 1136, 1172, 1075,
    1130, 1122, 1157, 1291, 1179, 1600, 1483, 1129, 1188, 1195, 1051, 1284, 1046, 1082, 1131,
    1076, 1150, 1199, 1059, 1068, 1070, 1051, 1020, 1090, 1069, 1131, 1040, 1043, 1122, 1122,
    1101, 1032, 1016, 1058, 1205, 1111, 1144, 1051, 1083, 1099, 1060, 1079, 1122, 1094, 1096,
    1126, 1170, 1053, 1165, 1046, 1050, 999, 1090, 1219, 1193, 1175, 1132, 1048, 1066, 1206, 1076,
    1235, 1147, 1233, 1129, 1123, 1103, 1023, 1094, 1067, 1057, 1100, 1229, 1076, 1091, 1033,
    1024, 1057, 1106, 988, 1107, 1105, 1092, 1049, 1017,
]
OFFICIAL_SS_100_LINES = [
    " * Processed at least 64 queries (100).",
    " * Would discard 2 highest latency queries.",
    " * Early stopping 90.0th percentile estimate: 2924",
    " * Not enough queries processed for 99.0th percentile",
    " early stopping estimate (would need to process at",
    " least 662 total queries).",
]
OFFICIAL_SS_100_DETAIL = (
    " * Processed at least 64 queries (100).  * Would discard 2 highest latency queries."
    "  * Early stopping 90.0th percentile estimate: 2924  * Not enough queries processed for"
    " 99.0th percentile  early stopping estimate (would need to process at  least 662 total"
    " queries)."
)

# MultiStream n = 64 with multi_stream_target_latency_percentile = 0.90, per-query latencies.
OFFICIAL_MS_64_P90 = [
    21877, 11168, 11181, 9790, 10347, 10432, 9612, 9432, 10942, 9773, 9468, 9491, 9213, 9381,
    9590, 10111, 9610, 9649, 9234, 9615, 9609, 9730, 10420, 9744, 9318, 9294, 9432, 10087, 9467,
    9365, 9854, 9827, 9940, 9605, 9355, 10224, 9657, 9466, 9452, 9380, 9431, 9890, 9379, 9401,
    9525, 9506, 9491, 10165, 9895, 9267, 9477, 9463, 9132, 9537, 9467, 9800, 9411, 9561, 9394,
    9313, 9397, 9430, 9956, 9444,
]
OFFICIAL_MS_64_P90_LINES = [
    " * Processed at least 64 queries (64).",
    " * Would discard 0 highest latency queries.",
    " * Early stopping 90.0th percentile estimate: 21877",
]

# fmt: on

SERVER_UNSUCCESSFUL_TAIL = [
    " with the run being successful if every additional",
    " query were under latency.",
]


def _exact_passes(h: int, t: int, p: Fraction, one_minus_c: Fraction) -> bool:
    """Exact ``P[Binomial(h + t, 1 - p) <= t] < 1 - c`` in integer arithmetic."""
    n = h + t
    num, den = p.numerator, p.denominator
    over = den - num
    term = num**n  # k = 0: C(n, 0) over^0 num^n
    total = term
    for k in range(t):
        term = term * (n - k) * over // ((k + 1) * num)
        total += term
    return bool(total * one_minus_c.denominator < one_minus_c.numerator * den**n)


# --------------------------------------------------------------------------- h(t)


@pytest.mark.parametrize(
    ("t", "percentile", "total"),
    [
        (0, 0.99, 459),
        (1, 0.99, 662),
        (10, 0.99, 2010),
        (100, 0.99, 12571),
        (1, 0.90, 64),
        (1, 0.999, 6636),
    ],
)
def test_min_passing_reference_values(t: int, percentile: float, total: int) -> None:
    assert min_passing_queries(t, percentile) + t == total


def test_min_passing_t0_is_closed_form() -> None:
    for p in (0.5, 0.9, 0.95, 0.99, 0.999):
        assert min_passing_queries(0, p) == math.ceil(math.log(0.01) / math.log(p))
    assert min_passing_queries(0, 0.90) == 44
    assert min_passing_queries(0, 0.999) == 4603


@pytest.mark.parametrize(
    ("percentile", "table"),
    [(0.99, OFFICIAL_H_P99), (0.90, OFFICIAL_H_P90), (0.999, OFFICIAL_H_P999)],
)
def test_min_passing_matches_official_server_runs(percentile: float, table: dict[int, int]) -> None:
    for t, h in table.items():
        assert min_passing_queries(t, percentile) == h, t


def test_known_divergence_from_official_at_p99_t8550() -> None:
    # The official Server run with 8550 samples, all over latency, says "Would need to run at
    # least 868100 more queries". odds(868100, 8550) exceeds 0.01 by ~3e-9 (relative): exact
    # integer arithmetic (same as _exact_passes, ~30 s, run once offline) says 868100 fails and
    # 868101 passes. We return the mathematically exact value.
    assert min_passing_queries(8550, 0.99) == 868101


@pytest.mark.parametrize("p", [Fraction(9, 10), Fraction(99, 100), Fraction(19, 20)])
def test_min_passing_matches_exact_arithmetic(p: Fraction) -> None:
    c = Fraction(1, 100)
    for t in [*range(26), 40, 64]:
        h = min_passing_queries(t, float(p))
        assert _exact_passes(h, t, p, c), t
        assert not _exact_passes(h - 1, t, p, c), t


def test_min_passing_confidence_and_tolerance() -> None:
    # 1 - c = 0.05: h(0) = ceil(log 0.05 / log 0.9) = 29.
    assert min_passing_queries(0, 0.90, confidence=0.95) == 29
    # With a tolerance the criterion is the one of percentile p - d.
    assert min_passing_queries(5, 0.99, tolerance=0.09) == min_passing_queries(5, 0.90)
    lower_conf = min_passing_queries(10, 0.99, confidence=0.9)
    assert lower_conf < min_passing_queries(10, 0.99)


@pytest.mark.parametrize(
    ("t", "percentile", "confidence", "tolerance"),
    [
        (-1, 0.9, 0.99, 0.0),
        (1, 0.0, 0.99, 0.0),
        (1, 1.0, 0.99, 0.0),
        (1, 0.9, 1.0, 0.0),
        (1, 0.9, 0.0, 0.0),
        (1, 0.9, 0.99, -0.1),
        (1, 0.9, 0.99, 0.9),
    ],
)
def test_min_passing_rejects_bad_arguments(
    t: int, percentile: float, confidence: float, tolerance: float
) -> None:
    with pytest.raises(ValueError):
        min_passing_queries(t, percentile, confidence, tolerance)


def test_log_odds_never_nan() -> None:
    for x in (0.5, 0.9, 0.99, 0.999, 0.999999):
        for h in (0, 1, 2, 10, 10**3, 10**6, 10**8):
            for t in (0, 1, 5, 10**3, 10**6):
                v = _log_odds(h, t, x)
                assert not math.isnan(v), (h, t, x)
                assert v <= 0.0


# --------------------------------------------------------------------------- SingleStream / MS


@pytest.mark.parametrize(
    ("n", "t"),
    [(64, 1), (100, 3), (662, 48), (1000, 78), (4129, 368), (4400, 393), (10000, 930)],
)
def test_percentile_estimate_reference_values(n: int, t: int) -> None:
    est = percentile_estimate(n, 0.90)
    assert est == PercentileEstimate(
        met=True, queries_needed=64, discarded=t - 1, estimate_index=n - t
    )


def test_percentile_estimate_not_enough_queries() -> None:
    assert percentile_estimate(63, 0.90) == PercentileEstimate(False, 64, 0, None)
    assert percentile_estimate(0, 0.90) == PercentileEstimate(False, 64, 0, None)
    assert percentile_estimate(661, 0.99) == PercentileEstimate(False, 662, 0, None)
    assert percentile_estimate(662, 0.99) == PercentileEstimate(True, 662, 0, 661)
    assert percentile_estimate(6635, 0.999) == PercentileEstimate(False, 6636, 0, None)
    assert percentile_estimate(6636, 0.999) == PercentileEstimate(True, 6636, 0, 6635)
    with pytest.raises(ValueError):
        percentile_estimate(-1, 0.9)


def test_percentile_estimate_official_steps_p90() -> None:
    for t, n_step in OFFICIAL_STEP_P90.items():
        before = percentile_estimate(n_step - 1, 0.90)
        at = percentile_estimate(n_step, 0.90)
        assert at.discarded == t - 1, n_step
        assert at.estimate_index == n_step - t
        if t == 1:
            assert not before.met
        else:
            assert before.discarded == t - 2, n_step


@pytest.mark.parametrize(
    ("percentile", "steps"),
    # Official SingleStream runs at N - 1 and N for t = 1, 2, 3, 10.
    [
        (0.5, {1: 11, 2: 14, 3: 17, 10: 35}),
        (0.95, {1: 130, 2: 165, 3: 198, 10: 398}),
        (0.99, {1: 662, 2: 838, 3: 1001, 10: 2010}),
        (0.999, {1: 6636, 2: 8403, 3: 10042, 10: 20140}),
    ],
)
def test_percentile_estimate_official_steps_other_percentiles(
    percentile: float, steps: dict[int, int]
) -> None:
    for t, n_step in steps.items():
        assert percentile_estimate(n_step, percentile).discarded == t - 1
        before = percentile_estimate(n_step - 1, percentile)
        assert before.met == (t > 1)
        assert before.discarded == max(t - 2, 0)


def test_percentile_estimate_for_ten_million() -> None:
    # speed is measured in benchmarks/, never asserted here
    clear_cache()
    results = [percentile_estimate(10_000_000, p) for p in (0.90, 0.99, 0.999)]
    for est, p in zip(results, (0.90, 0.99, 0.999), strict=True):
        assert est.met
        t = est.discarded + 1
        assert min_passing_queries(t, p) + t <= 10_000_000 < min_passing_queries(t + 1, p) + t + 1
    assert results[0].discarded == 997792


# --------------------------------------------------------------------------- Server


def test_server_early_stopping_values() -> None:
    assert server_early_stopping(2010, 10, 0.99) == ServerEarlyStopping(True, 2010, 10, 0)
    assert server_early_stopping(2009, 10, 0.99) == ServerEarlyStopping(False, 2009, 10, 1)
    assert server_early_stopping(1000, 20, 0.99) == ServerEarlyStopping(False, 1000, 20, 2304)
    assert server_early_stopping(0, 0, 0.99) == ServerEarlyStopping(False, 0, 0, 459)
    with pytest.raises(ValueError):
        server_early_stopping(-1, 0, 0.99)


@pytest.mark.parametrize(
    ("n", "t", "percentile", "more"),
    # Official Server runs; more = 0 means " * Run successful.".
    # t = 0: server_target_latency_ns = 10 s. t > 0 (p = 0.99): latency bound 2 ms, every k-th
    # query completed 5 ms late from a timer thread.
    [
        (1, 0, 0.99, 458),
        (458, 0, 0.99, 1),
        (459, 0, 0.99, 0),
        (43, 0, 0.90, 1),
        (44, 0, 0.90, 0),
        (460, 0, 0.999, 4143),
        (4603, 0, 0.999, 0),
        (1000, 20, 0.99, 2304),
        (3000, 30, 0.99, 1533),
        (13000, 100, 0.99, 0),
        (700, 1, 0.99, 0),
        (2010, 10, 0.99, 0),
    ],
)
def test_server_text_matches_official(n: int, t: int, percentile: float, more: int) -> None:
    lines = server_text(n, t, percentile)
    if more == 0:
        assert lines == [" * Run successful."]
        assert detail_text(lines) == " * Run successful."
    else:
        assert lines == [
            " * Run unsuccessful.",
            f" * Processed {n} queries.",
            f" * Would need to run at least {more} more queries,",
            *SERVER_UNSUCCESSFUL_TAIL,
        ]
        assert detail_text(lines) == (
            f" * Run unsuccessful.  * Processed {n} queries.  * Would need to run at least"
            f" {more} more queries,  with the run being successful if every additional  query"
            " were under latency."
        )


# --------------------------------------------------------------------------- texts


def test_format_percentile() -> None:
    assert format_percentile(0.9) == "90.0"
    assert format_percentile(0.99) == "99.0"
    assert format_percentile(0.999) == "99.9"
    assert format_percentile(0.5) == "50.0"


def test_single_stream_text_official_run() -> None:
    lines = single_stream_text(sorted(OFFICIAL_SS_100))
    assert lines == OFFICIAL_SS_100_LINES
    assert detail_text(lines) == OFFICIAL_SS_100_DETAIL


def test_single_stream_text_not_enough() -> None:
    assert single_stream_text(list(range(63))) == [
        " * Only processed 63 queries.",
        " * Need to process at least 64 queries for early stopping.",
    ]
    assert single_stream_text([]) == [
        " * Only processed 0 queries.",
        " * Need to process at least 64 queries for early stopping.",
    ]


def test_single_stream_text_with_99th_estimate() -> None:
    # Layout of the official n = 4400 run (discard 392 at p = 0.90, 27 at p = 0.99, checked
    # against its trace); with latencies 0..n-1 each estimate is its index.
    lat = list(range(4400))
    assert single_stream_text(lat) == [
        " * Processed at least 64 queries (4400).",
        " * Would discard 392 highest latency queries.",
        " * Early stopping 90.0th percentile estimate: 4007",
        " * Early stopping 99.0th percentile estimate: 4372",
    ]
    # Official n = 662: "Would discard 47", and the 99th estimate is the maximum (t = 1).
    lines = single_stream_text(list(range(662)))
    assert lines[1] == " * Would discard 47 highest latency queries."
    assert lines[3] == " * Early stopping 99.0th percentile estimate: 661"


def test_multi_stream_text_official_run() -> None:
    assert multi_stream_text(sorted(OFFICIAL_MS_64_P90), 0.90) == OFFICIAL_MS_64_P90_LINES


def test_multi_stream_text_layouts() -> None:
    assert multi_stream_text(list(range(661))) == [
        " * Only processed 661 queries.",
        " * Need to process at least 662 queries for early stopping.",
    ]
    # Official: n = 1000 discards 1, n = 2010 discards 9 (p = 0.99).
    assert multi_stream_text(list(range(1000)))[1:] == [
        " * Would discard 1 highest latency queries.",
        " * Early stopping 99.0th percentile estimate: 998",
    ]
    assert multi_stream_text(list(range(2010)))[0] == " * Processed at least 662 queries (2010)."
    assert multi_stream_text(list(range(2010)))[1] == " * Would discard 9 highest latency queries."
    # Official n = 6636 at p = 0.999.
    assert multi_stream_text(list(range(6636)), 0.999) == [
        " * Processed at least 6636 queries (6636).",
        " * Would discard 0 highest latency queries.",
        " * Early stopping 99.9th percentile estimate: 6635",
    ]


# --------------------------------------------------------------------------- properties

_percentiles = st.one_of(
    st.sampled_from([0.5, 0.75, 0.9, 0.95, 0.99, 0.999]),
    st.floats(min_value=0.5, max_value=0.999),
)


@settings(max_examples=150, deadline=None)
@given(t=st.integers(min_value=0, max_value=3000), p=_percentiles)
def test_property_h_plus_t_strictly_increasing(t: int, p: float) -> None:
    h0 = min_passing_queries(t, p)
    h1 = min_passing_queries(t + 1, p)
    assert h1 >= h0
    assert h1 + t + 1 > h0 + t
    assert h0 >= 1


@settings(max_examples=150, deadline=None)
@given(n=st.integers(min_value=0, max_value=2_000_000), p=_percentiles)
def test_property_estimate_index_in_range(n: int, p: float) -> None:
    est = percentile_estimate(n, p)
    assert est.queries_needed == min_passing_queries(1, p) + 1
    if not est.met:
        assert n < est.queries_needed
        assert est.estimate_index is None
        return
    assert est.estimate_index is not None
    assert 0 <= est.estimate_index <= n - 1
    t = est.discarded + 1
    assert est.estimate_index == n - t
    assert min_passing_queries(t, p) + t <= n < min_passing_queries(t + 1, p) + t + 1
    nxt = percentile_estimate(n + 1, p)
    assert est.discarded <= nxt.discarded <= est.discarded + 1


@settings(max_examples=100, deadline=None)
@given(n=st.integers(min_value=0, max_value=100_000), t=st.integers(min_value=0, max_value=2000))
def test_property_server_consistent(n: int, t: int) -> None:
    res = server_early_stopping(n, t, 0.99)
    required = min_passing_queries(t, 0.99) + t
    assert res.met == (n >= required)
    assert res.queries_needed_more == max(0, required - n)
    lines = server_text(n, t, 0.99)
    assert len(lines) == (1 if res.met else 5)


# --------------------------------------------------------------------------- live official

_OFFICIAL_SCRIPT = r"""
import json, os, sys
import mlperf_loadgen as lg

def issue(samples):
    lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(1024, 1024, lambda idx: None, lambda idx: None)
out = []
jobs = [("SingleStream", 700, 0.0, 1, True), ("MultiStream", 1000, 0.0, 1, True),
        ("Server", 300, 0.99, 1, False), ("Server", 458, 0.99, 10**10, False),
        ("Server", 50, 0.9, 1, False)]
for k, (scenario, n, pct, lat_ns, trace) in enumerate(jobs):
    d = os.path.join(sys.argv[1], f"run{k}")
    os.makedirs(d)
    s = lg.TestSettings()
    s.scenario = getattr(lg.TestScenario, scenario)
    s.mode = lg.TestMode.PerformanceOnly
    s.min_duration_ms = 0
    s.min_query_count = s.max_query_count = n
    s.server_target_qps = 100000.0
    s.server_target_latency_ns = lat_ns
    if pct:
        s.server_target_latency_percentile = pct
    s.single_stream_expected_latency_ns = s.multi_stream_expected_latency_ns = 100000
    ls = lg.LogSettings()
    ls.log_output.outdir = d
    ls.enable_trace = trace
    lg.StartTestWithLogSettings(sut, qsl, s, ls)
    summary = open(os.path.join(d, "mlperf_log_summary.txt")).read()
    block = summary.split("Early Stopping Result:\n", 1)[1].split("\n\n====", 1)[0]
    detail = {}
    for line in open(os.path.join(d, "mlperf_log_detail.txt")):
        if line.startswith(":::MLLOG ") and ('"early_stopping_result"' in line
                                           or '"result_overlatency_query_count"' in line
                                           or '"result_query_count"' in line):
            m = json.loads(line[9:])
            detail.setdefault(m["key"], m["value"])
    lat = {}
    if trace:
        for line in open(os.path.join(d, "mlperf_log_trace.json")):
            if '"name":"Sample"' in line and '"ph":"b"' in line:
                a = json.loads(line.strip().rstrip(","))["args"]
                q = a["query_seq"]
                lat[q] = max(lat.get(q, 0), a["complete_ns"] - a["issue_start_ns"])
    out.append({"scenario": scenario, "pct": pct, "lines": block.split("\n"), "detail": detail,
                "latencies": sorted(lat.values())})
lg.DestroyQSL(qsl)
lg.DestroySUT(sut)
print(json.dumps(out))
"""


@pytest.mark.official
def test_live_against_official_loadgen(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    proc = subprocess.run(
        [sys.executable, "-c", _OFFICIAL_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    )
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(runs) == 5
    for run in runs:
        detail = run["detail"]
        n = detail["result_query_count"]
        if run["scenario"] == "SingleStream":
            assert n == len(run["latencies"]) == 700
            ours = single_stream_text(run["latencies"])
        elif run["scenario"] == "MultiStream":
            assert n == len(run["latencies"]) == 1000
            ours = multi_stream_text(run["latencies"])
        else:
            ours = server_text(n, detail["result_overlatency_query_count"], run["pct"])
        assert ours == run["lines"]
        assert detail_text(ours) == detail["early_stopping_result"]
