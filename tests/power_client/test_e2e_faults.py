"""End to end, bad input and failures: each gives a non-zero exit, a message naming what is at
fault, and keeps the files of whatever was measured (a real director, the simulated meter).

Exit codes (``power_client/cli.py``): 1 the run failed, 2 bad options or input, 3 a check
failed, 130 interrupted.
"""

from __future__ import annotations

import calendar
import contextlib
import io
import json
import shlex
import shutil
import socket
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    CONSTANT_METER,
    SECRET_TEXT,
    Director,
    check_lines,
    missing_files,
    read_json,
    real_director,
    wattbench,
    write_secret,
)

from power_client.commands import main
from power_client.connection import DirectorClient
from power_client.loadgen_run import format_utc_ns
from power_client.measured_run import RunOptions, measured_run
from power_client.workload import ProgressSink, WorkloadRun
from power_director.auth import Secret
from power_director.spl import spl_timestamp

PY = sys.executable


@pytest.fixture(scope="module")
def director(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Director]:
    with real_director([CONSTANT_METER], tmp_path_factory.mktemp("director")) as running:
        yield running


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_secret(tmp_path_factory.mktemp("secret") / "secret")


@pytest.fixture(scope="module")
def completed(
    director: Director, secret_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A complete, valid result folder (Offline, null SUT); tests tamper with copies of it."""
    out = tmp_path_factory.mktemp("completed") / "result"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(
            [
                *client_args(director, secret_file, out),
                "--sut",
                "null?work_us=200",
                "--scenario",
                "Offline",
                "--target-qps",
                "5000",
                "--duration",
                "1.5",
            ]
        )
    assert code == 0
    return out


@pytest.fixture
def folder(completed: Path, tmp_path: Path) -> Path:
    """A copy of the completed result folder, to tamper with."""
    return Path(shutil.copytree(completed, tmp_path / "copy"))


def client_args(director: Director, secret_file: Path, out: Path) -> list[str]:
    return [
        "client",
        "--director",
        director.address,
        "--secret-file",
        str(secret_file),
        "--out",
        str(out),
        "--no-progress",
    ]


def python_command(code: str) -> str:
    """A ``--workload`` string running ``python -c CODE``."""
    return shlex.join([PY, "-c", code])


def assert_aborted_with_files_kept(director: Director, out: Path, error: str) -> dict[str, Any]:
    """The session was aborted on both sides; what the ranging phase measured is kept."""
    record = read_json(out / "power" / "client.json")
    assert record["state"] == "aborted"
    assert error in record["error"]
    assert director.session_states()[record["session_id"]] == "aborted"
    server = read_json(out / "power" / "server.json")
    assert (server["state"], server["session_id"]) == ("aborted", record["session_id"])
    assert error in server["reason"]
    assert missing_files(out, ("power/client.log", "power/server.log", "ranging/spl.txt")) == []
    samples = (out / "raw" / "ranging" / "samples.jsonl").read_text(encoding="utf-8")
    assert '"type":"sample"' in samples
    assert not (out / "result.json").exists()
    return dict(record)


# --- the director ------------------------------------------------------------------------------


def test_unreachable_director_fails_naming_the_address(
    secret_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    out = tmp_path / "result"
    run = wattbench(
        capsys,
        "client",
        "--director",
        f"127.0.0.1:{port}",
        "--secret-file",
        secret_file,
        "--sut",
        "null",
        "--out",
        out,
        "--no-progress",
    )
    assert run.code == 1
    assert f"cannot reach the director at 127.0.0.1:{port}: connection refused" in run.err
    assert not out.exists()


def test_wrong_secret_fails_naming_the_secret_source(
    director: Director, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = write_secret(tmp_path / "wrong", "not the director's secret 0123456789")
    out = tmp_path / "result"
    run = wattbench(capsys, *client_args(director, wrong, out), "--sut", "null")
    assert run.code == 1
    assert f"director {director.address}: authentication failed" in run.err
    assert f"the secret of this client (secret file {wrong}) differs from the director's" in run.err
    assert not out.exists()


# --- the workload ------------------------------------------------------------------------------


def test_failing_workload_aborts_the_session_and_keeps_the_ranging_files(
    director: Director, secret_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result"
    command = python_command("import sys; print('model file missing'); sys.exit(3)")
    run = wattbench(capsys, *client_args(director, secret_file, out), "--workload", command)

    assert run.code == 1
    assert "ranging phase: " in run.err and "exited with status 3" in run.err
    assert "model file missing" in run.err  # the command's last output lines
    assert f"files measured so far are in {out}" in run.err
    record = assert_aborted_with_files_kept(director, out, "exited with status 3")
    assert [p["phase"] for p in record["phases"].values()] == ["ranging"]
    log = out / "raw" / "ranging" / "loadgen" / "workload.log"
    assert log.read_text(encoding="utf-8") == "model file missing\n"


def test_command_without_a_detail_log_fails_naming_the_folder_and_the_phase_times(
    director: Director, secret_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result"
    command = python_command("print('forgot to run LoadGen')")
    run = wattbench(capsys, *client_args(director, secret_file, out), "--workload", command)

    assert run.code == 1
    searched = out / "raw" / "ranging" / "loadgen"
    assert "no LoadGen detail log (*detail*.txt) for the ranging phase [" in run.err
    assert f"under {searched}" in run.err
    record = assert_aborted_with_files_kept(director, out, f"under {searched}")
    # The times in the message are the phase's bounds as the client recorded them.
    phase = record["phases"]["ranging"]
    bounds = (
        f"[{format_utc_ns(phase['client_start_ns'])}, {format_utc_ns(phase['client_stop_ns'])}]"
    )
    assert f"for the ranging phase {bounds} under {searched}" in run.err


def test_detail_log_from_another_run_is_refused_naming_the_file_and_its_window(
    director: Director,
    secret_file: Path,
    completed: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stale = completed / "run_1" / "mlperf_log_detail.txt"
    copy = "import os, shutil, sys; shutil.copy(sys.argv[1], os.environ['WATTBENCH_OUTPUT_DIR'])"
    out = tmp_path / "result"
    run = wattbench(
        capsys,
        *client_args(director, secret_file, out),
        "--workload",
        shlex.join([PY, "-c", copy, str(stale)]),
    )

    assert run.code == 1
    assert "no LoadGen detail log whose performance window lies inside the ranging phase" in run.err
    copied = out / "raw" / "ranging" / "loadgen" / "mlperf_log_detail.txt"
    loadgen = read_json(completed / "result.json")["phases"]["testing"]["loadgen"]
    window = f"window {loadgen['power_begin']} to {loadgen['power_end']} begins "
    assert f"{copied}: {window}" in run.err and " s before the phase" in run.err
    assert_aborted_with_files_kept(director, out, str(copied))


class InterruptingWorkload:
    """Raises KeyboardInterrupt in the middle of the ranging phase, as Ctrl-C would."""

    def __init__(self) -> None:
        self.runs: list[str] = []

    def describe(self) -> dict[str, Any]:
        return {"kind": "test", "behaviour": "Ctrl-C during ranging"}

    def run(self, phase: str, out_dir: Path, progress: ProgressSink | None = None) -> WorkloadRun:
        self.runs.append(phase)
        out_dir.mkdir(parents=True, exist_ok=True)
        raise KeyboardInterrupt

    def close(self) -> None:
        pass


def test_ctrl_c_in_a_phase_aborts_the_session_and_keeps_the_files(
    director: Director, tmp_path: Path
) -> None:
    secret = Secret(SECRET_TEXT.encode(), "test")
    workload = InterruptingWorkload()
    out = tmp_path / "result"
    with (
        DirectorClient.connect(director.address, secret) as client,
        pytest.raises(KeyboardInterrupt),
    ):
        measured_run(client, workload, out, RunOptions(label="interrupted"))

    assert workload.runs == ["ranging"]
    record = assert_aborted_with_files_kept(director, out, "interrupted (Ctrl-C)")
    assert record["error"] == "interrupted (Ctrl-C)"
    assert record["phases"]["ranging"]["workload_exit"] == -1


def test_ctrl_c_during_a_command_exits_130_and_keeps_the_files(
    director: Director, secret_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The command sends SIGINT to the client, as Ctrl-C in the terminal would, then waits to
    # be stopped by the client.
    ctrl_c = "import os, signal, time; os.kill(os.getppid(), signal.SIGINT); time.sleep(30)"
    out = tmp_path / "result"
    run = wattbench(
        capsys, *client_args(director, secret_file, out), "--workload", python_command(ctrl_c)
    )

    assert run.code == 130
    assert f"interrupted; files measured so far are in {out}" in run.err
    assert_aborted_with_files_kept(director, out, "interrupted (Ctrl-C)")


# --- the result folder -------------------------------------------------------------------------


def test_out_folder_with_files_is_refused_before_connecting(
    director: Director, secret_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    sessions = director.session_states()
    run = wattbench(capsys, *client_args(director, secret_file, out), "--sut", "null")

    assert run.code == 2
    assert f"{out}: folder is not empty; give a new --out folder" in run.err
    assert "files measured so far" not in run.err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert director.session_states() == sessions  # no session was opened


def test_check_fails_the_hashes_of_an_edited_spl_file(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spl = folder / "run_1" / "spl.txt"
    lines = spl.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[5].split(",")
    fields[3] = f"{float(fields[3]) * 0.9:.4f}"  # Watts,<value>: 10 % less
    lines[5] = ",".join(fields)
    spl.write_text("".join(lines), encoding="utf-8")

    check = wattbench(capsys, "check", folder)
    assert check.code == 3
    failed = [name for name, passed in check_lines(check.out).items() if not passed]
    assert failed == ["hashes"]
    assert "[ ] hashes: run_1/spl.txt changed since the run" in check.out
    assert check.out.rstrip().endswith("FAIL")


def test_check_reports_a_testing_window_without_samples_naming_the_file(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = read_json(folder / "result.json")
    window = result["phases"]["testing"]["window"]
    begin_ns, end_ns = _ns(window["begin_utc"]), _ns(window["end_utc"])
    path = folder / "raw" / "run_1" / "samples.jsonl"
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
        if not begin_ns <= json.loads(line).get("t_wall_ns", 0) <= end_ns
    ]
    path.write_text("".join(kept), encoding="utf-8")

    check = wattbench(capsys, "check", folder)
    assert check.code == 3
    failed = [name for name, passed in check_lines(check.out).items() if not passed]
    assert failed == ["analysis"]
    detail = next(line for line in check.out.splitlines() if line.startswith("[ ] analysis"))
    named = f"window {spl_timestamp(begin_ns)} .. {spl_timestamp(end_ns)} UTC (director clock)"
    assert f"{path}: no valid sample in the window (0 invalid); {named}" in detail


def test_check_reports_result_json_disagreeing_with_an_edited_sample(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = read_json(folder / "result.json")["phases"]["testing"]["window"]
    begin_ns = _ns(window["begin_utc"])
    path = folder / "raw" / "run_1" / "samples.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    inside = next(r for r in records if r.get("t_wall_ns", 0) > begin_ns and r["valid"])
    inside["watts"] *= 2
    inside["channels"][0]["watts"] *= 2
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    check = wattbench(capsys, "check", folder)
    assert check.code == 3
    assert "[ ] result_json: " in check.out
    assert "metrics.avg_watts is " in check.out


def test_report_without_result_json_fails_naming_the_path(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "result.json").unlink()
    report = wattbench(capsys, "report", folder)
    assert report.code == 2
    assert str(folder / "result.json") in report.err


# --- helpers -----------------------------------------------------------------------------------


def _ns(iso: str) -> int:
    """ns since the epoch of ``2026-11-22T13:14:02.278170Z``."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return calendar.timegm(moment.utctimetuple()) * 1_000_000_000 + moment.microsecond * 1000
