"""Cost of the Prometheus metrics: LoadGen and the sampler with metrics on vs off, in one run.

Measurements alternate off/on and on/off (ABBA, so a drift over the run cancels); each pair
gives a ratio on/off and the table shows the median ratio. Wall-clock rates on a shared machine
drift by several percent between runs, more than the 1 % goal, so every section also reports a
CPU figure that contention does not blur:

* **LoadGen** (our LoadGen, inline null SUT): SingleStream ``result_qps_with_loadgen_overhead``
  and Offline ``result_samples_per_second``. "On" is
  :class:`~power_client.live_metrics.LiveMetrics` following the run's monitor with its poller
  (1 s) plus a thread scraping the registry every 0.5 s, as Prometheus would. CPU figure: the
  CPU time of the poller and scraper threads as a share of the run's wall time (with the GIL,
  the share of the interpreter they take from LoadGen). The runner does not yet hand the
  monitor its issue times; this script emulates the one-line runner change
  (``monitor.attach(rec, out, plan)``) by wrapping ``loadgen.runner.issue_pass``, so
  SingleStream feeds the latency histogram as it will in production.
* **Sampler, flat out**: one :class:`~power_director.sampler.Sampler` stepping back to back over
  an in-memory meter through the engine's sinks (JSONL + spl.txt writer, phase statistics), with
  and without :class:`~power_director.exporter.DirectorExporter` as an observer (plus a scrape
  every 0.5 s). CPU figure: the sampler thread's CPU time per sample. The sampler's worst case:
  every per-sample cost shows in full.
* **Sampler at 1 kHz**: the simulated WT310E (1 ms updates) in a child process over a real pty,
  sampled for ``--sim-seconds`` with and without the exporter: samples, missed updates and the
  p99 interval error.

usage: python benchmarks/metrics_overhead.py [--pairs 6] [--seconds 1] [--samples 50000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

import loadgen
import loadgen.runner
from loadgen import RunMonitor, TestMode, TestScenario, TestSettings
from power_client.live_metrics import LiveMetrics
from power_director.exporter import DirectorExporter
from power_director.meters.base import MeterIdentity, PowerMeter, RangeTable
from power_director.meters.registry import open_meter
from power_director.phase_stats import PhaseAccumulator
from power_director.powerlog import PowerLogWriter
from power_director.sampler import Gap, Sampler, SampleSink
from power_director.samples import ChannelReading, Sample
from power_director.sim import SimulatorConfig, start_simulator
from suts.null import NullSut, SyntheticQsl

GOAL = 0.01
# metrics on? -> (rate, {CPU figure: value})
Measure = Callable[[bool], tuple[float, dict[str, float]]]


class CpuMeter:
    """Adds up the CPU time of calls made from any thread (``time.thread_time``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kw: Any) -> Any:
            t0 = time.thread_time()
            try:
                return fn(*args, **kw)
            finally:
                with self._lock:
                    self.seconds += time.thread_time() - t0

        return timed


@contextmanager
def scraping(
    registry: CollectorRegistry, cpu: CpuMeter | None = None, every_s: float = 0.5
) -> Iterator[None]:
    """Scrape ``registry`` every ``every_s`` from a thread, as Prometheus would."""
    stop = threading.Event()
    scrape = generate_latest if cpu is None else cpu.wrap(generate_latest)

    def loop() -> None:
        while not stop.wait(every_s):
            scrape(registry)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def issue_times_attached(monitor: RunMonitor) -> Iterator[None]:
    """Emulate ``monitor.attach(rec, out, plan)`` in the runner (the proposed one-liner)."""
    namespace = vars(loadgen.runner)
    original = namespace["issue_pass"]

    def issue_pass(scenario: Any, plan: Any, sut: Any, rec: Any, *args: Any, **kw: Any) -> None:
        monitor.attach(rec, args[2], plan)  # args: clock, limits, out
        original(scenario, plan, sut, rec, *args, **kw)

    namespace["issue_pass"] = issue_pass
    try:
        yield
    finally:
        namespace["issue_pass"] = original


def loadgen_once(
    scenario: TestScenario, seconds: float, metrics: bool
) -> tuple[float, dict[str, float]]:
    """Run one test; return its headline rate and CPU figures.

    ``metrics_share``: CPU time of the poller and scraper / wall time; ``runner_ns``: CPU
    time of the thread running LoadGen per sample, ns.
    """
    settings = TestSettings(
        scenario=scenario,
        mode=TestMode.PerformanceOnly,
        min_duration_ms=int(seconds * 1000),
        min_query_count=100,
        single_stream_expected_latency_ns=1500,
        offline_expected_qps=700_000,
    )
    monitor = RunMonitor()

    def run() -> loadgen.TestResult:
        return loadgen.start_test(
            NullSut(), SyntheticQsl(1024), settings, monitor=monitor, write_logs=False
        )

    cpu = CpuMeter()
    t0, c0 = time.perf_counter(), time.thread_time()
    if metrics:
        live = LiveMetrics()
        live.poll = cpu.wrap(live.poll)  # type: ignore[method-assign]
        live.follow(monitor)
        with live, scraping(live.registry, cpu), issue_times_attached(monitor):
            result = run()
    else:
        result = run()
    wall, runner_cpu = time.perf_counter() - t0, time.thread_time() - c0
    perf = result.performance
    assert perf is not None
    rate = (
        perf.qps_with_loadgen_overhead
        if scenario is TestScenario.SingleStream
        else perf.samples_per_second
    )
    figures = {
        "metrics_share": cpu.seconds / wall,
        "runner_ns": runner_cpu / max(perf.sample_count, 1) * 1e9,
    }
    return rate, figures


class MemoryMeter:
    """A meter read from memory: the sampler's own cost is all that is measured."""

    name = "mem"
    channel_count = 1
    range_table = RangeTable()
    update_interval_s = 0.001

    def __init__(self) -> None:
        self.readings = [
            ChannelReading(230.0, 0.5, 100.0 + i % 7, 0.9, watts_uncertainty=0.2) for i in range(64)
        ]
        self.reads = 0

    def identify(self) -> MeterIdentity:
        return MeterIdentity("MEM", "MEM", "0", "0")

    def read(self) -> list[ChannelReading]:
        self.reads += 1
        return [self.readings[self.reads % 64]]


class _StepClock:
    """Monotonic ns advancing a third of a period per read (a sampler cycle reads it 3 times)."""

    PERIOD_NS = 3_000

    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        self.ns += self.PERIOD_NS // 3
        return self.ns


def _no_wait(deadline_ns: int) -> None:
    return None


def sampler_once(samples: int, metrics: bool, folder: Path) -> tuple[float, dict[str, float]]:
    """Step a sampler ``samples`` times back to back; return samples/s and CPU µs per sample."""
    writer = PowerLogWriter(
        folder / "spl.txt", folder / "samples.jsonl", meter="mem", phase="testing", mark="m"
    )
    sinks: list[SampleSink] = [writer, PhaseAccumulator("mem", 1)]
    exporter = DirectorExporter() if metrics else None
    if exporter is not None:
        exporter.set_phase("testing")
        sinks.append(exporter)
    # A clock moving one period per cycle and a sleep that returns at once: back-to-back
    # reads the sampler sees as perfectly on time (no gaps).
    sampler = Sampler(
        "mem",
        cast(PowerMeter, MemoryMeter()),
        sinks,
        period_s=_StepClock.PERIOD_NS / 1e9,
        clock_ns=_StepClock(),
        sleep_until_ns=_no_wait,
    )
    step = sampler.step
    t0, c0 = time.perf_counter(), time.thread_time()
    if exporter is not None:
        with scraping(exporter.registry):
            for _ in range(samples):
                step()
    else:
        for _ in range(samples):
            step()
    elapsed, cpu = time.perf_counter() - t0, time.thread_time() - c0
    writer.close()
    return samples / elapsed, {"sampler_us": cpu / samples * 1e6}


class _Stamps:
    def __init__(self) -> None:
        self.t_mono_ns: list[int] = []

    def on_sample(self, sample: Sample) -> None:
        self.t_mono_ns.append(sample.t_mono_ns)

    def on_gap(self, gap: Gap) -> None:
        pass


def _serve(period_s: float, conn: Connection) -> None:
    """Child process: the simulated meter, outside the director as a real one is."""
    with start_simulator(config=SimulatorConfig(update_interval_s=period_s)) as sim:
        conn.send(sim.spec)
        conn.recv()


def sim_once(spec: str, seconds: float, metrics: bool, period_s: float = 0.001) -> dict[str, float]:
    """Sample the simulator for ``seconds``; return samples, missed updates, p99 error (µs)."""
    meter = open_meter(spec)
    try:
        stamps = _Stamps()
        sinks: list[SampleSink] = [stamps]
        exporter = DirectorExporter() if metrics else None
        if exporter is not None:
            exporter.set_phase("testing")
            sinks.append(exporter)
        sampler = Sampler("wt310e", meter, sinks, period_s=period_s)
        with scraping(exporter.registry) if exporter is not None else _nothing():
            sampler.start()
            time.sleep(seconds)
            stats = sampler.stop()
    finally:
        meter.close()
    errors = sorted(
        abs((b - a) - period_s * 1e9) / 1e3 for a, b in itertools.pairwise(stamps.t_mono_ns)
    )
    p99 = errors[min(len(errors) - 1, round(0.99 * (len(errors) - 1)))] if errors else 0.0
    return {"samples": stats.samples, "missed": stats.missed_updates, "p99_us": p99}


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def pairs(measure: Measure, n: int) -> dict[str, float]:
    """Measure off/on ``n`` times in ABBA order; return medians and the median pair ratio."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    figures: dict[tuple[bool, str], list[float]] = {}
    ratios = []
    for i in range(n):
        got = {}
        for metrics in (False, True) if i % 2 == 0 else (True, False):
            got[metrics] = measure(metrics)
            rates[metrics].append(got[metrics][0])
            for name, number in got[metrics][1].items():
                figures.setdefault((metrics, name), []).append(number)
        ratios.append(got[True][0] / got[False][0])
    out = {
        "off": statistics.median(rates[False]),
        "on": statistics.median(rates[True]),
        "median_pair_ratio": statistics.median(ratios),
        "min_pair_ratio": min(ratios),
        "max_pair_ratio": max(ratios),
        "pairs": float(n),
    }
    for (metrics, name), numbers in figures.items():
        out[f"{name}_{'on' if metrics else 'off'}"] = statistics.median(numbers)
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print tables plus JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pairs", type=int, default=6)
    p.add_argument("--seconds", type=float, default=1.0, help="LoadGen min duration per run")
    p.add_argument("--samples", type=int, default=50_000, help="flat-out sampler steps per run")
    p.add_argument("--sim-seconds", type=float, default=3.0, help="1 kHz sampler run length")
    p.add_argument("--sim-pairs", type=int, default=2)
    args = p.parse_args(argv)
    out: dict[str, Any] = {}
    for scenario in (TestScenario.SingleStream, TestScenario.Offline):

        def measure(on: bool, scenario: TestScenario = scenario) -> tuple[float, dict[str, float]]:
            return loadgen_once(scenario, args.seconds, on)

        out[f"LoadGen {scenario.name}"] = pairs(measure, args.pairs)
    with tempfile.TemporaryDirectory() as tmp:
        out["Sampler flat out"] = pairs(
            lambda on: sampler_once(args.samples, on, Path(tmp)), args.pairs
        )
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(0.001, child))
    process.start()
    try:
        spec = parent.recv()
        sim: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
        for i in range(args.sim_pairs):
            for on in (False, True) if i % 2 == 0 else (True, False):
                sim["on" if on else "off"].append(sim_once(spec, args.sim_seconds, on))
    finally:
        parent.send("stop")
        process.join(10)
    out["Sampler 1 kHz (simulated WT310E, pty)"] = sim

    print(f"{'':22} {'off':>10} {'on':>10} {'on/off':>7} {'pair range':>13}  CPU figure")
    for name, r in out.items():
        if "median_pair_ratio" not in r:
            continue
        slow = 1.0 - r["median_pair_ratio"]
        if name.startswith("LoadGen"):
            cpu = (
                f"metrics threads {r['metrics_share_on']:.2%} of wall; LoadGen thread "
                f"{r['runner_ns_off']:.0f} -> {r['runner_ns_on']:.0f} ns/sample"
            )
        else:
            extra = r["sampler_us_on"] - r["sampler_us_off"]
            cpu = (
                f"{r['sampler_us_off']:.2f} -> {r['sampler_us_on']:.2f} µs/sample "
                f"(+{extra / r['sampler_us_off']:.2%})"
            )
        print(
            f"{name:22} {r['off']:10.0f} {r['on']:10.0f} {r['median_pair_ratio']:7.4f} "
            f"{r['min_pair_ratio']:6.3f}-{r['max_pair_ratio']:.3f}  {cpu}"
            f"  [slowdown {slow:+.2%}, goal <= {GOAL:.0%}]"
        )
    for label, runs in sim.items():
        for run in runs:
            print(
                f"Sampler 1 kHz {label:3}: {run['samples']:.0f} samples, "
                f"{run['missed']:.0f} missed updates, p99 interval error {run['p99_us']:.0f} µs"
            )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
