from __future__ import annotations

import json
import logging
import os
import shlex
import sys
import threading
from pathlib import Path

import pytest

from loadgen.log_reader import DetailLogReader
from power_client import command_workload
from power_client.command_workload import CommandWorkload
from power_client.errors import LoadgenLogError, WorkloadError
from power_client.sut_workload import SutWorkload
from power_client.workload import Workload
from suts.null import NullSut, ThreadedNullSut

HARNESS = Path(__file__).with_name("official_harness.py")
PY = sys.executable
METRIC = {
    "SingleStream": "early_stopping_latency_ss",
    "MultiStream": "early_stopping_latency_ms",
    "Server": "result_completed_samples_per_sec",
    "Offline": "result_samples_per_second",
}


def _short(scenario: str = "Offline", **kw) -> SutWorkload:
    kw.setdefault("duration_ms", 200)
    kw.setdefault("min_query_count", 20)
    return SutWorkload("null", scenario, **kw)


class CountingOpener:
    """SUT factory that counts opens; the SUTs it makes record close()."""

    def __init__(self, make=NullSut) -> None:
        self.make = make
        self.opened: list[object] = []
        self.closed = 0

    def __call__(self, spec, qsl):
        sut = self.make()
        original = getattr(sut, "close", None)

        def close() -> None:
            self.closed += 1
            if original is not None:
                original()

        sut.close = close
        self.opened.append(sut)
        return sut


class RaisingSut:
    name = "RaisingSUT"

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def issue_queries(self, samples, complete) -> None:
        raise self.exc

    def flush_queries(self) -> None:
        pass


# --- SutWorkload -------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", ["SingleStream", "MultiStream", "Server", "Offline"])
def test_sut_workload_logs_are_found_and_read(scenario: str, tmp_path: Path) -> None:
    with _short(scenario) as workload:
        run = workload.run("ranging", tmp_path / "ranging")
    info = run.info
    assert info is not None
    assert info.detail_log == tmp_path / "ranging" / "mlperf_log_detail.txt"
    assert info.summary_log == tmp_path / "ranging" / "mlperf_log_summary.txt"
    assert (info.scenario, info.mode) == (scenario, "PerformanceOnly")
    assert info.official is False
    assert "wattbench-loadgen" in info.loadgen_version
    assert run.begin_wall_ns - run.begin_wall_ns % 1_000_000 <= info.power_begin_ns
    assert info.power_begin_ns <= info.power_end_ns <= run.end_wall_ns
    assert info.result_validity in ("VALID", "INVALID")
    assert run.exit_status == (0 if info.valid else 3)
    assert info.metric is not None and info.metric.name == METRIC[scenario]
    # Offline: one query of 1.1 x 0.2 s x 1000 samples/s
    assert info.samples_per_query == {"MultiStream": 8, "Offline": 220}.get(scenario, 1)
    assert info.result_query_count is not None
    assert info.samples_processed == info.result_query_count * info.samples_per_query
    assert run.search_paths == (tmp_path / "ranging",)
    assert run.loadgen_run(run.begin_wall_ns, run.end_wall_ns) == info


def test_sut_is_opened_once_for_both_phases_and_closed(tmp_path: Path) -> None:
    opener = CountingOpener(lambda: ThreadedNullSut(workers=1))
    workload = _short("Offline", open_sut=opener, ranging_duration_ms=50, duration_ms=120)
    ranging = workload.run("ranging", tmp_path / "r")
    testing = workload.run("testing", tmp_path / "t")
    assert len(opener.opened) == 1
    for run, duration_ms in ((ranging, 50), (testing, 120)):
        detail = DetailLogReader(run.log_dir / "mlperf_log_detail.txt")
        assert detail["effective_min_duration_ms"] == duration_ms
    workload.close()
    workload.close()
    assert opener.closed == 1


def test_progress_is_polled_from_the_monitor(tmp_path: Path) -> None:
    calls: list[tuple] = []
    workload = _short("Server", duration_ms=300, progress_interval_s=0.02)
    workload.run("testing", tmp_path, lambda *a: calls.append(a))
    assert len(calls) >= 3
    assert {c[0] for c in calls} == {"testing"}
    assert all(0 <= completed <= issued for _, issued, completed, _ in calls)
    assert any(issued > 0 for _, issued, _, _ in calls)
    elapsed = [c[3] for c in calls]
    assert elapsed == sorted(elapsed)
    assert not [t for t in threading.enumerate() if t.name == "progress-testing"]


def test_a_failing_progress_sink_does_not_stop_the_run(tmp_path: Path, caplog) -> None:
    def sink(*args) -> None:
        raise ValueError("display broke")

    run = _short("Server", progress_interval_s=0.02).run("testing", tmp_path, sink)
    assert run.info is not None
    assert "progress sink" in caplog.text


def test_sut_exception_is_a_workload_error_and_the_sut_is_reopened(tmp_path: Path) -> None:
    opener = CountingOpener(lambda: RaisingSut(RuntimeError("device lost")))
    workload = _short("SingleStream", open_sut=opener)
    with pytest.raises(WorkloadError) as err:
        workload.run("ranging", tmp_path / "r")
    assert "ranging phase" in str(err.value)
    assert "'null'" in str(err.value)
    assert "RuntimeError: device lost" in str(err.value)
    assert isinstance(err.value.__cause__, RuntimeError)
    assert opener.closed == 1
    with pytest.raises(WorkloadError):
        workload.run("testing", tmp_path / "t")
    assert len(opener.opened) == 2


def test_unknown_sut_scheme_fails_at_construction() -> None:
    with pytest.raises(
        WorkloadError, match=r"SUT 'nosuch:x': unknown SUT scheme 'nosuch'; known: "
    ):
        SutWorkload("nosuch:x", "Offline")


def test_unopenable_sut_is_a_workload_error(tmp_path: Path) -> None:
    def refuse(spec, qsl):
        raise OSError("no such model file")

    workload = SutWorkload("null", "Offline", open_sut=refuse)
    with pytest.raises(
        WorkloadError, match=r"testing phase: cannot open SUT 'null': OSError: no such"
    ):
        workload.run("testing", tmp_path)


def test_ctrl_c_propagates_after_cleanup(tmp_path: Path) -> None:
    opener = CountingOpener(lambda: RaisingSut(KeyboardInterrupt()))
    workload = _short("SingleStream", open_sut=opener, progress_interval_s=0.01)
    with pytest.raises(KeyboardInterrupt):
        workload.run("testing", tmp_path, lambda *a: None)
    assert opener.closed == 1
    assert (tmp_path / "mlperf_log_detail.txt").exists()
    assert not [t for t in threading.enumerate() if t.name == "progress-testing"]


def test_bad_scenario_and_missing_conf_fail_at_construction(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="unknown scenario 'Batch'"):
        SutWorkload("null", "Batch")
    with pytest.raises(WorkloadError, match=r"user\.conf"):
        SutWorkload("null", "Offline", user_conf=tmp_path / "user.conf")


def test_conf_files_then_overrides(tmp_path: Path) -> None:
    mlperf = tmp_path / "mlperf.conf"
    mlperf.write_text("*.Offline.min_query_count = 333\n*.Offline.target_qps = 10\n")
    user = tmp_path / "user.conf"
    user.write_text("wattbench.Offline.target_qps = 777\n")
    s = SutWorkload(
        "null", "Offline", mlperf_conf=mlperf, user_conf=user, duration_ms=1234
    ).settings
    assert (s.min_query_count, s.offline_expected_qps, s.min_duration_ms) == (333, 777, 1234)
    assert not [m for m in s.conf_messages if m[0] == "error_invalid_config"]
    only_user = SutWorkload("null", "Server", user_conf=user, target_qps=55).settings
    assert only_user.server_target_qps == 55
    assert only_user.min_duration_ms == 600_000  # from the built-in mlperf.conf


def test_null_defaults_make_short_runs_work() -> None:
    s = SutWorkload("null", "Server", target_latency_ms=20).settings
    assert s.server_target_qps == 1000
    assert s.server_target_latency_ns == 20_000_000
    assert SutWorkload("null", "SingleStream").settings.single_stream_expected_latency_ns == 1e6


def test_sut_describe_is_json(tmp_path: Path) -> None:
    d = _short("Server", target_qps=500).describe()
    json.dumps(d)
    assert d["kind"] == "sut"
    assert (d["sut"], d["scenario"], d["workload"]) == ("null", "Server", "synthetic")
    assert d["server_target_qps"] == 500


def test_both_implementations_satisfy_the_protocol() -> None:
    workloads: list[Workload] = [_short(), CommandWorkload([PY, "-c", "pass"])]
    assert all(callable(w.run) and callable(w.close) for w in workloads)


# --- CommandWorkload ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module, scenario",
    [("mlperf_loadgen", "Server"), ("mlperf_loadgen", "MultiStream"), ("loadgen", "Offline")],
)
def test_command_harness_logs_are_found(module, scenario, tmp_path: Path, caplog) -> None:
    pytest.importorskip(module)
    caplog.set_level(logging.INFO, logger="power_client.command_workload")
    out = tmp_path / "testing"
    run = CommandWorkload([PY, str(HARNESS), module, scenario]).run("testing", out)
    assert run.exit_status == 0
    assert run.info is None
    info = run.loadgen_run(run.begin_wall_ns, run.end_wall_ns)
    assert info.detail_log == out / "mlperf_log_detail.txt"
    assert info.official is (module == "mlperf_loadgen")
    assert info.loadgen_version.startswith("6.0.17 @ ")
    assert (info.scenario, info.mode) == (scenario, "PerformanceOnly")
    assert run.begin_wall_ns - run.begin_wall_ns % 1_000_000 <= info.power_begin_ns
    assert info.power_end_ns <= run.end_wall_ns
    assert info.metric is not None and info.metric.name == METRIC[scenario]
    first = f"harness: {module} {scenario} phase=testing out={out}"
    assert (out / "workload.log").read_text(encoding="utf-8").splitlines()[0] == first
    assert f"[testing] {first}" in caplog.messages


def test_command_runs_in_the_given_cwd(tmp_path: Path) -> None:
    cwd = tmp_path / "work"
    cwd.mkdir()
    code = (
        "import os; open('where.txt', 'w').write(os.getcwd() + ' ' + os.environ['WATTBENCH_PHASE'])"
    )
    run = CommandWorkload([PY, "-c", code], cwd=cwd).run("ranging", tmp_path / "out")
    assert (cwd / "where.txt").read_text() == f"{cwd} ranging"
    assert run.search_paths == (tmp_path / "out", cwd)


def test_a_string_command_is_split_not_shelled(tmp_path: Path) -> None:
    workload = CommandWorkload(
        f"{shlex.quote(PY)} -c 'import sys; print(sys.argv[1:])' 'a b' '$HOME'"
    )
    assert workload.argv[1:] == ["-c", "import sys; print(sys.argv[1:])", "a b", "$HOME"]
    workload.run("testing", tmp_path)
    assert (tmp_path / "workload.log").read_text() == "['a b', '$HOME']\n"


def test_failing_command_quotes_the_exit_code_and_the_last_lines(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "for i in range(5): print('line', i)\n"
        "print('boom', file=sys.stderr); sys.exit(3)"
    )
    with pytest.raises(WorkloadError) as err:
        CommandWorkload([PY, "-c", code], tail_lines=3).run("testing", tmp_path)
    text = str(err.value)
    assert "testing phase" in text
    assert "exited with status 3" in text
    assert text.endswith("last lines:\n  line 3\n  line 4\n  boom")
    assert "line 2" not in text
    assert str(tmp_path / "workload.log") in text


def test_accepted_exit_codes(tmp_path: Path) -> None:
    workload = CommandWorkload([PY, "-c", "raise SystemExit(3)"], ok_exit_codes=(0, 3))
    run = workload.run("testing", tmp_path)
    assert run.exit_status == 3


def test_killed_command_names_the_signal(tmp_path: Path) -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    with pytest.raises(WorkloadError, match="was killed by SIGKILL"):
        CommandWorkload([PY, "-c", code]).run("testing", tmp_path)


def test_missing_program_is_named(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match="cannot start 'wattbench-no-such-harness'"):
        CommandWorkload(["wattbench-no-such-harness", "--x"]).run("ranging", tmp_path)


def test_missing_cwd_is_named(tmp_path: Path) -> None:
    with pytest.raises(WorkloadError, match=f"working folder {tmp_path / 'nope'} does not exist"):
        CommandWorkload([PY, "-c", "pass"], cwd=tmp_path / "nope").run("ranging", tmp_path / "o")


def test_empty_command_is_rejected() -> None:
    with pytest.raises(WorkloadError, match="empty"):
        CommandWorkload("  ")


def test_relative_program_is_resolved_against_the_clients_folder(
    tmp_path: Path, monkeypatch
) -> None:
    tool = tmp_path / "bin" / "tool.sh"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho tool ran in $(pwd)\n")
    tool.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    CommandWorkload(["./bin/tool.sh"]).run("testing", tmp_path / "out")
    log = (tmp_path / "out" / "workload.log").read_text()
    assert log == f"tool ran in {tmp_path / 'out'}\n"


def test_command_without_logs_fails_at_lookup(tmp_path: Path) -> None:
    run = CommandWorkload([PY, "-c", "print('no loadgen here')"]).run("testing", tmp_path)
    with pytest.raises(LoadgenLogError, match=f"no LoadGen detail log .* under {tmp_path}"):
        run.loadgen_run(run.begin_wall_ns, run.end_wall_ns)


def test_command_progress_has_elapsed_time_only(tmp_path: Path) -> None:
    calls: list[tuple] = []
    workload = CommandWorkload([PY, "-c", "import time; time.sleep(0.3)"], progress_interval_s=0.05)
    workload.run("ranging", tmp_path, lambda *a: calls.append(a))
    assert len(calls) >= 2
    assert all(c[:3] == ("ranging", None, None) for c in calls)
    assert all(c[3] > 0 for c in calls)


def test_ctrl_c_stops_the_command(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(30)"

    def interrupt(*args) -> None:
        if pid_file.exists() and pid_file.read_text():
            raise KeyboardInterrupt

    workload = CommandWorkload([PY, "-c", code], progress_interval_s=0.02, interrupt_grace_s=5)
    with pytest.raises(KeyboardInterrupt):
        workload.run("testing", tmp_path / "out", interrupt)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert "KeyboardInterrupt" in (tmp_path / "out" / "workload.log").read_text()


def test_a_background_process_holding_the_output_does_not_block(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(command_workload, "_DRAIN_S", 0.2)
    run = CommandWorkload(["sh", "-c", "sleep 2 & echo started"]).run("testing", tmp_path)
    assert run.exit_status == 0
    assert "still open after it exited" in caplog.text


def test_command_describe_is_json() -> None:
    d = CommandWorkload([PY, "run.py", "--scenario", "Offline"], extra_env={"A": "1"}).describe()
    json.dumps(d)
    assert d["kind"] == "command"
    assert d["command"] == [PY, "run.py", "--scenario", "Offline"]
    assert d["extra_env"] == {"A": "1"}
