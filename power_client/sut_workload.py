"""Run our LoadGen against a SUT from :mod:`suts`, in this process, once per phase.

The SUT and its sample library are opened on the first run and kept for the next one (opening
a model is slow); :meth:`SutWorkload.close` releases them. Settings are built as
``wattbench bench`` builds them: the built-in mlperf.conf and a user.conf (if given), then the
overrides given to :class:`SutWorkload`::

    with SutWorkload("openvino:digits@CPU", "Offline", target_qps=5000) as workload:
        ranging = workload.run("ranging", out / "ranging")
        testing = workload.run("testing", out / "testing")

Errors: :class:`~power_client.errors.WorkloadError` for bad settings or conf files (from the
constructor) and for any exception of the SUT or LoadGen during a run (naming the phase and the
SUT spec). ``KeyboardInterrupt`` propagates after LoadGen flushed its logs and the SUT was
closed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import loadgen
from loadgen.events import RunMonitor
from loadgen.interfaces import QuerySampleLibrary, SystemUnderTest
from power_client.errors import WorkloadError
from power_client.loadgen_run import find_detail_log
from power_client.workload import ProgressSink, WorkloadRun
from suts.registry import spec_for_scenario
from suts.spec import parse_sut_spec

if TYPE_CHECKING:
    from power_client.live_metrics import LiveMetrics

log = logging.getLogger(__name__)

SutOpener = Callable[[str, QuerySampleLibrary], SystemUnderTest]
"""Open a SUT from its spec for a QSL (:func:`suts.registry.open_sut`)."""

EXIT_VALID, EXIT_INVALID = 0, 3  # as `wattbench bench`
_NULL_SCHEMES = frozenset({"null", "null-threaded"})
_NULL_QPS = 1000.0
_NULL_EXPECTED_LATENCY_MS = 1.0
#: Floor of a calibrated expected latency: keeps the pre-generated query count bounded
#: (20 s at 20 us = 1M queries) for SUTs as fast as the null SUT.
_MIN_EXPECTED_NS = 20_000


@dataclass(frozen=True)
class SutWorkloadConfig:
    """What :class:`SutWorkload` runs (see there); None keeps the conf files' or LoadGen's value."""

    sut: str = "null"
    scenario: str = "Offline"
    workload: str | None = None
    model: str = "wattbench"
    duration_ms: int | None = None
    ranging_duration_ms: int | None = None
    min_query_count: int | None = None
    target_qps: float | None = None
    target_latency_ms: float | None = None
    user_conf: Path | None = None
    mlperf_conf: Path | None = None
    synthetic_samples: int = 1024

    @property
    def null_sut(self) -> bool:
        """Return True for the null SUTs (which get defaults that make short runs work)."""
        return parse_sut_spec(self.sut).scheme in _NULL_SCHEMES


def build_settings(config: SutWorkloadConfig) -> loadgen.TestSettings:
    """Return performance-mode TestSettings for ``config`` (the testing phase's duration).

    Raises:
        ValueError: unknown scenario.
        FileNotFoundError, loadgen.ConfigError: a conf file is missing or malformed.
    """
    try:
        scenario = loadgen.TestScenario[config.scenario]
    except KeyError:
        names = ", ".join(s.name for s in loadgen.TestScenario)
        raise ValueError(f"unknown scenario {config.scenario!r}; one of {names}") from None
    s = loadgen.TestSettings(scenario=scenario, mode=loadgen.TestMode.PerformanceOnly)
    user_type = 1
    if config.mlperf_conf is not None:
        s.from_config(config.mlperf_conf, config.model, scenario.name)
        user_type = 2  # a second user.conf would log the official "Multiple conf files" error
    if config.user_conf is not None:
        s.from_config(config.user_conf, config.model, scenario.name, user_type)
    if config.duration_ms is not None:
        s.min_duration_ms = config.duration_ms
    if config.min_query_count is not None:
        s.min_query_count = config.min_query_count
    qps = config.target_qps
    latency_ms = config.target_latency_ms
    expected_latency_ms = latency_ms
    if config.null_sut and config.user_conf is None and config.mlperf_conf is None:
        qps = _NULL_QPS if qps is None else qps
        expected_latency_ms = _NULL_EXPECTED_LATENCY_MS if latency_ms is None else latency_ms
    if qps is not None:
        s.server_target_qps = s.offline_expected_qps = qps
    if expected_latency_ms is not None:
        s.single_stream_expected_latency_ns = expected_latency_ms * 1e6
        s.multi_stream_expected_latency_ns = expected_latency_ms * 1e6
    if latency_ms is not None:
        s.server_target_latency_ns = int(latency_ms * 1e6)
    return s


class SutWorkload:
    """Our LoadGen driving a SUT from :mod:`suts`, in process.

    Args:
        sut: SUT spec (``null``, ``openvino:digits@CPU``, ...).
        scenario: ``SingleStream``, ``MultiStream``, ``Server`` or ``Offline``.
        workload: a :mod:`suts.workloads` name; None: synthetic samples for null SUTs, the
            default workload (digits) otherwise.
        model: model name for conf-file lookups.
        duration_ms: ``min_duration_ms``.
        ranging_duration_ms: ``min_duration_ms`` of the ranging phase (None: ``duration_ms``).
        min_query_count: ``min_query_count``.
        target_qps: Server's target QPS and Offline's expected QPS (null SUTs without conf
            files: default 1000).
        target_latency_ms: Server's latency bound and SingleStream/MultiStream's expected
            latency, as ``target_latency`` in conf files (null SUTs without conf files:
            expected latency 1 ms).
        user_conf: a user.conf applied on top of the built-in mlperf.conf.
        mlperf_conf: an mlperf.conf applied on top of the built-in one, before ``user_conf``;
            seeds come only from the built-in one, as in the official LoadGen 6.
        synthetic_samples: QSL size for null SUTs without a workload.
        open_sut: SUT factory (default :func:`suts.registry.open_sut`; tests inject fakes).
        progress_interval_s: how often the progress sink is called.
        stall_timeout_s: LoadGen's watchdog: end a pass when no sample completes this long.
        live_metrics: Prometheus live metrics to feed (follows each run's monitor).

    Raises:
        WorkloadError: malformed SUT spec or unknown scheme, unknown scenario, or a conf file
            is missing or malformed.
    """

    def __init__(
        self,
        sut: str = "null",
        scenario: str = "Offline",
        *,
        workload: str | None = None,
        model: str = "wattbench",
        duration_ms: int | None = None,
        ranging_duration_ms: int | None = None,
        min_query_count: int | None = None,
        target_qps: float | None = None,
        target_latency_ms: float | None = None,
        user_conf: Path | None = None,
        mlperf_conf: Path | None = None,
        synthetic_samples: int = 1024,
        open_sut: SutOpener | None = None,
        progress_interval_s: float = 0.5,
        stall_timeout_s: float = 60.0,
        live_metrics: LiveMetrics | None = None,
    ) -> None:
        self.config = SutWorkloadConfig(
            sut=sut,
            scenario=scenario,
            workload=workload,
            model=model,
            duration_ms=duration_ms,
            ranging_duration_ms=ranging_duration_ms,
            min_query_count=min_query_count,
            target_qps=target_qps,
            target_latency_ms=target_latency_ms,
            user_conf=user_conf,
            mlperf_conf=mlperf_conf,
            synthetic_samples=synthetic_samples,
        )
        try:
            if open_sut is None:
                _check_scheme(sut)
            self.settings = build_settings(self.config)
            #: the spec actually opened: the backend's preferred options for the scenario filled in
            self.sut_spec = spec_for_scenario(sut, scenario)
        except (loadgen.LoadgenError, ValueError, OSError) as e:
            raise WorkloadError(f"SUT {sut!r}: {e}") from e
        self._open_sut = open_sut
        self._progress_interval_s = progress_interval_s
        self._stall_timeout_s = stall_timeout_s
        self._live = live_metrics
        self._sut: SystemUnderTest | None = None
        self._qsl: QuerySampleLibrary | None = None
        self.calibrated: dict[str, float] = {}

    def calibrate(self, seconds: float = 1.0) -> dict[str, float]:
        """Size the run to this SUT when the user gave no QPS or latency (and no conf file).

        LoadGen pre-generates its queries from the expected latency (SingleStream,
        MultiStream) or the expected QPS (Offline); a SUT faster than expected finishes them
        before ``min_duration`` and the run is INVALID ("min duration not met"). This runs a
        short unmeasured LoadGen pass (``seconds``, nothing written to disk) and sets:
        SingleStream/MultiStream expected latency = 0.8 x the measured mean; Offline expected
        QPS = 2 x the measured throughput; Server target QPS = 0.5 x the throughput
        measured in an Offline probe (logged as a warning: Server QPS is normally the user's
        choice). Returns what was set (empty when nothing was calibrated).
        """
        c = self.config
        if c.target_qps is not None or c.target_latency_ms is not None:
            return {}
        if c.user_conf is not None or c.mlperf_conf is not None:
            return {}
        sut, qsl = self._opened("calibration")
        scenario = loadgen.TestScenario[c.scenario]
        probe = loadgen.TestSettings(
            scenario=(
                loadgen.TestScenario.Offline
                if scenario is loadgen.TestScenario.Server
                else scenario
            ),
            mode=loadgen.TestMode.PerformanceOnly,
        )
        probe.min_duration_ms = int(seconds * 1000)
        probe.min_query_count = 1
        probe.single_stream_expected_latency_ns = self.settings.single_stream_expected_latency_ns
        probe.multi_stream_expected_latency_ns = self.settings.multi_stream_expected_latency_ns
        qps = max(self.settings.offline_expected_qps, 100.0)
        for _ in range(5):  # Offline: grow the sample count until the probe lasts long enough
            probe.offline_expected_qps = qps
            result = loadgen.start_test(sut, qsl, probe, write_logs=False)
            perf = result.performance
            if perf is None or perf.sample_count == 0 or perf.final_completion_s <= 0:
                log.warning("calibration of %s gave no result; keeping the defaults", c.sut)
                return {}
            throughput = perf.sample_count / perf.final_completion_s
            if probe.scenario is not loadgen.TestScenario.Offline:
                break
            if perf.final_completion_s >= 0.5 * seconds:
                break
            qps = 2.0 * throughput
        assert perf is not None
        chosen: dict[str, float] = {}
        s = self.settings
        if scenario is loadgen.TestScenario.SingleStream:
            s.single_stream_expected_latency_ns = max(
                _MIN_EXPECTED_NS, int(0.8 * perf.samples.mean_ns)
            )
            chosen["single_stream_expected_latency_ns"] = s.single_stream_expected_latency_ns
        elif scenario is loadgen.TestScenario.MultiStream:
            mean_ns = perf.queries.mean_ns if perf.queries else perf.samples.mean_ns
            s.multi_stream_expected_latency_ns = max(_MIN_EXPECTED_NS, int(0.8 * mean_ns))
            chosen["multi_stream_expected_latency_ns"] = s.multi_stream_expected_latency_ns
        elif scenario is loadgen.TestScenario.Offline:
            s.offline_expected_qps = 2.0 * throughput
            chosen["offline_expected_qps"] = s.offline_expected_qps
        else:
            s.server_target_qps = 0.5 * throughput
            chosen["server_target_qps"] = s.server_target_qps
            log.warning(
                "Server target QPS not given: using %.1f (half the %.1f samples/s this SUT "
                "reached in an Offline probe); give --target-qps for a chosen load",
                s.server_target_qps,
                throughput,
            )
        log.info("calibrated %s %s in %.1f s: %s", c.sut, c.scenario, seconds, chosen)
        self.calibrated = chosen
        return chosen

    def settings_for(self, phase: str) -> loadgen.TestSettings:
        """Return the settings of ``phase`` (``ranging`` may be shorter)."""
        s = self.settings.copy()
        if phase == "ranging" and self.config.ranging_duration_ms is not None:
            s.min_duration_ms = self.config.ranging_duration_ms
        return s

    def __enter__(self) -> SutWorkload:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        """Return the SUT spec, scenario, settings and (once opened) the SUT's own description."""
        c, s = self.config, self.settings
        out: dict[str, Any] = {
            "kind": "sut",
            "sut": c.sut,
            "sut_opened": self.sut_spec,
            "scenario": c.scenario,
            "workload": c.workload or ("synthetic" if c.null_sut else "default"),
            "model": c.model,
            "min_duration_ms": s.min_duration_ms,
            "ranging_min_duration_ms": self.settings_for("ranging").min_duration_ms,
            "min_query_count": s.min_query_count,
            "server_target_qps": s.server_target_qps,
            "offline_expected_qps": s.offline_expected_qps,
            "server_target_latency_ns": s.server_target_latency_ns,
            "user_conf": None if c.user_conf is None else str(c.user_conf),
            "mlperf_conf": None if c.mlperf_conf is None else str(c.mlperf_conf),
        }
        if self.calibrated:
            out["calibrated"] = dict(self.calibrated)
        sut_describe = getattr(self._sut, "describe", None)
        if callable(sut_describe):
            out["sut_details"] = sut_describe()
        return out

    def run(self, phase: str, out_dir: Path, progress: ProgressSink | None = None) -> WorkloadRun:
        """Run one performance test for ``phase``; logs go to ``out_dir``.

        ``exit_status`` is 0 for a VALID run and 3 for an INVALID one (as ``wattbench bench``).

        Raises:
            WorkloadError: opening the SUT or the run failed (names the phase and SUT spec).
            KeyboardInterrupt: after LoadGen flushed its logs and the SUT was closed.
        """
        out_dir.mkdir(parents=True, exist_ok=True)
        sut, qsl = self._opened(phase)
        monitor = RunMonitor()
        if self._live is not None:
            self._live.follow(monitor)
            self._live.set_client_phase(phase)
        begin_ns = time.time_ns()
        try:
            with _ProgressPoller(monitor, phase, progress, self._progress_interval_s):
                result = loadgen.start_test(
                    sut,
                    qsl,
                    self.settings_for(phase),
                    out_dir=out_dir,
                    monitor=monitor,
                    stall_timeout_s=self._stall_timeout_s,
                )
        except KeyboardInterrupt:
            log.warning("%s phase interrupted; partial LoadGen logs are in %s", phase, out_dir)
            self.close()
            raise
        except Exception as e:
            self.close()  # the SUT's state is unknown; the next run opens a fresh one
            raise WorkloadError(
                f"{phase} phase: SUT {self.config.sut!r} failed: {type(e).__name__}: {e}"
            ) from e
        finally:
            if self._live is not None:
                self._live.set_client_phase("idle")
        end_ns = time.time_ns()
        info = find_detail_log([result.log_dir or out_dir], begin_ns, end_ns, phase=phase)
        return WorkloadRun(
            phase=phase,
            exit_status=EXIT_VALID if result.valid else EXIT_INVALID,
            log_dir=out_dir,
            search_paths=(out_dir,),
            begin_wall_ns=begin_ns,
            end_wall_ns=end_ns,
            info=info,
        )

    def close(self) -> None:
        """Close the SUT (if it has a ``close``) and forget it and its QSL."""
        sut, self._sut, self._qsl = self._sut, None, None
        close = getattr(sut, "close", None)
        if callable(close):
            close()

    def _opened(self, phase: str) -> tuple[SystemUnderTest, QuerySampleLibrary]:
        if self._sut is not None and self._qsl is not None:
            return self._sut, self._qsl
        c = self.config
        try:
            qsl = self._make_qsl()
            sut = self._open(self.sut_spec, qsl)
        except Exception as e:
            raise WorkloadError(
                f"{phase} phase: cannot open SUT {c.sut!r}: {type(e).__name__}: {e}"
            ) from e
        log.info("opened SUT %s (%s) with QSL %s", self.sut_spec, sut.name, qsl.name)
        self._sut, self._qsl = sut, qsl
        return sut, qsl

    def _open(self, spec: str, qsl: QuerySampleLibrary) -> SystemUnderTest:
        if self._open_sut is not None:
            return self._open_sut(spec, qsl)
        from suts.registry import open_sut

        return open_sut(spec, qsl)

    def _make_qsl(self) -> QuerySampleLibrary:
        c = self.config
        if c.workload is None and c.null_sut:
            from suts.null import SyntheticQsl

            return SyntheticQsl(c.synthetic_samples)
        from suts.workloads.registry import DEFAULT_WORKLOAD, open_workload

        return open_workload(c.workload or DEFAULT_WORKLOAD).qsl()


def _check_scheme(spec: str) -> None:
    """Fail now, not after a data set was loaded, when no backend opens ``spec``."""
    from suts.registry import known_schemes

    scheme = parse_sut_spec(spec).scheme
    if scheme not in known_schemes():
        raise ValueError(f"unknown SUT scheme {scheme!r}; known: {', '.join(known_schemes())}")


class _ProgressPoller:
    """Calls ``sink`` every ``interval_s`` with the monitor's counts, from a daemon thread."""

    def __init__(
        self, monitor: RunMonitor, phase: str, sink: ProgressSink | None, interval_s: float
    ) -> None:
        self._monitor, self._phase, self._sink = monitor, phase, sink
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"progress-{phase}", daemon=True)
        self._start_s = time.monotonic()

    def __enter__(self) -> _ProgressPoller:
        if self._sink is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        assert self._sink is not None
        while not self._stop.wait(self._interval_s):
            m = self._monitor
            try:
                self._sink(self._phase, m.issued, m.completed, time.monotonic() - self._start_s)
            except Exception:
                log.exception("progress sink %r failed", self._sink)
