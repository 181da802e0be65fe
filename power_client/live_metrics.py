"""Live LoadGen metrics for Prometheus, read by a poller thread so the hot path pays nothing.

:class:`LiveMetrics` is a :class:`~loadgen.events.RunListener` (test and pass events) and a
collector of its own :class:`~prometheus_client.CollectorRegistry`. A daemon thread polls the
followed :class:`~loadgen.events.RunMonitor` every ``poll_interval_s``: issued and completed
counts, and the latencies of samples completed since the last poll, read from the running
pass's recorder (completion times) and issue times. LoadGen never calls prometheus_client;
metric families are built when Prometheus scrapes.

Example::

    live = LiveMetrics()
    live.serve(("127.0.0.1", 9465))
    with live:                                   # starts / stops the poller
        monitor = live.follow(RunMonitor())
        live.set_client_phase("testing")
        loadgen.start_test(sut, qsl, settings, monitor=monitor)
        live.set_client_phase("idle")
    live.close()

Series (labels ``scenario`` and ``phase``, the client's measurement phase: ``idle`` unless set
with :meth:`LiveMetrics.set_client_phase`): counters ``wattbench_loadgen_samples_issued_total``
and ``wattbench_loadgen_samples_completed_total``; histogram
``wattbench_loadgen_sample_latency_seconds``; gauges
``wattbench_loadgen_throughput_samples_per_second`` (completions per second over the last
poll), ``wattbench_loadgen_phase`` (LoadGen's ``idle``/``performance``/``accuracy``) and
``wattbench_client_phase`` (``idle``/``ranging``/``testing``).

Latency: a sample's latency is its completion time minus its query's issue time (Server: its
scheduled time), as in LoadGen's results. The issue times come from the monitor
(``RunMonitor.attach(rec, issue, plan)``); when a runner attaches only the recorder, Offline
latencies are still exact (every sample is issued at the pass start) and other scenarios feed
no histogram. Each poll processes at most ``max_latencies_per_poll`` latencies: above that it
observes one sample id in ``k`` (ids divisible by ``k``, ``k`` a power of two that only grows
during a pass) and weights each observation by ``k``, so bucket counts, ``_sum`` and ``_count``
become unbiased estimates while the completed counter stays exact. Below that rate (at 1 s
polls, 5 000 samples/s by default) the histogram is exact.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from loadgen.events import IssueTimes, PassPlan, PassProgress, PassWindow, RunMonitor
from power_director.metrics_http import BasicAuth, MetricsServer, serve_metrics

__all__ = ["DEFAULT_LATENCY_BUCKETS_S", "LiveMetrics"]

log = logging.getLogger(__name__)

#: Upper bounds of the latency histogram's buckets, s (+Inf is added).
DEFAULT_LATENCY_BUCKETS_S: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
    300.0,
    600.0,
)
_LOADGEN_PHASES = ("idle", "performance", "accuracy")
_CLIENT_PHASES = ("idle", "ranging", "testing")


@dataclass
class _Series:
    """Counts and latency histogram of one ``(scenario, phase)``."""

    issued: int = 0
    completed: int = 0
    buckets: list[float] = field(default_factory=list)  # per bucket, not cumulative; +Inf last
    latency_sum_s: float = 0.0
    has_latencies: bool = False  # a pass with issue times fed it (else no histogram series)


class _PassReader:
    """Reads one running pass incrementally: new counts and new latencies.

    Sample ids divisible by ``stride`` are the ones observed; ``seen`` marks those already
    observed, ``low`` is the smallest candidate id not yet seen complete. Plain Python on
    purpose: a poll holds the GIL once, briefly, where numpy would release and retake it
    around every array operation, each time making LoadGen's thread wait for the scheduler.
    """

    def __init__(
        self,
        rec: PassProgress,
        issue: IssueTimes | None,
        plan: PassPlan | None,
        offline_start_ns: int | None,
    ) -> None:
        self.rec = rec
        self.issue = issue
        self.plan = plan
        self.offline_start_ns = offline_start_ns
        self.seen = bytearray(len(rec.complete_ns))
        self.low = 1
        self.stride = 1
        self.issued = 0
        self.completed = 0

    @property
    def has_latencies(self) -> bool:
        return (self.issue is not None and self.plan is not None) or (
            self.offline_start_ns is not None
        )

    def new_counts(self, issued: int, completed: int) -> tuple[int, int]:
        """Return the increase of the counts since the last call."""
        d_issued, d_completed = issued - self.issued, completed - self.completed
        self.issued, self.completed = issued, completed
        return max(d_issued, 0), max(d_completed, 0)

    def new_latencies(self, budget: int) -> tuple[list[int], int]:
        """Return latencies (ns) of newly completed observed samples, and their weight."""
        hi = self.rec.issued
        if not self.has_latencies or hi < self.low:
            return [], self.stride
        while (hi - self.low) // self.stride + 1 > budget:
            # Observe every other candidate from now on; the smaller ones are all seen.
            self.stride *= 2
            self.low = -(-self.low // self.stride) * self.stride
        stride, sid = self.stride, self.low
        done_ns = self.rec.complete_ns[sid : hi + 1 : stride]
        table: list[int] | None = None
        base, spq = self.offline_start_ns or 0, 1
        if self.issue is not None and self.plan is not None:
            spq = self.plan.samples_per_query
            table = self.plan.schedule_ns
            base = self.issue.start_ns if table is not None else 0
            table = table if table is not None else self.issue.issued_ns
        seen = self.seen
        latencies: list[int] = []
        first_pending = 0
        for t in done_ns:
            if not seen[sid]:
                if t:
                    seen[sid] = 1
                    latencies.append(
                        t - (base if table is None else base + table[(sid - 1) // spq])
                    )
                elif not first_pending:
                    first_pending = sid
            sid += stride
        self.low = first_pending or sid
        return latencies, stride


class LiveMetrics(Collector):
    """LoadGen progress as Prometheus metrics (a run listener plus a poller thread).

    Args:
        registry: where the collector is registered; default a new, private registry.
        poll_interval_s: how often the poller reads the monitor, s.
        buckets_s: latency histogram bucket upper bounds, s (ascending; +Inf is added).
        max_latencies_per_poll: latencies processed per poll before sampling one id in ``k``.
        clock_ns: monotonic clock for the throughput, ns.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        poll_interval_s: float = 1.0,
        buckets_s: Sequence[float] = DEFAULT_LATENCY_BUCKETS_S,
        max_latencies_per_poll: int = 5_000,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        bounds = [float(b) for b in buckets_s]
        if not bounds or any(b >= c for b, c in itertools.pairwise(bounds)) or bounds[0] <= 0:
            raise ValueError("buckets_s must be positive and strictly ascending")
        if not poll_interval_s > 0 or max_latencies_per_poll < 1:
            raise ValueError("poll_interval_s must be > 0 and max_latencies_per_poll >= 1")
        self.registry = registry if registry is not None else CollectorRegistry()
        self.poll_interval_s = poll_interval_s
        self._bounds_ns = [round(b * 1e9) for b in bounds]
        self._bounds_s = bounds
        self._budget = max_latencies_per_poll
        self._clock_ns = clock_ns
        self._lock = threading.Lock()
        self._monitor: RunMonitor | None = None
        self._scenario = ""  # until the first test starts
        self._client_phase = "idle"
        self._loadgen_phase = "idle"
        self._series: dict[tuple[str, str], _Series] = {}
        self._reader: _PassReader | None = None
        self._pending: tuple[PassProgress | None, IssueTimes | None, PassPlan | None, int] | None
        self._pending = None
        self._throughput = 0.0
        self._last_poll: tuple[int, int] | None = None  # (clock ns, completed)
        self._warned_no_issue_times = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: MetricsServer | None = None
        self.registry.register(self)

    # Wiring.

    def follow(self, monitor: RunMonitor) -> RunMonitor:
        """Listen to and poll ``monitor`` (replacing the one followed before); return it."""
        if self not in monitor.listeners:
            monitor.listeners.append(self)
        self._monitor = monitor
        return monitor

    def set_client_phase(self, phase: str) -> None:
        """Label what follows with the client's measurement phase (idle/ranging/testing)."""
        with self._lock:
            self._client_phase = phase

    def start(self) -> None:
        """Start the poller thread."""
        if self._thread is not None:
            raise RuntimeError("the live-metrics poller is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="live-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the poller thread after a last poll."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(10.0)
        self.poll()

    def __enter__(self) -> LiveMetrics:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def serve(
        self,
        address: tuple[str, int] = ("127.0.0.1", 0),
        *,
        certfile: str | Path | None = None,
        keyfile: str | Path | None = None,
        basic_auth: BasicAuth | None = None,
    ) -> MetricsServer:
        """Serve the registry at ``address`` (loopback by default); see :func:`serve_metrics`."""
        if self._server is not None:
            raise RuntimeError(f"already serving at {self._server.url}")
        self._server = serve_metrics(
            self.registry, address, certfile=certfile, keyfile=keyfile, basic_auth=basic_auth
        )
        return self._server

    def close(self) -> None:
        """Stop the poller and the HTTP server (idempotent)."""
        self.stop()
        server, self._server = self._server, None
        if server is not None:
            server.close()

    # RunListener (called from the thread running the test; kept short).

    def on_test_start(self, scenario: str, mode: str, sut_name: str) -> None:
        """Remember the scenario for the labels."""
        self._scenario = scenario

    def on_pass_start(self, mode: str, wall_ns: int, mono_ns: int) -> None:
        """Hand the new pass to the poller (no lock: this delays the first query)."""
        monitor = self._monitor
        if monitor is None:
            return
        self._loadgen_phase = mode
        self._pending = (monitor.recorder, monitor.issue, monitor.plan, mono_ns)

    def on_pass_end(self, window: PassWindow, issued: int, completed: int) -> None:
        """Read the rest of the pass (its window is closed), then go idle."""
        with self._lock:
            self._take_pending()
            reader = self._reader
            if reader is not None:
                self._read(reader, issued, completed)
            self._reader = None
            self._last_poll = None
            self._throughput = 0.0
            self._loadgen_phase = "idle"

    def on_test_end(self, valid: bool) -> None:
        """Nothing to do: every pass was read at its end."""

    # Poller.

    def _run(self) -> None:
        while not self._stop.wait(self.poll_interval_s):
            try:
                self.poll()
            except Exception:  # a metrics bug must not end the benchmark
                log.exception("live-metrics poll failed")

    def poll(self) -> None:
        """Read the running pass once (the poller thread calls this; tests may too)."""
        with self._lock:
            self._take_pending()
            reader = self._reader
            if reader is None:
                return
            rec = reader.rec
            issued, completed = rec.issued, rec.completed
            self._read(reader, issued, completed)
            now = self._clock_ns()
            last = self._last_poll
            if last is not None and now > last[0]:
                self._throughput = (completed - last[1]) * 1e9 / (now - last[0])
            self._last_poll = (now, completed)

    def _take_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        rec, issue, plan, start_ns = pending
        if rec is None:
            self._reader = None
            return
        offline = self._scenario == "Offline"
        if (issue is None or plan is None) and not offline and not self._warned_no_issue_times:
            self._warned_no_issue_times = True
            log.info(
                "the LoadGen monitor has no issue times: no latency histogram for %s",
                self._scenario,
            )
        self._reader = _PassReader(rec, issue, plan, start_ns if offline else None)
        self._last_poll = (start_ns, 0)

    def _read(self, reader: _PassReader, issued: int, completed: int) -> None:
        series = self._series_now()
        d_issued, d_completed = reader.new_counts(issued, completed)
        series.issued += d_issued
        series.completed += d_completed
        series.has_latencies = series.has_latencies or reader.has_latencies
        latencies_ns, weight = reader.new_latencies(self._budget)
        if latencies_ns:
            buckets, bounds = series.buckets, self._bounds_ns
            for latency in latencies_ns:
                buckets[bisect.bisect_left(bounds, latency)] += weight
            series.latency_sum_s += weight * sum(latencies_ns) / 1e9

    def _series_now(self) -> _Series:
        key = (self._scenario, self._client_phase)
        series = self._series.get(key)
        if series is None:
            series = _Series(buckets=[0.0] * (len(self._bounds_ns) + 1))
            self._series[key] = series
        return series

    # Prometheus side.

    def describe(self) -> list[Metric]:
        """Return the metric families without samples (for the registry's name check)."""
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        """Build the metric families from the current state (called per scrape)."""
        issued, completed, latency, throughput, loadgen_phase, client_phase = self._families()
        with self._lock:
            series = [
                (k, s.issued, s.completed, s.has_latencies, list(s.buckets), s.latency_sum_s)
                for k, s in self._series.items()
            ]
            running = self._reader is not None
            rate = self._throughput
            phases = (self._loadgen_phase, self._client_phase, self._scenario)
        les = [*(f"{b:g}" for b in self._bounds_s), "+Inf"]
        for (scenario, phase), n_issued, n_completed, has_latencies, buckets, sum_s in series:
            labels = [scenario, phase]
            issued.add_metric(labels, n_issued)
            completed.add_metric(labels, n_completed)
            if not has_latencies:
                continue
            cumulative = list(itertools.accumulate(buckets))
            latency.add_metric(labels, list(zip(les, cumulative, strict=True)), sum_s)
        if phases[2]:
            throughput.add_metric([phases[2], phases[1]], rate if running else 0.0)
        for name in _LOADGEN_PHASES:
            loadgen_phase.add_metric([name], 1.0 if name == phases[0] else 0.0)
        for name in sorted({*_CLIENT_PHASES, phases[1]}):
            client_phase.add_metric([name], 1.0 if name == phases[1] else 0.0)
        yield from (issued, completed, latency, throughput, loadgen_phase, client_phase)

    @staticmethod
    def _families() -> tuple[
        CounterMetricFamily,
        CounterMetricFamily,
        HistogramMetricFamily,
        GaugeMetricFamily,
        GaugeMetricFamily,
        GaugeMetricFamily,
    ]:
        labels = ["scenario", "phase"]
        return (
            CounterMetricFamily(
                "wattbench_loadgen_samples_issued",
                "Samples LoadGen issued to the SUT.",
                labels=labels,
            ),
            CounterMetricFamily(
                "wattbench_loadgen_samples_completed",
                "Samples the SUT completed.",
                labels=labels,
            ),
            HistogramMetricFamily(
                "wattbench_loadgen_sample_latency_seconds",
                "Sample latency: completion minus issue (Server: scheduled) time.",
                labels=labels,
            ),
            GaugeMetricFamily(
                "wattbench_loadgen_throughput_samples_per_second",
                "Samples completed per second over the last poll (0 between passes).",
                labels=labels,
            ),
            GaugeMetricFamily(
                "wattbench_loadgen_phase",
                "1 for what LoadGen is running (idle, performance, accuracy), 0 for the others.",
                labels=["phase"],
            ),
            GaugeMetricFamily(
                "wattbench_client_phase",
                "1 for the client's measurement phase (idle, ranging, testing), 0 for others.",
                labels=["phase"],
            ),
        )
