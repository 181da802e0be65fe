"""Sampler throughput and timing: the simulated WT310E over a real pty at 1 kHz.

Starts the simulator with a 1 ms update interval (in a child process by default, as a real meter
is outside the director; ``--same-process`` shares the GIL with it), opens it through the
registry and the serial driver exactly as a USB-serial meter, runs one
:class:`~power_director.sampler.Sampler` for
``--seconds`` and reports samples, dropped (missed updates), invalid samples, and the interval
error (actual minus nominal period between consecutive samples) at p50/p99/max, as a table and
as JSON.

Usage::

    .venv/bin/python benchmarks/sampler_rate.py --seconds 60
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection

from power_director.meters.registry import open_meter
from power_director.sampler import Gap, Sampler
from power_director.samples import Sample
from power_director.sim import SimulatorConfig, start_simulator


class _Recorder:
    def __init__(self) -> None:
        self.t_mono_ns: list[int] = []
        self.gaps: list[Gap] = []

    def on_sample(self, sample: Sample) -> None:
        self.t_mono_ns.append(sample.t_mono_ns)

    def on_gap(self, gap: Gap) -> None:
        self.gaps.append(gap)


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _serve(period_s: float, conn: Connection) -> None:
    """Child process: run the simulator until told to stop (the meter is outside the director)."""
    with start_simulator(config=SimulatorConfig(update_interval_s=period_s)) as sim:
        conn.send(sim.spec)
        conn.recv()


def run(seconds: float, period_s: float, *, same_process: bool = False) -> dict[str, object]:
    """Sample the simulator for ``seconds`` and return the measurements."""
    if same_process:
        sim = start_simulator(config=SimulatorConfig(update_interval_s=period_s))
        spec, stop_sim = sim.spec, sim.close
    else:
        parent, child = multiprocessing.Pipe()
        process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(period_s, child)
        )
        process.start()
        spec = parent.recv()

        def stop_sim() -> None:
            parent.send("stop")
            process.join(10)
            parent.close()
            child.close()

    try:
        meter = open_meter(spec)
        try:
            recorder = _Recorder()
            sampler = Sampler("wt310e", meter, [recorder], period_s=period_s)
            start = time.monotonic()
            sampler.start()
            time.sleep(seconds)
            stats = sampler.stop()
            elapsed = time.monotonic() - start
        finally:
            meter.close()
    finally:
        stop_sim()
    period_ns = period_s * 1e9
    stamps = recorder.t_mono_ns
    errors_us = [abs((b - a) - period_ns) / 1e3 for a, b in itertools.pairwise(stamps)]
    return {
        "simulator": "same process" if same_process else "child process",
        "seconds": round(elapsed, 3),
        "period_s": period_s,
        "samples": stats.samples,
        "rate_hz": round(stats.samples / elapsed, 1),
        "expected": round(elapsed / period_s),
        "dropped": stats.missed_updates,
        "gaps": stats.gaps,
        "max_gap_s": round(stats.max_gap_s, 6),
        "invalid": stats.invalid_samples,
        "interval_error_us_p50": round(_percentile(errors_us, 0.50), 1),
        "interval_error_us_p99": round(_percentile(errors_us, 0.99), 1),
        "interval_error_us_max": round(max(errors_us, default=float("nan")), 1),
        "interval_error_us_mean": round(statistics.fmean(errors_us), 1) if errors_us else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print a table and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="run length (default 60)")
    parser.add_argument("--period-s", type=float, default=0.001, help="update period (1 ms)")
    parser.add_argument(
        "--same-process", action="store_true", help="run the simulator in this process (GIL)"
    )
    args = parser.parse_args(argv)
    result = run(args.seconds, args.period_s, same_process=args.same_process)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
