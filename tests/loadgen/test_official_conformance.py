"""Our logs against logs produced by the official mlcommons-loadgen 6.0.17.

Two sources: the committed fixtures in tests/fixtures/official (made by make_fixtures.py there,
SUT completing inline with the 8-byte sample index), and live runs of the same harness under
both modules (tests/loadgen/dropin_harness.py, which differs only in its import line).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import loadgen
from loadgen.log_reader import DetailLogReader
from suts.null import NullSut, SyntheticQsl

FIXTURES = Path(__file__).parent.parent / "fixtures" / "official"
HARNESS = Path(__file__).parent / "dropin_harness.py"
# settings of make_fixtures.py: min_duration 1000 ms, 1000 QPS / 1 ms everywhere, 100/64 QSL
_FIXTURE_SETTINGS = dict(
    min_duration_ms=1000,
    min_query_count=100,
    server_target_qps=1000.0,
    server_target_latency_ns=10_000_000,
    offline_expected_qps=1000.0,
    single_stream_expected_latency_ns=1e6,
    multi_stream_expected_latency_ns=1e6,
)
_DETERMINISTIC = re.compile(
    r"^(effective_.*|loaded_qsl_set|generated_.*|requested_.*|qsl_reported_.*)$"
)


def _keys(path: Path) -> list[str]:
    # the official logger adds a warning about its own buffer allocation; it has no counterpart
    return [k for k in DetailLogReader(path).key_sequence() if k != "warning_generic_message"]


def _masked_summary(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [
        re.sub(r"[0-9.]+(e[+-][0-9]+)?", "N", line)
        for line in lines
        if not line.startswith(("SUT name", "1 warning", "No warnings"))
    ]


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ours")
    for sc in loadgen.TestScenario:
        for mode, tag in (
            (loadgen.TestMode.PerformanceOnly, "perf"),
            (loadgen.TestMode.AccuracyOnly, "acc"),
        ):
            s = loadgen.TestSettings(scenario=sc, mode=mode, **_FIXTURE_SETTINGS)
            loadgen.start_test(
                NullSut(), SyntheticQsl(100, 64), s, out_dir=root / f"{sc.name}-{tag}"
            )
    return root


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_detail_key_sequence_and_deterministic_values_match(ours: Path, scenario: str) -> None:
    official = FIXTURES / f"{scenario}-perf" / "mlperf_log_detail.txt"
    mine = ours / f"{scenario}-perf" / "mlperf_log_detail.txt"
    assert _keys(mine) == _keys(official)
    o, m = DetailLogReader(official), DetailLogReader(mine)
    for key in o.key_sequence():
        if _DETERMINISTIC.match(key):
            assert m[key] == o[key], key


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_summary_layout_matches(ours: Path, scenario: str) -> None:
    official = FIXTURES / f"{scenario}-perf" / "mlperf_log_summary.txt"
    assert _masked_summary(ours / f"{scenario}-perf" / "mlperf_log_summary.txt") == _masked_summary(
        official
    )


@pytest.mark.parametrize(
    ("fixture", "scenario"),
    [("ss-acc", "SingleStream"), ("off-acc", "Offline"), ("ms-acc", "MultiStream")],
)
def test_accuracy_logs_are_byte_identical(ours: Path, fixture: str, scenario: str) -> None:
    official = (FIXTURES / fixture / "mlperf_log_accuracy.json").read_bytes()
    assert (ours / f"{scenario}-acc" / "mlperf_log_accuracy.json").read_bytes() == official
    assert (ours / f"{scenario}-acc" / "mlperf_log_summary.txt").read_bytes() == (
        FIXTURES / fixture / "mlperf_log_summary.txt"
    ).read_bytes()
    assert _keys(ours / f"{scenario}-acc" / "mlperf_log_detail.txt") == _keys(
        FIXTURES / fixture / "mlperf_log_detail.txt"
    )


def test_reader_reads_official_logs_first_occurrence_wins() -> None:
    log = DetailLogReader(FIXTURES / "ss-acc" / "mlperf_log_detail.txt")
    windows = log.power_windows()
    assert len(windows) == 2  # one pair per loadable set in accuracy mode
    assert log["power_begin"] == windows[0].begin_text
    assert log.all("generated_query_count") == [64, 36]
    assert log["qsl_name"] == "PyQSL"


def _run_harness(module: str, scenario: str, mode: str, out: Path) -> None:
    subprocess.run(
        [sys.executable, str(HARNESS), module, scenario, mode, str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.official
@pytest.mark.parametrize(
    ("scenario", "mode"),
    [
        ("SingleStream", "PerformanceOnly"),
        ("MultiStream", "AccuracyOnly"),
        ("Server", "PerformanceOnly"),
        ("Offline", "SubmissionRun"),
    ],
)
def test_same_harness_under_both_modules(tmp_path: Path, scenario: str, mode: str) -> None:
    pytest.importorskip("mlperf_loadgen")
    _run_harness("mlperf_loadgen", scenario, mode, tmp_path / "official")
    _run_harness("loadgen", scenario, mode, tmp_path / "ours")
    o = DetailLogReader(tmp_path / "official" / "mlperf_log_detail.txt")
    m = DetailLogReader(tmp_path / "ours" / "mlperf_log_detail.txt")
    for key in o.key_sequence():
        if _DETERMINISTIC.match(key):
            assert m.all(key) == o.all(key), key
    for key in (
        "result_validity",
        "result_min_duration_met",
        "result_min_queries_met",
        "early_stopping_met",
        "result_perf_constraints_met",
    ):
        assert m.get(key) == o.get(key), key
    assert len(m.power_windows()) == len(o.power_windows())
    if mode != "PerformanceOnly":
        acc_o = json.loads((tmp_path / "official" / "mlperf_log_accuracy.json").read_text())
        acc_m = json.loads((tmp_path / "ours" / "mlperf_log_accuracy.json").read_text())
        assert acc_m == acc_o
