"""Session overhead of a measured run beyond its two workload runs, broken down step by step.

Issue 4's goal: a measured run costs at most 2 s beyond the two workload runs (power-dev: >= 40 s
of fixed sleeps plus a full ranging run). This runs, in process, what ``wattbench run`` runs —
:func:`~power_client.embedded.embedded_director` with ``sim?rate=RATE``, then
:class:`~power_client.connection.DirectorClient` and
:func:`~power_client.measured_run.measured_run` over a
:class:`~power_client.sut_workload.SutWorkload` — with the client, the workload and the report
wrapped in timing proxies (no change to the code measured). From the timestamps:

==========================  ===================================================================
director start              embedded director: open and identify the meter, listen (``run`` only)
connect                     TCP connect, version check, mutual HMAC authentication
info + clock check          ``info`` and the 16 ``time`` exchanges of the start clock check
calibration                 the workload's unmeasured probe (1 s LoadGen pass + SUT open):
                            reported separately, it is not part of the session
session + phase RPCs        ``new_session``, ``start_phase``, ``stop_phase``
margins                     measured_run's sleeps around each workload run so the join never
                            extrapolates: (1.5 + 2) x period + 50 ms before, 1.5 x period +
                            50 ms after (period = the meter's update interval)
after-phase                 copy the LoadGen logs, clock check after the phase
done + fetch                ``done`` and fetching every session file
client.json + analysis      hashes, ``client.json``, :func:`~power_client.analysis.analyze`,
                            ``result.json``
report                      :func:`~power_client.report.write_report`: summary, plot, HTML
==========================  ===================================================================

"Workload runs" are the two ``Workload.run`` calls (LoadGen setup, the performance pass, log
writing, finding the detail log); their LoadGen windows (``power_end - power_begin``) are shown
too. Overhead = wall time of the whole run - the two workload runs; the goal applies to it
without the calibration probe and without the director start (which a two-machine run does not
have). Rates are alternated between repeats; medians are reported.

``--cli`` also times the real command, ``wattbench run ... --duration D`` in a fresh process, and
subtracts the two LoadGen windows read from its ``result.json`` (this includes interpreter
start, imports, opening the SUT and calibration).

Usage::

    .venv/bin/python benchmarks/session_overhead.py --repeats 3 --duration 5
    .venv/bin/python benchmarks/session_overhead.py --rate 100ms --rate 1s --cli
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import power_client.analysis
import power_client.report
from power_client.connection import DirectorClient
from power_client.embedded import embedded_director
from power_client.measured_run import RunOptions, measured_run
from power_client.sut_workload import SutWorkload
from power_client.workload import ProgressSink, WorkloadRun

GOAL_S = 2.0
DEFAULT_RATES = ("100ms", "1s")
STEPS = (
    "director start",
    "connect",
    "info + clock check",
    "calibration",
    "session + phase RPCs",
    "margin before workload",
    "margin after workload",
    "after-phase (logs, clock check)",
    "done + fetch",
    "client.json + analysis",
    "report (summary, plot, html)",
    "other",
)


class Timeline:
    """(name, start, end) events on :func:`time.perf_counter`."""

    def __init__(self) -> None:
        self.events: list[tuple[str, float, float]] = []

    def timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.events.append((name, start, time.perf_counter()))

        return wrapper

    def all(self, name: str) -> list[tuple[float, float]]:
        return [(a, b) for n, a, b in self.events if n == name]

    def total(self, name: str) -> float:
        return sum(b - a for a, b in self.all(name))


class TimedClient:
    """Forwards to a :class:`DirectorClient`, timing every request."""

    _TIMED = frozenset(
        {"info", "time", "new_session", "start_phase", "stop_phase", "done", "fetch", "abort"}
    )

    def __init__(self, inner: DirectorClient, timeline: Timeline) -> None:
        self._inner = inner
        self._timeline = timeline

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name in self._TIMED:
            return self._timeline.timed(name, attr)
        return attr


class TimedWorkload:
    """Forwards to a :class:`SutWorkload`, timing ``calibrate`` and ``run``."""

    def __init__(self, inner: SutWorkload, timeline: Timeline) -> None:
        self.inner = inner
        self.timeline = timeline
        self.windows_s: list[float] = []

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    def calibrate(self) -> dict[str, float]:
        result: dict[str, float] = self.timeline.timed("calibrate", self.inner.calibrate)()
        return result

    def run(self, phase: str, out_dir: Path, progress: ProgressSink | None = None) -> WorkloadRun:
        run: WorkloadRun = self.timeline.timed("workload", self.inner.run)(phase, out_dir, progress)
        if run.info is not None:
            self.windows_s.append(run.info.duration_ns / 1e9)
        return run

    def close(self) -> None:
        self.inner.close()


def _parse_rate_s(rate: str) -> float:
    text = rate.strip().lower()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    if text.endswith("s"):
        return float(text[:-1])
    return float(text)


def one_run(sut: str, scenario: str, duration_s: float, rate: str, out: Path) -> dict[str, float]:
    """Run one in-process measured run; return seconds per step and the totals."""
    tl = Timeline()
    workload = TimedWorkload(SutWorkload(sut, scenario, duration_ms=int(duration_s * 1000)), tl)
    original_analyze = power_client.analysis.analyze
    original_report = power_client.report.write_report
    power_client.analysis.analyze = tl.timed("analyze", original_analyze)
    power_client.report.write_report = tl.timed("report", original_report)
    try:
        t0 = time.perf_counter()
        with embedded_director([f"sim?rate={rate}"]) as director:
            t_director = time.perf_counter()
            with DirectorClient.connect(director.address, director.secret) as client:
                t_connected = time.perf_counter()
                measured_run(
                    cast(DirectorClient, TimedClient(client, tl)),
                    workload,
                    out,
                    RunOptions(label="session_overhead"),
                    director_address=director.address,
                )
                t_returned = time.perf_counter()
        t_end = time.perf_counter()
    finally:
        power_client.analysis.analyze = original_analyze
        power_client.report.write_report = original_report
        workload.close()

    def first(name: str) -> tuple[float, float]:
        return tl.all(name)[0]

    starts = tl.all("start_phase")
    stops = tl.all("stop_phase")
    runs = tl.all("workload")
    calibrate = tl.all("calibrate")
    info_start = first("info")[0]
    clock_end = calibrate[0][0] if calibrate else first("new_session")[0]
    after_phase = 0.0
    for index, (_, stop_end) in enumerate(stops):
        following = starts[index + 1][0] if index + 1 < len(starts) else first("done")[0]
        after_phase += following - stop_end
    done_start = first("done")[0]
    fetch_end = max(b for _, b in tl.all("fetch"))
    steps = {
        "director start": t_director - t0,
        "connect": t_connected - t_director,
        "info + clock check": clock_end - info_start,
        "calibration": sum(b - a for a, b in calibrate),
        "session + phase RPCs": tl.total("new_session")
        + tl.total("start_phase")
        + tl.total("stop_phase"),
        "margin before workload": sum(r[0] - s[1] for s, r in zip(starts, runs, strict=True)),
        "margin after workload": sum(p[0] - r[1] for r, p in zip(runs, stops, strict=True)),
        "after-phase (logs, clock check)": after_phase,
        "done + fetch": fetch_end - done_start,
        "client.json + analysis": first("report")[0] - fetch_end,
        "report (summary, plot, html)": tl.total("report"),
    }
    total = t_end - t0
    workload_s = sum(b - a for a, b in runs)
    steps["other"] = total - workload_s - sum(steps.values())
    return {
        **steps,
        "analyze() alone": tl.total("analyze"),
        "measured_run() return to exit": t_end - t_returned,
        "total": total,
        "workload runs": workload_s,
        "LoadGen windows": sum(workload.windows_s),
        "overhead": total - workload_s,
        "overhead excl. calibration and director start": total
        - workload_s
        - steps["calibration"]
        - steps["director start"],
    }


def cli_run(sut: str, scenario: str, duration_s: float, rate: str, out: Path) -> dict[str, float]:
    """Time ``wattbench run`` in a fresh process; subtract the LoadGen windows."""
    argv = [
        sys.executable,
        "-m",
        "power_client",
        "run",
        "--meter",
        f"sim?rate={rate}",
        "--sut",
        sut,
        "--scenario",
        scenario,
        "--duration",
        f"{duration_s:g}",
        "--out",
        str(out),
        "--no-progress",
    ]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 3):
        raise RuntimeError(f"wattbench run exited {proc.returncode}: {proc.stderr[-2000:]}")
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    windows = sum(float(p["window"]["duration_s"]) for p in result["phases"].values())
    return {"total": wall, "LoadGen windows": windows, "overhead": wall - windows}


def _median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sut", default="null?work_us=100", help="SUT spec (null?work_us=100)")
    parser.add_argument("--scenario", default="SingleStream", help="scenario (SingleStream)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase (5)")
    parser.add_argument(
        "--rate",
        action="append",
        metavar="RATE",
        help=f"meter update interval (repeatable; default {', '.join(DEFAULT_RATES)})",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per rate (3)")
    parser.add_argument("--cli", action="store_true", help="also time `wattbench run` itself")
    args = parser.parse_args(argv)
    rates = args.rate or list(DEFAULT_RATES)
    print(
        f"# {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {args.scenario} "
        f"{args.sut}, {args.duration:g} s per phase, {args.repeats} repeats",
        file=sys.stderr,
    )
    results: dict[str, list[dict[str, float]]] = {r: [] for r in rates}
    cli: dict[str, list[dict[str, float]]] = {r: [] for r in rates}
    with tempfile.TemporaryDirectory(prefix="wattbench-session-") as tmp:
        for repeat in range(args.repeats):
            order = rates if repeat % 2 == 0 else list(reversed(rates))
            for rate in order:
                out = Path(tmp) / f"{repeat}-{rate}"
                row = one_run(args.sut, args.scenario, args.duration, rate, out)
                results[rate].append(row)
                print(
                    f"# repeat {repeat + 1} rate {rate}: total {row['total']:.2f} s, "
                    f"overhead {row['overhead']:.2f} s",
                    file=sys.stderr,
                )
                if args.cli:
                    crow = cli_run(
                        args.sut, args.scenario, args.duration, rate, Path(tmp) / f"cli-{out.name}"
                    )
                    cli[rate].append(crow)
                    print(
                        f"# repeat {repeat + 1} rate {rate}: wattbench run {crow['total']:.2f} s",
                        file=sys.stderr,
                    )
    keys = [
        *STEPS,
        "analyze() alone",
        "measured_run() return to exit",
        "workload runs",
        "LoadGen windows",
        "total",
        "overhead",
        "overhead excl. calibration and director start",
    ]
    width = max(len(k) for k in keys) + 2
    print(f"{'median seconds':<{width}}" + "".join(f"{'rate ' + r:>14}" for r in rates))
    for key in keys:
        print(f"{key:<{width}}" + "".join(f"{_median(results[r], key):>14.3f}" for r in rates))
    print(
        f"{'formula: margins, both phases':<{width}}"
        + "".join(f"{2 * (5 * _parse_rate_s(r) + 0.1):>14.3f}" for r in rates)
    )
    goal_row = []
    for r in rates:
        value = _median(results[r], "overhead excl. calibration and director start")
        goal_row.append(f"{value / GOAL_S:.2f} {'met' if value <= GOAL_S else 'MISSED'}")
    print(f"{'ratio to the 2 s goal':<{width}}" + "".join(f"{g:>14}" for g in goal_row))
    if args.cli:
        for key in ("total", "LoadGen windows", "overhead"):
            label = f"wattbench run: {key}"
            print(f"{label:<{width}}" + "".join(f"{_median(cli[r], key):>14.3f}" for r in rates))
    summary = {
        "sut": args.sut,
        "scenario": args.scenario,
        "duration_s": args.duration,
        "repeats": args.repeats,
        "median": {r: {k: round(_median(results[r], k), 4) for k in keys} for r in rates},
        "cli_median": (
            {r: {k: round(_median(cli[r], k), 4) for k in cli[r][0]} for r in rates}
            if args.cli
            else None
        ),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
