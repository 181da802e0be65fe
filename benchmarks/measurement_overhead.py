"""SUT throughput while the director and client measure vs not measuring, alternated in one run.

Issue 4's goal: measuring costs the SUT at most 1 % of its throughput (power-dev users report
about 10 %). For each case (a scenario and a SUT spec) one
:class:`~power_client.sut_workload.SutWorkload` is opened and calibrated once, unmeasured, so
every run of the case uses the same SUT instance and the same LoadGen settings. Then, in each
round, the case runs once per arm:

* ``unmeasured``: ``SutWorkload.run`` alone — no director, no sampler, no client (the director
  is not even running);
* ``measured@RATE``: the same workload inside :func:`~power_client.measured_run.measured_run`,
  as ``wattbench run`` does it: an embedded director on loopback (``--director embedded``,
  the default: director, sampler and simulated meter are threads of this process, sharing the
  GIL with LoadGen and the SUT) or a ``wattbench director`` child process
  (``--director process``: the SUT process only hosts the client, which is idle while the
  workload runs, as on a two-machine setup — but the director still shares this host's cores),
  with the meter ``sim?rate=RATE``. A faster rate shows the sampler's cost. In process mode the
  director's CPU time over the session (``/proc``) is reported as a share of one core: a
  figure the other tenants of a shared machine do not disturb.

The arms' order alternates between rounds (forward, then reversed), so a drift of the machine
over the run cancels out. Each measured run's throughput is LoadGen's own figure from the testing
phase's detail log (:func:`~power_client.loadgen_run.read_loadgen_run`,
``throughput_samples_per_s``: ``result_samples_per_second`` for Offline, samples over the
performance window for SingleStream); each is divided by the unmeasured run of the same round.
Reported: the median throughputs, the median of the paired ratios (measured / unmeasured), its
range, the loss ``1 - ratio`` and the 1 % goal, and the sampler's achieved rate.

By default the measured run skips ranging (manual ranges 300 V / 2 A, which the simulated
WT310E at 230 V and <= 200 W never exceeds): the ranging phase adds nothing to the comparison,
only time. ``--with-ranging`` runs both phases and compares the testing phase.

Note on ``null?work_us=N``: the null SUT busy-waits to a wall-clock deadline, so in Offline
(one query of all samples) its throughput hardly depends on CPU time taken by other threads;
SingleStream exposes LoadGen's per-query Python work. The OpenVINO case is the realistic one.

Usage::

    .venv/bin/python benchmarks/measurement_overhead.py --pairs 4 --duration 10
    .venv/bin/python benchmarks/measurement_overhead.py --case Offline:openvino:@CPU \\
        --rate 100ms --rate 10ms --director process
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from power_client.connection import DirectorClient
from power_client.embedded import embedded_director
from power_client.loadgen_run import read_loadgen_run
from power_client.measured_run import RunOptions, measured_run
from power_client.sut_workload import SutWorkload
from power_client.workload import ProgressSink, WorkloadRun
from power_director.auth import Secret, generate_secret, load_secret

GOAL_LOSS = 0.01
DEFAULT_CASES = (
    "Offline:null?work_us=100",
    "SingleStream:null?work_us=100",
    "Offline:openvino:@CPU",
)
DEFAULT_RATES = ("100ms", "10ms")


class FixedWorkload:
    """A calibrated :class:`SutWorkload` without ``calibrate``, so every arm runs the same settings.

    (:func:`measured_run` calibrates a workload that has ``calibrate``; here that was done once,
    up front, for both arms.)
    """

    def __init__(self, inner: SutWorkload) -> None:
        self.inner = inner

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def run(self, phase: str, out_dir: Path, progress: ProgressSink | None = None) -> WorkloadRun:
        return self.inner.run(phase, out_dir, progress)

    def close(self) -> None:
        """The SUT stays open for the next run; the benchmark closes it."""


@dataclass
class ArmResult:
    """One run of one arm: LoadGen's throughput and, when measured, the sampler's rate."""

    throughput: float
    validity: str
    window_s: float
    samples_in_window: int | None = None
    session_wall_s: float | None = None
    director_cpu_share: float | None = None  # director process CPU s / session wall s


@dataclass
class CaseResult:
    case: str
    arms: dict[str, list[ArmResult]] = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time of process ``pid`` so far (Linux ``/proc``), s."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class DirectorHandle:
    """Where a director listens, its secret, and (a child process) its pid."""

    address: str
    secret: Secret
    pid: int | None = None


@contextlib.contextmanager
def process_director(meter: str, folder: Path) -> Iterator[DirectorHandle]:
    """Run ``wattbench director`` in a child process on a free loopback port."""
    folder.mkdir(parents=True, exist_ok=True)
    secret_file = folder / "secret"
    secret_file.write_text(generate_secret() + "\n", encoding="utf-8")
    secret_file.chmod(0o600)
    port = _free_port()
    data_dir = folder / "director"
    argv = [
        sys.executable,
        "-m",
        "power_director",
        "director",
        "--meter",
        meter,
        "--listen",
        f"127.0.0.1:{port}",
        "--data-dir",
        str(data_dir),
        "--secret-file",
        str(secret_file),
    ]
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"director exited with {proc.returncode}: {err}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("director did not listen within 30 s") from None
                time.sleep(0.05)
        yield DirectorHandle(address, load_secret(secret_file), proc.pid)
    finally:
        proc.send_signal(2)  # SIGINT: the director's normal stop
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def director(mode: str, meter: str, folder: Path) -> Iterator[DirectorHandle]:
    if mode == "process":
        with process_director(meter, folder) as found:
            yield found
    else:
        with embedded_director([meter], data_dir=folder / "director") as d:
            yield DirectorHandle(d.address, d.secret)


def run_unmeasured(workload: SutWorkload, out: Path) -> ArmResult:
    run = workload.run("testing", out)
    info = run.info or run.loadgen_run(run.begin_wall_ns, run.end_wall_ns)
    return ArmResult(
        throughput=float(info.throughput_samples_per_s or 0.0),
        validity=info.result_validity,
        window_s=info.duration_ns / 1e9,
    )


def run_measured(
    workload: SutWorkload, out: Path, meter: str, mode: str, with_ranging: bool
) -> ArmResult:
    options = RunOptions(
        label="measurement_overhead",
        skip_ranging=not with_ranging,
        volts_range=None if with_ranging else 300.0,
        amps_range=None if with_ranging else 2.0,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with director(mode, meter, out.parent / (out.name + "-director")) as handle:
        cpu_before = cpu_seconds(handle.pid) if handle.pid else 0.0
        start = time.perf_counter()
        with DirectorClient.connect(handle.address, handle.secret) as client:
            result = measured_run(
                client, FixedWorkload(workload), out, options, director_address=handle.address
            )
        session_s = time.perf_counter() - start
        share = (cpu_seconds(handle.pid) - cpu_before) / session_s if handle.pid else None
    info = read_loadgen_run(out / "run_1" / "mlperf_log_detail.txt")
    energy = result["phases"]["testing"]["energy"]
    return ArmResult(
        throughput=float(info.throughput_samples_per_s or 0.0),
        validity=info.result_validity,
        window_s=info.duration_ns / 1e9,
        samples_in_window=int(energy["samples_in_window"]),
        session_wall_s=session_s,
        director_cpu_share=share,
    )


def run_case(
    case: str,
    rates: Sequence[str],
    pairs: int,
    duration_s: float,
    mode: str,
    with_ranging: bool,
    tmp: Path,
) -> CaseResult:
    scenario, _, spec = case.partition(":")
    workload = SutWorkload(spec, scenario, duration_ms=int(duration_s * 1000))
    result = CaseResult(case)
    try:
        chosen = workload.calibrate()
        print(f"# {case}: calibrated {chosen or '(nothing to calibrate)'}", file=sys.stderr)
        arms = ["unmeasured", *(f"measured@{rate}" for rate in rates)]
        for arm in arms:
            result.arms[arm] = []
        for round_no in range(pairs):
            order = arms if round_no % 2 == 0 else list(reversed(arms))
            for arm in order:
                out = tmp / f"{_slug(case)}-{round_no}-{arm.replace('@', '-')}"
                if arm == "unmeasured":
                    got = run_unmeasured(workload, out)
                else:
                    meter = f"sim?rate={arm.partition('@')[2]}"
                    got = run_measured(workload, out, meter, mode, with_ranging)
                result.arms[arm].append(got)
                print(
                    f"# {case} round {round_no + 1}/{pairs} {arm}: "
                    f"{got.throughput:,.1f} samples/s ({got.validity}, window {got.window_s:.2f} s"
                    + (
                        f", {got.samples_in_window} samples"
                        if got.samples_in_window is not None
                        else ""
                    )
                    + ")",
                    file=sys.stderr,
                )
    finally:
        workload.close()
    return result


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)[:40]


def summarize(result: CaseResult) -> list[dict[str, Any]]:
    base = result.arms["unmeasured"]
    rows = [
        {
            "case": result.case,
            "arm": "unmeasured",
            "median_samples_per_s": statistics.median(r.throughput for r in base),
        }
    ]
    for arm, runs in result.arms.items():
        if arm == "unmeasured":
            continue
        ratios = [
            m.throughput / u.throughput for m, u in zip(runs, base, strict=True) if u.throughput > 0
        ]
        ratio = statistics.median(ratios)
        rates = [
            r.samples_in_window / r.window_s
            for r in runs
            if r.samples_in_window is not None and r.window_s > 0
        ]
        rows.append(
            {
                "case": result.case,
                "arm": arm,
                "median_samples_per_s": statistics.median(r.throughput for r in runs),
                "paired_ratios": [round(x, 4) for x in ratios],
                "median_ratio": ratio,
                "min_ratio": min(ratios),
                "max_ratio": max(ratios),
                "loss": 1.0 - ratio,
                "goal_met": 1.0 - ratio <= GOAL_LOSS,
                "sampler_hz": statistics.median(rates) if rates else None,
                "director_cpu_share": _median_or_none([r.director_cpu_share for r in runs]),
            }
        )
    return rows


def _median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'case':<32} {'arm':<16} {'samples/s':>12} {'ratio':>7} {'range':>15} "
        f"{'loss':>7} {'sampler':>9} {'dir CPU':>8}  goal: loss <= {GOAL_LOSS:.0%}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row["arm"] == "unmeasured":
            print(f"{row['case']:<32} {row['arm']:<16} {row['median_samples_per_s']:>12,.1f}")
            continue
        hz = row["sampler_hz"]
        cpu = row["director_cpu_share"]
        print(
            f"{row['case']:<32} {row['arm']:<16} {row['median_samples_per_s']:>12,.1f} "
            f"{row['median_ratio']:>7.4f} "
            f"{row['min_ratio']:>7.4f}-{row['max_ratio']:<7.4f} {row['loss']:>+7.2%} "
            f"{(f'{hz:.1f} Hz' if hz else 'n/a'):>9} "
            f"{(f'{cpu:.1%}' if cpu is not None else 'n/a'):>8}  "
            f"{'met' if row['goal_met'] else 'MISSED'}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--case",
        action="append",
        metavar="SCENARIO:SUT",
        help=f"scenario and SUT spec (repeatable; default {', '.join(DEFAULT_CASES)})",
    )
    parser.add_argument(
        "--rate",
        action="append",
        metavar="RATE",
        help=f"simulated meter update interval of a measured arm (repeatable; default "
        f"{', '.join(DEFAULT_RATES)})",
    )
    parser.add_argument("--pairs", type=int, default=3, help="rounds per case (default 3)")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="LoadGen min duration per run, s (10)"
    )
    parser.add_argument(
        "--director",
        choices=("embedded", "process"),
        default="embedded",
        help="embedded (as wattbench run; default) or a wattbench director child process",
    )
    parser.add_argument(
        "--with-ranging", action="store_true", help="measured runs do ranging + testing"
    )
    args = parser.parse_args(argv)
    cases = args.case or list(DEFAULT_CASES)
    rates = args.rate or list(DEFAULT_RATES)
    print(
        f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; director "
        f"{args.director}; {args.pairs} rounds x {args.duration:g} s",
        file=sys.stderr,
    )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="wattbench-overhead-") as tmp:
        for case in cases:
            result = run_case(
                case,
                rates,
                args.pairs,
                args.duration,
                args.director,
                args.with_ranging,
                Path(tmp),
            )
            rows.extend(summarize(result))
    print_table(rows)
    print(json.dumps({"director": args.director, "pairs": args.pairs, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
