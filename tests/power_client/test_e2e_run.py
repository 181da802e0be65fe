"""End to end: a real director with the simulated meter on a pty, ``wattbench client``, LoadGen.

Every test runs both phases for real (the director samples the simulated WT310E through its
serial driver on a pty; the client runs LoadGen with the null SUT, or a command) and then runs
``wattbench check`` on the folder. The meter holds a constant 150 W, so the power figures are
known whatever else loads this machine.
"""

from __future__ import annotations

import math
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    CHECK_NAMES,
    CONSTANT_METER,
    CONSTANT_WATTS,
    SECRET_TEXT,
    Director,
    check_lines,
    missing_files,
    read_json,
    real_director,
    wattbench,
    write_secret,
)

from power_director.auth import SECRET_ENV_VAR

HARNESS = Path(__file__).with_name("official_harness.py")
NULL_SUT = "null?work_us=200"
LIGHT_NULL_SUT = "null?work_us=50"
DURATION_S = "1.5"


@pytest.fixture(scope="module")
def director(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Director]:
    with real_director([CONSTANT_METER], tmp_path_factory.mktemp("director")) as running:
        yield running


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_secret(tmp_path_factory.mktemp("secret") / "secret")


def assert_checks_all_pass(capsys: pytest.CaptureFixture[str], out: Path) -> None:
    check = wattbench(capsys, "check", out)
    assert check_lines(check.out) == dict.fromkeys(CHECK_NAMES, True), check.out
    assert check.out.rstrip().endswith(f"{len(CHECK_NAMES)}/{len(CHECK_NAMES)} checks passed: PASS")
    assert check.code == 0


def assert_power_figures(result: dict[str, Any]) -> None:
    """The testing phase's figures agree with the constant load and with each other."""
    energy = result["phases"]["testing"]["energy"]
    window_s = result["phases"]["testing"]["window"]["duration_s"]
    avg = result["metrics"]["avg_watts"]
    joules = result["metrics"]["energy_joules"]
    assert avg["unit"] == "W" and joules["unit"] == "J"
    assert 0 < avg["uncertainty"] < 0.01 * avg["value"]
    assert abs(avg["value"] - CONSTANT_WATTS) <= 3 * avg["uncertainty"]
    assert joules["value"] == pytest.approx(avg["value"] * window_s, rel=1e-9)
    assert energy["samples_in_window"] >= 10
    assert energy["invalid_samples"] == energy["over_range_samples"] == 0
    assert result["phases"]["testing"]["energy"]["mlperf_avg_watts"]["value"] == pytest.approx(
        CONSTANT_WATTS, rel=0.01
    )
    assert result["metrics"]["ranging_avg_watts"]["value"] == pytest.approx(
        CONSTANT_WATTS, rel=0.01
    )


# Explicit targets skip the client's calibration pass (``wattbench run`` below calibrates);
# SingleStream and Server also range for half the testing duration (--ranging-fraction; not
# MultiStream: early stopping needs 662 queries). MultiStream's SUT works 50 us per sample
# (0.4 ms queries, ~3700 in 1.5 s): with 1.6 ms queries a loaded machine fell under 662 queries
# and LoadGen rightly said INVALID (early stopping not satisfied).
@pytest.mark.parametrize(
    ("scenario", "secret_from", "options"),
    [
        ("SingleStream", "file", ("--target-latency-ms", "0.1", "--ranging-fraction", "0.5")),
        ("MultiStream", "environment", ("--target-latency-ms", "0.1")),
        ("Server", "file", ("--target-qps", "1000", "--ranging-fraction", "0.5")),
        ("Offline", "environment", ("--target-qps", "5000")),
    ],
)
def test_client_measures_the_null_sut_into_a_folder_that_passes_check(
    scenario: str,
    secret_from: str,
    options: tuple[str, ...],
    director: Director,
    secret_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "result"
    if secret_from == "file":
        secret_args: list[str | Path] = ["--secret-file", secret_file]
    else:
        monkeypatch.setenv(SECRET_ENV_VAR, SECRET_TEXT)
        secret_args = []
    run = wattbench(
        capsys,
        "client",
        "--director",
        director.address,
        *secret_args,
        "--sut",
        LIGHT_NULL_SUT if scenario == "MultiStream" else NULL_SUT,
        "--scenario",
        scenario,
        *options,
        "--duration",
        DURATION_S,
        "--out",
        out,
        "--no-progress",
    )

    assert run.code == 0, run
    assert missing_files(out) == []
    summary = (out / "summary.txt").read_text(encoding="utf-8")
    assert "SIMULATED" in summary.splitlines()[0]
    assert "wattbench result: VALID, SIMULATED" in run.out
    result = read_json(out / "result.json")
    assert (result["valid"], result["simulated"], result["scenario"]) == (True, True, scenario)
    assert [m["simulated"] for m in result["meters"]] == [True]
    assert result["meters"][0]["spec"] == CONSTANT_METER
    assert result["director"]["address"] == director.address
    assert director.session_states()[result["director"]["session_id"]] == "done"
    record = read_json(out / "power" / "client.json")
    assert record["state"] == "complete"
    fraction = 0.5 if "--ranging-fraction" in options else 1.0
    assert record["workload"]["min_duration_ms"] == 1500
    assert record["workload"]["ranging_min_duration_ms"] == 1500 * fraction
    assert read_json(out / "power" / "server.json")["state"] == "done"
    for phase in ("ranging", "testing"):
        loadgen = result["phases"][phase]["loadgen"]
        assert (loadgen["scenario"], loadgen["official_loadgen"]) == (scenario, False)
        assert loadgen["result_validity"] == "VALID"
    assert_power_figures(result)

    metrics = result["metrics"]
    loadgen = result["phases"]["testing"]["loadgen"]
    joules = metrics["energy_joules"]["value"]
    per_joule = metrics["samples_per_joule"]
    assert per_joule["unit"] == "samples/J"
    assert per_joule["value"] == pytest.approx(loadgen["samples_processed"] / joules, rel=1e-9)
    if scenario in ("SingleStream", "MultiStream"):
        per_query = metrics["energy_per_query_millijoules"]
        assert per_query["unit"] == "mJ"
        assert per_query["value"] == pytest.approx(joules * 1000 / loadgen["query_count"])
        assert metrics["mlperf"]["power_metric"]["unit"] == "millijoules"
        assert loadgen["samples_per_query"] == (8 if scenario == "MultiStream" else 1)
    else:
        assert metrics["mlperf"]["power_metric"]["unit"] == "Watts"
        assert metrics["mlperf"]["efficiency"]["value"] == pytest.approx(
            loadgen["performance"]["value"] / metrics["mlperf"]["power_metric"]["value"]
        )
    assert math.isclose(
        per_joule["uncertainty"] / per_joule["value"],
        metrics["energy_joules"]["uncertainty"] / joules,
        rel_tol=1e-9,
    )

    assert_checks_all_pass(capsys, out)


def test_run_all_in_one_measures_with_an_embedded_director(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result"
    run = wattbench(
        capsys,
        "run",
        "--meter",
        CONSTANT_METER,
        "--sut",
        NULL_SUT,
        "--scenario",
        "SingleStream",
        "--duration",
        DURATION_S,
        "--out",
        out,
        "--no-progress",
    )

    assert run.code == 0, run
    assert "wattbench run: SIMULATED meter" in run.err
    assert "wattbench result: VALID, SIMULATED" in run.out
    assert missing_files(out) == []
    result = read_json(out / "result.json")
    assert result["director"]["address"].startswith("127.0.0.1:")
    assert result["meters"][0]["spec"] == CONSTANT_METER
    assert_power_figures(result)
    assert_checks_all_pass(capsys, out)


def test_client_runs_an_official_loadgen_harness_as_the_workload(
    director: Director, secret_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result"
    command = shlex.join([sys.executable, str(HARNESS), "mlperf_loadgen", "Server", "1500"])
    run = wattbench(
        capsys,
        "client",
        "--director",
        director.address,
        "--secret-file",
        secret_file,
        "--workload",
        command,
        "--out",
        out,
        "--no-progress",
    )

    assert run.code == 0, run
    assert missing_files(out) == []
    result = read_json(out / "result.json")
    assert result["valid"] is True
    for phase in ("ranging", "testing"):
        loadgen = result["phases"][phase]["loadgen"]
        assert loadgen["official_loadgen"] is True
        assert loadgen["scenario"] == "Server"
        assert "wattbench" not in loadgen["loadgen_version"]
    workload = read_json(out / "power" / "client.json")["workload"]
    assert (workload["kind"], workload["command_line"]) == ("command", command)
    harness_log = out / "raw" / "run_1" / "loadgen" / "workload.log"
    assert "harness: mlperf_loadgen Server phase=testing" in harness_log.read_text()
    assert_power_figures(result)
    assert_checks_all_pass(capsys, out)
