from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from loadgen.log_reader import parse_power_timestamp
from power_client.errors import LoadgenLogError
from power_client.loadgen_run import (
    find_detail_log,
    format_utc_ns,
    read_loadgen_run,
    summary_log_path,
)

OFFICIAL = Path(__file__).parents[1] / "fixtures" / "official"
MS = 1_000_000
S = 1_000_000_000


def _copy(name: str, dest: Path) -> Path:
    shutil.copytree(OFFICIAL / name, dest)
    return dest / "mlperf_log_detail.txt"


def _window(name: str) -> tuple[int, int]:
    info = read_loadgen_run(OFFICIAL / name / "mlperf_log_detail.txt")
    return info.power_begin_ns, info.power_end_ns


@pytest.mark.parametrize(
    "name, scenario, metric, validity, queries, per_query, begin, end",
    [
        (
            "SingleStream-perf",
            "SingleStream",
            ("early_stopping_latency_ss", 1820.0, "ns"),
            "INVALID",
            2001,
            1,
            "11-22-2026 12:28:57.554",
            "11-22-2026 12:28:57.560",
        ),
        (
            "MultiStream-perf",
            "MultiStream",
            ("early_stopping_latency_ms", 75395.0, "ns"),
            "INVALID",
            2001,
            8,
            "11-22-2026 12:28:57.609",
            "11-22-2026 12:28:57.639",
        ),
        (
            "Server-perf",
            "Server",
            ("result_completed_samples_per_sec", 983.538, "samples/s"),
            "VALID",
            985,
            1,
            "11-22-2026 12:28:57.686",
            "11-22-2026 12:28:58.686",
        ),
        (
            "Offline-perf",
            "Offline",
            ("result_samples_per_second", 664540.0, "samples/s"),
            "INVALID",
            1,
            1100,
            "11-22-2026 12:28:58.739",
            "11-22-2026 12:28:58.741",
        ),
    ],
)
def test_official_performance_logs_parse(
    name, scenario, metric, validity, queries, per_query, begin, end
) -> None:
    info = read_loadgen_run(OFFICIAL / name / "mlperf_log_detail.txt")
    assert info.scenario == scenario
    assert info.mode == "PerformanceOnly"
    assert info.result_validity == validity
    assert info.valid is (validity == "VALID")
    assert info.early_stopping_met is True
    assert info.metric is not None
    assert (info.metric.name, info.metric.value, info.metric.unit) == metric
    assert info.result_query_count == queries
    assert info.samples_per_query == per_query
    assert info.samples_processed == queries * per_query
    assert info.power_begin_ns == parse_power_timestamp(begin)
    assert info.power_end_ns == parse_power_timestamp(end)
    assert info.summary_log == OFFICIAL / name / "mlperf_log_summary.txt"
    assert info.loadgen_version == "6.0.17 @ d6147c7eb7"
    assert info.official is True


def test_throughput_is_loadgens_figure_or_samples_over_the_window() -> None:
    server = read_loadgen_run(OFFICIAL / "Server-perf" / "mlperf_log_detail.txt")
    assert server.throughput_samples_per_s == 983.538
    ss = read_loadgen_run(OFFICIAL / "SingleStream-perf" / "mlperf_log_detail.txt")
    # 2001 samples between 12:28:57.554 and 12:28:57.560
    assert ss.duration_ns == 6 * MS
    assert ss.throughput_samples_per_s == pytest.approx(2001 / 0.006)
    assert [m.name for m in ss.metrics] == [
        "early_stopping_latency_ss",
        "early_stopping_latency_ms",
    ]


def test_server_lists_scheduled_rate_after_the_completed_rate() -> None:
    info = read_loadgen_run(OFFICIAL / "Server-perf" / "mlperf_log_detail.txt")
    assert [(m.name, m.value) for m in info.metrics] == [
        ("result_completed_samples_per_sec", 983.538),
        ("result_scheduled_samples_per_sec", 983.631),
    ]


def test_accuracy_log_has_window_but_no_result() -> None:
    info = read_loadgen_run(OFFICIAL / "ss-acc" / "mlperf_log_detail.txt")
    assert info.mode == "AccuracyOnly"
    assert info.result_validity == ""
    assert info.metric is None
    assert info.samples_processed is None
    assert info.throughput_samples_per_s is None
    assert info.power_begin_ns == parse_power_timestamp("11-22-2026 12:28:58.804")


def test_validity_falls_back_to_the_summary(tmp_path: Path) -> None:
    detail = _copy("Server-perf", tmp_path / "run")
    lines = detail.read_text(encoding="utf-8").splitlines(keepends=True)
    detail.write_text("".join(x for x in lines if '"result_validity"' not in x), encoding="utf-8")
    assert read_loadgen_run(detail).result_validity == "VALID"


def test_missing_summary_is_none(tmp_path: Path) -> None:
    detail = _copy("Offline-perf", tmp_path / "run")
    (detail.parent / "mlperf_log_summary.txt").unlink()
    info = read_loadgen_run(detail)
    assert info.summary_log is None
    assert info.result_validity == "INVALID"


def test_summary_log_keeps_prefix_and_suffix() -> None:
    assert summary_log_path(Path("/x/run1_mlperf_log_detail_a.txt")) == Path(
        "/x/run1_mlperf_log_summary_a.txt"
    )


def test_format_utc_ns_to_the_microsecond() -> None:
    ns = parse_power_timestamp("11-22-2026 12:28:57.554") + 123_456
    assert format_utc_ns(ns) == "2026-11-22T12:28:57.554123Z"


def test_to_json_is_serialisable_with_relative_paths(tmp_path: Path) -> None:
    detail = _copy("Server-perf", tmp_path / "raw" / "testing")
    data = read_loadgen_run(detail).to_json(relative_to=tmp_path)
    json.dumps(data)
    assert data["detail_log"] == "raw/testing/mlperf_log_detail.txt"
    assert data["summary_log"] == "raw/testing/mlperf_log_summary.txt"
    assert data["performance"] == {
        "name": "result_completed_samples_per_sec",
        "value": 983.538,
        "unit": "samples/s",
    }
    assert data["power_begin"] == "2026-11-22T12:28:57.686000Z"
    assert data["official_loadgen"] is True
    assert data["query_count"] == 985


def test_read_of_a_non_log_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "mlperf_log_detail.txt"
    bad.write_text("hello\n", encoding="utf-8")
    with pytest.raises(LoadgenLogError, match=str(bad)):
        read_loadgen_run(bad)


# --- find_detail_log ---------------------------------------------------------------------------


def test_finds_the_log_whose_window_is_inside_the_phase(tmp_path: Path) -> None:
    _copy("SingleStream-perf", tmp_path / "a")
    server = _copy("Server-perf", tmp_path / "b" / "deep")
    begin, end = _window("Server-perf")
    # The SingleStream window ends 126 ms before the Server one begins: a phase starting
    # 100 ms before the Server window holds only that one, whatever the files' mtimes.
    info = find_detail_log([tmp_path / "a", tmp_path / "b"], begin - S // 10, end + S)
    assert info.detail_log == server
    assert info.scenario == "Server"


def test_newest_first_when_several_fit(tmp_path: Path) -> None:
    old = _copy("SingleStream-perf", tmp_path / "old")
    new = _copy("MultiStream-perf", tmp_path / "new")
    os.utime(old, ns=(1 * S, 1 * S))
    os.utime(new, ns=(2 * S, 2 * S))
    begin, _ = _window("SingleStream-perf")
    _, end = _window("MultiStream-perf")
    assert find_detail_log([tmp_path], begin, end).detail_log == new
    os.utime(old, ns=(3 * S, 3 * S))
    assert find_detail_log([tmp_path], begin, end).detail_log == old


def test_a_file_candidate_is_used_directly_and_duplicates_once(tmp_path: Path) -> None:
    detail = _copy("Offline-perf", tmp_path / "run")
    begin, end = _window("Offline-perf")
    info = find_detail_log([detail, tmp_path], begin, end)
    assert info.detail_log == detail


def test_window_may_start_in_the_phases_first_millisecond(tmp_path: Path) -> None:
    # LoadGen truncates power_begin to the ms: a run that began 0.9 ms after the phase logs
    # the phase's own ms
    _copy("Server-perf", tmp_path / "run")
    begin, end = _window("Server-perf")
    assert find_detail_log([tmp_path], begin + 900_000, end).scenario == "Server"
    with pytest.raises(LoadgenLogError, match=r"begins 0\.001 s before the phase"):
        find_detail_log([tmp_path], begin + MS, end)


def test_tolerance_widens_the_phase(tmp_path: Path) -> None:
    _copy("Server-perf", tmp_path / "run")
    begin, end = _window("Server-perf")
    info = find_detail_log([tmp_path], begin + 50 * MS, end - 50 * MS, tolerance_ns=100 * MS)
    assert info.power_end_ns == end


def test_window_before_the_phase_names_file_window_and_phase(tmp_path: Path) -> None:
    detail = _copy("Server-perf", tmp_path / "run")
    phase_begin = parse_power_timestamp("11-22-2026 13:00:00.000")
    with pytest.raises(LoadgenLogError) as err:
        find_detail_log([tmp_path], phase_begin, phase_begin + 60 * S, phase="testing")
    text = str(err.value)
    assert str(detail) in text
    assert "testing phase [2026-11-22T13:00:00.000000Z, 2026-11-22T13:01:00.000000Z]" in text
    assert "window 2026-11-22T12:28:57.686000Z to 2026-11-22T12:28:58.686000Z" in text
    assert "begins 1862.314 s before the phase" in text


def test_window_ending_after_the_phase(tmp_path: Path) -> None:
    detail = _copy("Server-perf", tmp_path / "run")
    begin, end = _window("Server-perf")
    with pytest.raises(LoadgenLogError, match=r"ends 0\.500 s after the phase") as err:
        find_detail_log([tmp_path], begin, end - 500 * MS)
    assert str(detail) in str(err.value)


def test_no_detail_log_names_the_folders_and_the_phase(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "workload.log").write_text("x\n", encoding="utf-8")
    with pytest.raises(LoadgenLogError) as err:
        find_detail_log([tmp_path / "empty", tmp_path / "gone"], 0, S, phase="ranging")
    text = str(err.value)
    assert "no LoadGen detail log" in text
    assert str(tmp_path / "empty") in text
    assert f"{tmp_path / 'gone'} (missing)" in text
    assert "ranging phase [1970-01-01T00:00:00.000000Z, 1970-01-01T00:00:01.000000Z]" in text


def test_hidden_folders_are_not_searched(tmp_path: Path) -> None:
    _copy("Server-perf", tmp_path / ".cache" / "run")
    begin, end = _window("Server-perf")
    with pytest.raises(LoadgenLogError, match="no LoadGen detail log"):
        find_detail_log([tmp_path], begin, end)


def test_log_without_power_entries_is_reported(tmp_path: Path) -> None:
    detail = _copy("Server-perf", tmp_path / "run")
    lines = detail.read_text(encoding="utf-8").splitlines(keepends=True)
    detail.write_text("".join(x for x in lines if '"power_' not in x), encoding="utf-8")
    with pytest.raises(LoadgenLogError) as err:
        find_detail_log([tmp_path], 0, 2**62)
    assert f"{detail}: no power_begin/power_end entries" in str(err.value)


def test_every_file_looked_at_is_listed(tmp_path: Path) -> None:
    a = _copy("Server-perf", tmp_path / "a")
    b = _copy("Offline-perf", tmp_path / "b")
    not_a_log = tmp_path / "c" / "notes_detail.txt"
    not_a_log.parent.mkdir()
    not_a_log.write_text("no MLLOG here\n", encoding="utf-8")
    with pytest.raises(LoadgenLogError) as err:
        find_detail_log([tmp_path], 0, S)
    text = str(err.value)
    assert all(str(p) in text for p in (a, b, not_a_log))
    assert "not a detail log" in text
