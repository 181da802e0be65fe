"""Tests for loadgen.rng: bit-exact std::mt19937 / libstdc++ streams as the official LoadGen uses.

Two kinds of known-good vectors are hard-coded below:

* OFFICIAL: read from the logs of the official ``mlperf_loadgen`` 6.0.17 wheel (GCC 14.2 build),
  run in a subprocess with an inline SUT that completes every query inside ``IssueQuery``, a
  ``ConstructQSL(total, perf, ...)`` QSL, ``LogSettings.enable_trace = True`` and the
  TestSettings noted next to each vector: ``loaded_qsl_set`` (and ``generated_query_*``) from
  ``mlperf_log_detail.txt``; per-sample ``sample_idx`` and the scheduled ``ts`` (µs with ns
  resolution) of the ``"Sample"`` begin events of ``mlperf_log_trace.json``, ordered by
  ``sample_seq``; ``seq_id`` values of ``mlperf_log_accuracy.json``.
  All runs use the official seeds ``qsl_rng_seed = 2085463073848966840``,
  ``sample_index_rng_seed = 2747215439041700203``, ``schedule_rng_seed = 16159082839903944936``
  (performance mode unless stated).
* GCC: printed by a small C++17 program compiled with GCC 12.2 against libstdc++ (the same
  ``<random>`` / ``std::shuffle`` algorithms as the GCC 14 build of the wheel).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from loadgen import rng

QSL_SEED = 2085463073848966840
SAMPLE_SEED = 2747215439041700203
SCHEDULE_SEED = 16159082839903944936


def _sha(values: list[int]) -> str:
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# Raw engine
# --------------------------------------------------------------------------------------------


def test_mt19937_standard_vectors() -> None:
    # C++ [rand.predef]: the 10000th output of a default-constructed std::mt19937 is 4123659995.
    engine = rng.Mt19937(rng.MT19937_DEFAULT_SEED)
    assert engine.take(3).tolist() == [3499211612, 581869302, 3890346734]  # GCC
    engine.skip(9996)
    assert engine.next_u32() == 4123659995
    assert engine.consumed == 10000


def test_mt19937_seed_truncated_to_32_bits() -> None:
    # GCC: std::mt19937(2085463073848966840) first outputs.
    expected = [144363858, 3947231266, 1102009372, 2040961771, 2791321498]
    assert rng.Mt19937(QSL_SEED).take(5).tolist() == expected
    assert rng.Mt19937(QSL_SEED & 0xFFFFFFFF).take(5).tolist() == expected
    assert rng.Mt19937(2**64 - 1).take(4).tolist() == rng.Mt19937(2**32 - 1).take(4).tolist()


def test_mt19937_seed_range() -> None:
    with pytest.raises(ValueError):
        rng.Mt19937(-1)
    with pytest.raises(ValueError):
        rng.Mt19937(2**64)


def test_mt19937_peek_skip_take_consistent() -> None:
    reference = rng.Mt19937(99).take(300_000)
    engine = rng.Mt19937(99)
    assert np.array_equal(engine.peek(10), reference[:10])
    assert engine.consumed == 0
    assert engine.next_u32() == int(reference[0])
    engine.skip(5)
    assert np.array_equal(engine.take(70_000), reference[6:70_006])
    engine.skip(200_000)  # beyond the buffer
    assert np.array_equal(engine.take(10), reference[270_006:270_016])
    assert engine.consumed == 270_016
    with pytest.raises(ValueError):
        engine.skip(-1)


# --------------------------------------------------------------------------------------------
# libstdc++ distributions (GCC vectors)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("upper", "expected", "next_raw"),
    [
        (3, [1, 2, 2, 0, 2, 2, 1, 1, 0, 1, 0, 0], 249467210),
        (700, [262, 557, 665, 128, 512, 545, 419, 417, 109, 312, 109, 69], 249467210),
        (
            2**31 + 1,  # ~50 % rejection: the engine position after the draws differs
            [
                2041643438, 1571945013, 1285609310, 1281725962, 957418556, 306804147,
                1397772353, 44204874, 455994770, 1672384, 390466143, 1326031440,
            ],
            1306710475,
        ),
        (
            2**32 - 1,
            [
                1608637541, 3421126066, 4083286875, 787846413, 3143890025, 3348747334,
                2571218619, 2563451923, 670094949, 1914837112, 669991377, 429389013,
            ],
            249467210,
        ),
    ],
)  # fmt: skip
def test_uniform_int_matches_libstdcxx(upper: int, expected: list[int], next_raw: int) -> None:
    # GCC: std::uniform_int_distribution<unsigned long>(0, upper - 1) on std::mt19937(42),
    # 12 draws, then one raw engine() call.
    engine = rng.Mt19937(42)
    assert rng.uniform_int(engine, 12, upper).tolist() == expected
    assert engine.next_u32() == next_raw


def test_uniform_int_edge_bounds() -> None:
    raw = rng.Mt19937(5).take(20)
    engine = rng.Mt19937(5)
    assert rng.uniform_int(engine, 10, 2**32).tolist() == raw[:10].tolist()
    ones = rng.uniform_int(engine, 10, 1)  # uniform(0, 0) still consumes one draw each
    assert ones.tolist() == [0] * 10 and engine.consumed == 20
    assert rng.uniform_int(engine, 0, 7).size == 0
    with pytest.raises(ValueError):
        rng.uniform_int(engine, 1, 0)
    with pytest.raises(ValueError):
        rng.uniform_int(engine, 1, 2**32 + 1)


def test_uniform_int_vectorised_equals_scalar() -> None:
    # The vectorised rejection bookkeeping must agree with the scalar Lemire loop.
    for upper in (2, 1000, 3 * 2**30, 2**31 + 1, 2**32 - 5):
        a = rng.Mt19937(upper)
        vec = rng.uniform_int(a, 5000, upper).tolist()
        b = rng.Mt19937(upper)
        draw = rng._ScalarDraws(b)
        scalar = [rng._bounded(draw, upper) for _ in range(5000)]
        draw.close()
        assert vec == scalar
        assert a.consumed == b.consumed


@pytest.mark.parametrize(
    ("seed", "n", "head", "digest", "next_raw"),
    [
        # n > 65535: textbook one-draw-per-element loop.
        (7, 70001, [68737, 37819, 55518, 21721, 46481, 40530],
         "1fd005b04b4d22385ecde4156fb17ec8af2a5f12648e7e14cf416ec088f171ad", 3484426192),
        # n = 65535 (odd): largest size using the two-positions-per-draw shortcut.
        (9, 65535, [56339, 37136, 18050, 63398, 64731, 26927],
         "1d194ebd0b47ed281071ca9199b7d3810f37adffd35c1803ef3f8956f0e46eb4", 1575741144),
        # n = 65536: just past the shortcut.
        (11, 65536, [10036, 52771, 23320, 51572, 25593, 27572],
         "abf1fb530db93869dcd9feb54cf2bc64a82e4fb0b32ecd365f24c05b252c1c5f", 3939270564),
    ],
)  # fmt: skip
def test_shuffle_matches_libstdcxx(
    seed: int, n: int, head: list[int], digest: str, next_raw: int
) -> None:
    # GCC: std::shuffle of std::vector<size_t> 0..n-1 with std::mt19937(seed), then engine().
    engine = rng.Mt19937(seed)
    values = list(range(n))
    rng.shuffle(engine, values)
    assert values[:6] == head
    assert _sha(values) == digest
    assert engine.next_u32() == next_raw


def test_shuffle_small_sizes() -> None:
    # GCC: std::shuffle of 0..7 with std::mt19937(1), then engine().
    engine = rng.Mt19937(1)
    values = list(range(8))
    rng.shuffle(engine, values)
    assert values == [1, 0, 2, 5, 7, 4, 6, 3]
    assert engine.next_u32() == 491263
    for n in range(5):
        v = list(range(n))
        rng.shuffle(rng.Mt19937(3), v)
        assert sorted(v) == list(range(n))


def test_generate_canonical_matches_libstdcxx() -> None:
    # GCC: std::uniform_real_distribution<double>(0, 1) on a default std::mt19937, printed "%a".
    expected = [
        float.fromhex("0x1.1574f7b6848dep-3"),
        float.fromhex("0x1.ab863ef3cfc3fp-1"),
        float.fromhex("0x1.f00f6fbe41047p-1"),
    ]
    assert rng.accuracy_log_values(rng.MT19937_DEFAULT_SEED, 3).tolist() == expected
    engine = rng.Mt19937(1)
    rng.generate_canonical(engine, 5)
    assert engine.consumed == 10


def test_exponential_schedule_matches_libstdcxx() -> None:
    # GCC: t += duration_cast<nanoseconds>(duration<double>(exponential_distribution<>(0.5)(g)))
    # with g = std::mt19937(5), printing t before each step.
    expected = [
        0, 113521947, 3673118608, 4577404837, 12346706743, 12534934809, 13545737554, 14420076527,
    ]  # fmt: skip
    assert rng.exponential_schedule_ns(5, 8, 0.5).tolist() == expected


@pytest.mark.parametrize("rate", [0.5, 3.3, 1000.0, 123456.7])
def test_exponential_gaps_equal_glibc_scalar(rate: float) -> None:
    # numpy's SIMD log may differ from glibc's by an ulp; the guarded truncation must make the
    # vectorised result identical to the scalar C++ expression evaluated with math.log (glibc).
    engine = rng.Mt19937(17)
    canon = rng.generate_canonical(rng.Mt19937(17), 200_000)
    vec = rng.exponential_gaps_ns(engine, 200_000, rate)
    scalar = [int(-math.log(1.0 - c) / rate * 1e9) for c in canon.tolist()]
    assert vec.tolist() == scalar


def test_exponential_gaps_statistics() -> None:
    rate = 1000.0
    gaps = rng.exponential_gaps_ns(rng.Mt19937(SCHEDULE_SEED), 100_000, rate)
    mean_s = float(gaps.mean()) / 1e9
    assert abs(mean_s - 1.0 / rate) < 0.02 / rate
    assert abs(float(gaps.std()) / 1e9 - 1.0 / rate) < 0.03 / rate
    assert int(gaps.min()) >= 0


def test_uniform_int_statistics() -> None:
    draws = rng.sample_indices(SAMPLE_SEED, 200_000, 10)
    counts = np.bincount(draws, minlength=10)
    chi2 = float(((counts - 20_000) ** 2 / 20_000).sum())
    assert chi2 < 30.0  # 9 dof; p ~ 4e-4
    assert int(draws.min()) == 0 and int(draws.max()) == 9


def test_sample_indices_is_fast() -> None:
    rng.sample_indices(1, 1000, 1024)  # warm-up
    start = time.perf_counter()
    out = rng.sample_indices(1, 1_000_000, 1024)
    assert time.perf_counter() - start < 1.0
    assert out.dtype == np.int64 and out.size == 1_000_000


def test_fixed_period_ns() -> None:
    assert rng.fixed_period_ns(1000.0) == 1_000_000
    assert rng.fixed_period_ns(500.0) == 2_000_000
    assert rng.fixed_period_ns(3.0) == 333_333_333
    with pytest.raises(ValueError):
        rng.fixed_period_ns(0.0)


# --------------------------------------------------------------------------------------------
# LoadGen streams (OFFICIAL vectors)
# --------------------------------------------------------------------------------------------

# ConstructQSL(1024, 1024): loaded_qsl_set of every performance run below.
LOADED_1024_HEAD = [
    216, 267, 822, 906, 663, 580, 710, 908, 410, 882, 910, 801, 676, 877, 868, 478,
    153, 561, 562, 372, 276, 772, 320, 460, 481, 368, 778, 107, 111, 480, 993, 668,
]  # fmt: skip
LOADED_1024_TAIL = [529, 827, 907, 322, 511, 705, 531, 834]
LOADED_1024_SHA = "916fab815c778f8a957909db80dfdda6c95b2af1b2ef751f0204628a37202a68"


def test_loadable_sets_official_1024() -> None:
    sets = rng.loadable_sets(QSL_SEED, 1024, 1024)
    assert len(sets) == 1
    assert sets[0][:32] == LOADED_1024_HEAD
    assert sets[0][-8:] == LOADED_1024_TAIL
    assert _sha(sets[0]) == LOADED_1024_SHA


def test_loadable_sets_official_counts() -> None:
    # ConstructQSL(2000, 500), SingleStream: only 0..499 are shuffled in performance mode.
    assert rng.loadable_sets(QSL_SEED, 500, 500)[0][:16] == [
        216, 267, 112, 232, 498, 360, 58, 250, 410, 196, 182, 326, 415, 466, 451, 478,
    ]  # fmt: skip
    # ConstructQSL(3000, 1000) with performance_sample_count_override = 700.
    assert rng.loadable_sets(QSL_SEED, 700, 700)[0][:12] == [
        216, 267, 112, 698, 663, 580, 58, 250, 410, 196, 660, 326,
    ]  # fmt: skip
    # AccuracyOnly, ConstructQSL(250, 100): sets of 100, 100, 50 over all 250 samples.
    sets = rng.loadable_sets(QSL_SEED, 250, 100)
    assert [len(s) for s in sets] == [100, 100, 50]
    assert [s[:8] for s in sets] == [
        [216, 188, 112, 232, 230, 37, 58, 70],
        [47, 241, 116, 249, 103, 6, 238, 32],
        [13, 180, 17, 115, 189, 136, 160, 181],
    ]
    # AccuracyOnly, ConstructQSL(250, 100), accuracy_sample_count_override = 180.
    sets = rng.loadable_sets(QSL_SEED, 180, 100)
    assert [len(s) for s in sets] == [100, 80]
    assert [s[:6] for s in sets] == [[1, 5, 112, 155, 11, 37], [47, 84, 116, 77, 103, 6]]


def test_loadable_sets_multistream_padding() -> None:
    # MultiStream, samples_per_query 8: loaded_qsl_set has 1031 entries.
    sets = rng.loadable_sets(QSL_SEED, 1024, 1024, padding=7)
    assert len(sets[0]) == 1031
    assert sets[0][-9:] == [531, 834, 216, 267, 822, 906, 663, 580, 710]


def _qsl_indices(loaded: list[int], positions: np.ndarray) -> list[int]:
    return [loaded[p] for p in positions.tolist()]


def test_singlestream_sample_indices_official() -> None:
    # SingleStream, min_duration_ms 200, min_query_count 50, expected latency 1 ms:
    # sample_idx of the 401 issued queries (first 40 shown).
    official = [
        784, 618, 960, 248, 513, 635, 155, 667, 431, 242, 804, 751, 434, 156, 303, 782,
        968, 272, 698, 74, 357, 628, 409, 420, 569, 127, 589, 212, 944, 193, 316, 529,
        662, 337, 616, 964, 9, 364, 972, 704,
    ]  # fmt: skip
    loaded = rng.loadable_sets(QSL_SEED, 1024, 1024)[0]
    draws = rng.performance_sample_draws(SAMPLE_SEED, 40, 1024, min_queries=50)
    assert _qsl_indices(loaded, draws) == official
    # The two prelude shuffles matter: a fresh engine gives different samples.
    assert _qsl_indices(loaded, rng.sample_indices(SAMPLE_SEED, 40, 1024)) != official
    # Server (min_query_count 100, i.e. the same single equal-issue shuffle) issues the same.


def test_singlestream_equal_issue_prelude_official() -> None:
    # SingleStream, min_duration_ms 100, min_query_count 2500: three equal-issue shuffles.
    official = [179, 917, 875, 105, 96, 907, 327, 598, 600, 275, 612, 772, 837, 140, 574, 31]
    loaded = rng.loadable_sets(QSL_SEED, 1024, 1024)[0]
    draws = rng.performance_sample_draws(SAMPLE_SEED, 16, 1024, min_queries=2500)
    assert _qsl_indices(loaded, draws) == official


def test_singlestream_smaller_sets_official() -> None:
    # ConstructQSL(2000, 500), SingleStream, min_query_count 50.
    loaded = rng.loadable_sets(QSL_SEED, 500, 500)[0]
    draws = rng.performance_sample_draws(SAMPLE_SEED, 16, 500, min_queries=50)
    assert _qsl_indices(loaded, draws) == [
        225, 100, 116, 18, 68, 392, 256, 13, 42, 195, 87, 230, 212, 440, 208, 166,
    ]  # fmt: skip
    # ConstructQSL(3000, 1000), performance_sample_count_override 700, min_query_count 10.
    loaded = rng.loadable_sets(QSL_SEED, 700, 700)[0]
    draws = rng.performance_sample_draws(SAMPLE_SEED, 12, 700, min_queries=10)
    assert _qsl_indices(loaded, draws) == [95, 629, 583, 474, 270, 382, 294, 7, 148, 141, 582, 104]


def test_multistream_queries_official() -> None:
    # MultiStream, samples_per_query 8, min_query_count 60, min_duration_ms 100.
    loaded = rng.loadable_sets(QSL_SEED, 1024, 1024, padding=7)[0]
    starts = rng.performance_sample_draws(
        SAMPLE_SEED, 16, 1024, loaded_set_size=1031, stride=8, min_queries=60
    ).tolist()
    queries = [loaded[s : s + 8] for s in starts]
    assert queries[:3] == [
        [678, 266, 573, 278, 241, 816, 958, 576],
        [935, 222, 123, 954, 24, 488, 1008, 889],
        [80, 581, 609, 528, 348, 321, 483, 35],
    ]
    assert [q[0] for q in queries] == [
        678, 935, 80, 546, 95, 33, 679, 183, 305, 319, 1016, 121, 653, 85, 488, 845,
    ]  # fmt: skip


def test_server_schedule_official() -> None:
    # Server, server_target_qps 2000, min_duration_ms 300, min_query_count 100: scheduled times
    # (Sample ts minus the first one), generated_query_count 601, generated_query_duration
    # 300076806, last scheduled time 300074093.
    official = [
        0, 921827, 1150788, 1793719, 2150216, 2343419, 3467589, 4013378, 4064251, 4794924,
        4955610, 5727341, 5911099, 6079709, 6158640, 6263550, 6996731, 7503258, 7870380,
        8022539, 10033076, 10370654, 10982909, 11365347,
    ]  # fmt: skip
    assert rng.exponential_schedule_ns(SCHEDULE_SEED, 24, 2000.0).tolist() == official
    times, duration = rng.server_schedule_ns(
        SCHEDULE_SEED, 2000.0, gen_duration_ns=300_000_000, min_queries=100
    )
    assert times.size == 601 and duration == 300076806 and int(times[-1]) == 300074093
    assert times[:24].tolist() == official
    # Server, 3000 qps, min_duration_ms 50, min_query_count 300: the count dominates.
    times, duration = rng.server_schedule_ns(
        SCHEDULE_SEED, 3000.0, gen_duration_ns=50_000_000, min_queries=300
    )
    assert times.size == 300 and duration == 101970424 and int(times[-1]) == 101681788


def test_server_schedule_edge_cases() -> None:
    times, duration = rng.server_schedule_ns(1, 10.0, gen_duration_ns=0, min_queries=0)
    assert times.size == 0 and duration == 0
    times, duration = rng.server_schedule_ns(1, 10.0, gen_duration_ns=0, min_queries=5)
    full = rng.exponential_schedule_ns(1, 6, 10.0)
    assert times.tolist() == full[:5].tolist() and duration == int(full[5])
    # Chunk boundaries do not change the result.
    times, duration = rng.server_schedule_ns(3, 100.0, gen_duration_ns=0, min_queries=5000)
    full = rng.exponential_schedule_ns(3, 5001, 100.0)
    assert times.tolist() == full[:5000].tolist() and duration == int(full[5000])
    assert rng.exponential_schedule_ns(1, 0, 1.0).size == 0
    assert rng.exponential_schedule_ns(1, 1, 1.0).tolist() == [0]


def test_accuracy_mode_order_official() -> None:
    # AccuracyOnly SingleStream, ConstructQSL(250, 100): issue order (first 20 of set 0 and the
    # first 10 of set 1); the engine is re-seeded for every set.
    sets = rng.loadable_sets(QSL_SEED, 250, 100)
    issued = [s[p] for s in sets for p in rng.accuracy_sample_order(SAMPLE_SEED, len(s))]
    assert issued[:20] == [
        227, 95, 69, 165, 119, 121, 230, 202, 215, 129, 211, 182, 73, 224, 148, 245, 86, 114,
        175, 93,
    ]  # fmt: skip
    assert issued[100:110] == [117, 233, 130, 207, 246, 217, 103, 206, 20, 50]


def test_performance_issue_unique_official() -> None:
    # SingleStream, ConstructQSL(300, 300), performance_issue_unique: 300 queries.
    loaded = rng.loadable_sets(QSL_SEED, 300, 300)[0]
    order = [loaded[p] for p in rng.accuracy_sample_order(SAMPLE_SEED, 300)]
    assert order[:16] == [
        227, 81, 285, 187, 119, 30, 180, 255, 145, 129, 184, 85, 278, 268, 193, 245,
    ]  # fmt: skip
    assert sorted(order) == list(range(300))


def test_equal_issue_official() -> None:
    # SingleStream, ConstructQSL(300, 300), sample_concatenate_permutation, min_query_count 500:
    # 600 queries; first 16 and queries 300..307.
    loaded = rng.loadable_sets(QSL_SEED, 300, 300)[0]
    positions = rng.equal_issue_positions(SAMPLE_SEED, 300, 500)
    assert positions.size == 600
    issued = [loaded[p] for p in positions.tolist()]
    assert issued[:16] == [
        164, 221, 293, 275, 72, 120, 194, 247, 98, 86, 231, 51, 298, 174, 278, 161,
    ]  # fmt: skip
    assert issued[300:308] == [33, 265, 183, 83, 2, 208, 217, 238]


def test_accuracy_log_sampling_official() -> None:
    # SingleStream, min_query_count 400 (400 generated and issued), accuracy_log_probability 0.25,
    # accuracy_log_rng_seed 720381539243781796: 85 seq_ids in mlperf_log_accuracy.json.
    official_head = [
        5, 10, 17, 23, 25, 39, 50, 52, 53, 56, 65, 82, 83, 84, 85, 87, 89, 92, 98, 103, 107,
        108, 110, 113, 116, 119, 125, 129, 130, 137,
    ]  # fmt: skip
    offset = rng.accuracy_log_offset(720381539243781796)
    values = rng.accuracy_log_values(rng.MT19937_DEFAULT_SEED, 400) + offset
    values = np.where(values < 1.0, values, values - 1.0)
    logged = np.flatnonzero(values <= 0.25).tolist()
    assert len(logged) == 85
    assert logged[:30] == official_head


# --------------------------------------------------------------------------------------------
# Live comparison with the official binary
# --------------------------------------------------------------------------------------------

_PROBE = r"""
import os, sys
import mlperf_loadgen as lg

out, scenario = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)

def issue(samples):
    lg.QuerySamplesComplete([lg.QuerySampleResponse(s.id, 0, 0) for s in samples])

s = lg.TestSettings()
s.scenario = getattr(lg.TestScenario, scenario)
s.mode = lg.TestMode.PerformanceOnly
s.qsl_rng_seed = 2085463073848966840
s.sample_index_rng_seed = 2747215439041700203
s.schedule_rng_seed = 16159082839903944936
s.min_duration_ms, s.min_query_count = 150, 40
s.single_stream_expected_latency_ns = 1_000_000
s.server_target_qps = 1500.0
s.server_target_latency_ns = 100_000_000
ls = lg.LogSettings()
ls.log_output.outdir = out
ls.enable_trace = True
sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(1024, 1024, lambda idx: None, lambda idx: None)
lg.StartTestWithLogSettings(sut, qsl, s, ls)
lg.DestroyQSL(qsl)
lg.DestroySUT(sut)
"""


def _run_official(tmp_path: Path, scenario: str) -> tuple[dict[str, object], list[dict[str, int]]]:
    script = tmp_path / "probe.py"
    script.write_text(_PROBE)
    out = tmp_path / scenario
    subprocess.run(
        [sys.executable, str(script), str(out), scenario],
        check=True,
        capture_output=True,
        timeout=60,
    )
    detail: dict[str, object] = {}
    for line in (out / "mlperf_log_detail.txt").read_text().splitlines():
        if line.startswith(":::MLLOG "):
            entry = json.loads(line[len(":::MLLOG ") :])
            detail.setdefault(entry["key"], entry["value"])
    samples = []
    for line in (out / "mlperf_log_trace.json").read_text().splitlines():
        if '"name":"Sample"' in line and '"ph":"b"' in line:
            args = dict(re.findall(r'"(\w+)":(-?\d+)', line.split('"args":', 1)[1]))
            ts = re.search(r'"ts":([0-9.]+)', line)
            assert ts is not None
            sample = {k: int(v) for k, v in args.items()}
            sample["ts_ns"] = round(float(ts.group(1)) * 1000)
            samples.append(sample)
    samples.sort(key=lambda s: s["sample_seq"])
    return detail, samples


@pytest.mark.official
def test_against_official_binary(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    loaded = rng.loadable_sets(QSL_SEED, 1024, 1024)[0]

    detail, samples = _run_official(tmp_path, "SingleStream")
    assert detail["loaded_qsl_set"] == loaded
    draws = rng.performance_sample_draws(SAMPLE_SEED, len(samples), 1024, min_queries=40)
    assert [s["sample_idx"] for s in samples] == _qsl_indices(loaded, draws)

    detail, samples = _run_official(tmp_path, "Server")
    assert detail["loaded_qsl_set"] == loaded
    times, duration = rng.server_schedule_ns(
        SCHEDULE_SEED, 1500.0, gen_duration_ns=150_000_000, min_queries=40
    )
    assert detail["generated_query_count"] == times.size == len(samples)
    assert detail["generated_query_duration"] == duration
    first = samples[0]["ts_ns"]
    assert [s["ts_ns"] - first for s in samples] == times.tolist()
    draws = rng.performance_sample_draws(SAMPLE_SEED, len(samples), 1024, min_queries=40)
    assert [s["sample_idx"] for s in samples] == _qsl_indices(loaded, draws)
