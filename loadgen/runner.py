"""``start_test``: run one LoadGen test (all passes of its mode) and write its logs.

Orchestration only: derive effective settings, write the settings to the detail log, then for
each pass load the QSL set, pre-generate queries, issue them, wait for completions, record the
``power_begin``/``power_end`` window, write accuracy entries and results. Ctrl-C flushes every
log with what was measured and re-raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from loadgen import detail_entries, generation, results, summary_log
from loadgen.accuracy_log import AccuracyLog
from loadgen.clock import Clock, MonotonicClock
from loadgen.detail_log import DetailLog
from loadgen.effective import EffectiveSettings, derive
from loadgen.events import PassWindow, RunListener, RunMonitor
from loadgen.interfaces import QuerySampleLibrary, SystemUnderTest
from loadgen.issuer import IssueLimits, IssueOutcome, issue_pass
from loadgen.recorder import Recorder
from loadgen.results import PerformanceResult
from loadgen.settings import LogSettings, TestMode, TestScenario, TestSettings

log = logging.getLogger(__name__)

DEFAULT_STALL_TIMEOUT_S = 60.0


def power_timestamp(wall_ns: int) -> str:
    """Format a UTC wall-clock time as LoadGen's ``MM-DD-YYYY HH:MM:SS.mmm`` (ms truncated)."""
    t = dt.datetime.fromtimestamp(wall_ns // 1_000_000_000, tz=dt.timezone.utc)
    return f"{t:%m-%d-%Y %H:%M:%S}.{(wall_ns // 1_000_000) % 1000:03d}"


@dataclass(frozen=True)
class TestResult:
    """Outcome of :func:`start_test`."""

    __test__ = False

    scenario: TestScenario
    mode: TestMode
    effective: EffectiveSettings
    performance: PerformanceResult | None
    windows: tuple[PassWindow, ...]
    errors: tuple[str, ...]
    accuracy_entries: int
    log_dir: Path | None
    interrupted: bool = False

    @property
    def valid(self) -> bool:
        """Return True when the performance pass is VALID and no error was logged."""
        perf_ok = self.performance is None or self.performance.valid
        return perf_ok and not self.errors and not self.interrupted

    @property
    def performance_window(self) -> PassWindow | None:
        """Return the window of the (last) performance pass."""
        perf = [w for w in self.windows if w.mode == "performance"]
        return perf[-1] if perf else None


class _Run:
    def __init__(
        self,
        sut: SystemUnderTest,
        qsl: QuerySampleLibrary,
        eff: EffectiveSettings,
        detail: DetailLog,
        accuracy: AccuracyLog,
        clock: Clock,
        monitor: RunMonitor,
        stall_timeout_s: float,
    ) -> None:
        self.sut, self.qsl, self.eff = sut, qsl, eff
        self.detail, self.accuracy, self.clock = detail, accuracy, clock
        self.monitor = monitor
        self.stall_timeout_s = stall_timeout_s
        self.windows: list[PassWindow] = []
        self.errors: list[str] = []
        self.seq = 0  # global sample sequence number (accuracy log seq_id)
        self.find_peak_step = 1.0
        self.last_result: PerformanceResult | None = None
        self.find_peak_decimals = 1

    def error(self, key: str, message: str) -> None:
        self.errors.append(message)
        self.detail.error(key, message)

    def run_pass(
        self, eff: EffectiveSettings, loaded: list[int], performance: bool
    ) -> PerformanceResult | None:
        d = self.detail
        d.log("loaded_qsl_set", loaded)
        self.qsl.load_samples(loaded)
        plan = (generation.performance_plan if performance else generation.accuracy_plan)(
            eff, loaded
        )
        d.log("generated_query_count", plan.query_count)
        d.log("generated_samples_per_query", plan.samples_per_query)
        d.log("generated_query_duration", plan.duration_ns)
        d.flush()
        n = len(plan.sample_indices)
        capture: bool | list[bool] | None = True if not performance else self._sampling(eff, n)
        rec = Recorder(n, self.clock.now_ns, capture)
        limits = IssueLimits(
            min_queries=eff.min_query_count,
            target_duration_ns=eff.target_duration_ms * 1_000_000,
            max_queries=eff.max_query_count,
            max_duration_ns=eff.max_duration_ms * 1_000_000,
            max_async_queries=eff.max_async_queries,
            stall_timeout_s=self.stall_timeout_s,
            performance=performance,
            coalesce=eff.server_coalesce_queries,
        )
        out = IssueOutcome()
        mode = "performance" if performance else "accuracy"
        self.monitor.phase = mode
        self.monitor.attach(rec, out, plan)
        interrupted = False
        try:
            issue_pass(
                eff.scenario,
                plan,
                self.sut,
                rec,
                self.clock,
                limits,
                out,
                on_start=lambda w, m: self.monitor.emit("on_pass_start", mode, w, m),
            )
            self.sut.flush_queries()
            if not rec.wait_completed(rec.issued, self.stall_timeout_s):
                out.stalled = True
        except KeyboardInterrupt:
            interrupted = True
        finally:
            rec.close()
            self.monitor.attach(None)
            self.monitor.phase = "idle"
        result = self._finish_pass(eff, plan, rec, out, loaded, performance, interrupted)
        self.last_result = result
        if interrupted:
            raise KeyboardInterrupt
        return result

    def _finish_pass(
        self,
        eff: EffectiveSettings,
        plan: generation.QueryPlan,
        rec: Recorder,
        out: IssueOutcome,
        loaded: list[int],
        performance: bool,
        interrupted: bool,
    ) -> PerformanceResult | None:
        d = self.detail
        if out.end_message:
            if out.end_is_error:
                self.error("error_runtime", out.end_message)
            else:
                d.log("generic_message", out.end_message)
        if out.stalled:
            missing = rec.issued - rec.completed
            self.error(
                "error_runtime",
                f"Ending early: the SUT did not complete {missing} of "
                f"{rec.issued} issued samples within {self.stall_timeout_s:g} s "
                "of its last completion.",
            )
        for key in detail_entries.LOGGER_COUNTERS:
            d.log(key, 0)
        # not-yet-completed slots hold 0, so the plain max is the last completion
        last = max(rec.complete_ns[1 : rec.issued + 1], default=0) or out.start_ns
        window = PassWindow(
            mode="performance" if performance else "accuracy",
            begin_wall_ns=out.start_wall_ns,
            end_wall_ns=out.start_wall_ns + (last - out.start_ns),
            begin_mono_ns=out.start_ns,
            end_mono_ns=last,
        )
        self.windows.append(window)
        d.log("power_begin", power_timestamp(window.begin_wall_ns))
        d.log("power_end", power_timestamp(window.end_wall_ns))
        self.monitor.emit("on_pass_end", window, rec.issued, rec.completed)
        if rec.bad_count:
            for msg in rec.bad_ids:
                self.error("error_runtime", f"SUT error: {msg}")
        self._write_accuracy(plan, rec)
        self.qsl.unload_samples(loaded)
        self.seq += rec.issued
        d.flush()
        if interrupted:
            self.error(
                "error_runtime",
                "Test interrupted by the user (SIGINT); "
                "results cover what completed before the interruption.",
            )
        if not performance:
            return None
        return results.summarize(eff, plan, rec, out)

    def _sampling(self, eff: EffectiveSettings, n: int) -> list[bool] | None:
        prob = eff.accuracy_log_probability
        if eff.accuracy_log_sampling_target:
            expected = max(
                eff.target_qps * eff.min_duration_ms / 1000.0 * eff.samples_per_query,
                float(eff.min_sample_count),
                1.0,
            )
            prob = min(1.0, eff.accuracy_log_sampling_target / expected)
        if prob <= 0.0:
            return None
        draws = np.random.default_rng(eff.accuracy_log_rng_seed).random(n + 1)
        return (draws <= prob).tolist()  # type: ignore[no-any-return]

    def _write_accuracy(self, plan: generation.QueryPlan, rec: Recorder) -> None:
        if not rec.payloads:
            return
        idx = plan.sample_indices
        for rid in sorted(rec.payloads):
            self.accuracy.add(self.seq + rid - 1, idx[rid - 1], rec.payloads[rid])
        self.accuracy.flush()


def _log_paths(log_settings: LogSettings, out_dir: Path | None) -> dict[str, Path]:
    o = log_settings.log_output
    base = Path(out_dir) if out_dir is not None else Path(o.outdir)
    prefix = o.prefix
    if o.prefix_with_datetime:
        prefix += dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S") + "_"
    base.mkdir(parents=True, exist_ok=True)
    return {
        name: base / f"{prefix}{name}{o.suffix}.{ext}"
        for name, ext in (("summary", "txt"), ("detail", "txt"), ("accuracy", "json"))
    }


def start_test(
    sut: SystemUnderTest,
    qsl: QuerySampleLibrary,
    settings: TestSettings,
    *,
    out_dir: str | Path | None = None,
    log_settings: LogSettings | None = None,
    audit_config: str | Path | None = None,
    clock: Clock | None = None,
    listeners: tuple[RunListener, ...] | list[RunListener] = (),
    monitor: RunMonitor | None = None,
    stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S,
    write_logs: bool = True,
) -> TestResult:
    """Run ``settings.mode`` against ``sut`` and ``qsl``; write the three MLPerf logs.

    Args:
        sut: the system under test.
        qsl: the sample library.
        settings: what to run (not modified).
        out_dir: log folder; overrides ``log_settings.log_output.outdir``.
        log_settings: official-style log options (prefix, suffix, stdout copies).
        audit_config: an audit.config to apply on top of ``settings`` (model ``*``).
        clock: time source (tests pass a :class:`~loadgen.clock.FakeClock`).
        listeners: receivers of run events.
        monitor: a :class:`RunMonitor` to poll progress from (one is made if None).
        stall_timeout_s: end a pass when no sample completes for this long.
        write_logs: False runs without touching the disk.

    Raises:
        SettingsError: contradictory settings, before anything is issued.
        KeyboardInterrupt: after the logs were flushed with what was measured.
    """
    settings = settings.copy()
    if audit_config is not None and Path(audit_config).is_file():
        settings.conf_messages.append(
            (
                "warning_generic_message",
                f"Found Audit Config file ({audit_config}). Overriding TestSettings from it.",
                False,
            )
        )
        settings.from_config(audit_config, "*", TestScenario(settings.scenario).name, 2)
    if settings.test05:
        settings = dataclasses.replace(
            settings,
            mode=TestMode.PerformanceOnly,
            qsl_rng_seed=settings.test05_qsl_rng_seed,
            sample_index_rng_seed=settings.test05_sample_index_rng_seed,
            schedule_rng_seed=settings.test05_schedule_rng_seed,
        )
    eff = derive(settings, qsl.total_sample_count, qsl.performance_sample_count)
    clock = clock or MonotonicClock()
    monitor = monitor or RunMonitor(listeners)
    ls = log_settings or LogSettings()
    paths = _log_paths(ls, Path(out_dir) if out_dir is not None else None) if write_logs else None
    detail = DetailLog(
        paths["detail"] if paths else None,
        clock.now_ns,
        sys.stdout if ls.log_output.copy_detail_to_stdout else None,
    )
    accuracy = AccuracyLog(paths["accuracy"] if paths else None)
    run = _Run(sut, qsl, eff, detail, accuracy, clock, monitor, stall_timeout_s)
    run.find_peak_step = settings.server_find_peak_qps_boundary_step_size
    run.find_peak_decimals = settings.server_find_peak_qps_decimals_of_precision
    perf: PerformanceResult | None = None
    interrupted = False
    try:
        detail_entries.log_version(detail)
        detail.log("test_datetime", dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
        t0 = clock.now_ns()
        name = sut.name
        detail.log("sut_name", name)
        detail.log("get_sut_name_duration_ns", clock.now_ns() - t0)
        detail.log("qsl_name", qsl.name)
        detail.log("qsl_reported_total_count", qsl.total_sample_count)
        detail.log("qsl_reported_performance_count", qsl.performance_sample_count)
        detail_entries.log_requested(detail, settings)
        detail_entries.log_effective(detail, eff)
        for key, message, is_error in settings.conf_messages:
            detail.log(key, message, is_error=is_error, is_warning=key.startswith("warning"))
        detail.flush()
        monitor.emit("on_test_start", eff.scenario.name, eff.mode.name, name)
        perf = _run_mode(run, eff)
    except KeyboardInterrupt:
        interrupted = True
        perf = run.last_result
    finally:
        if perf is not None:
            detail_entries.log_results(detail, perf)
        if perf is not None or eff.mode is not TestMode.AccuracyOnly:
            detail.log("num_errors", detail.errors)
        accuracy.close()
        detail.close()
        if paths is not None:
            text = (
                summary_log.render(sut.name, eff.mode, eff, perf, detail.warnings, detail.errors)
                if perf is not None
                else summary_log.footer(detail.warnings, detail.errors)
            )
            paths["summary"].write_text(text, encoding="utf-8")
            if ls.log_output.copy_summary_to_stdout:
                sys.stdout.write(text)
    result = TestResult(
        scenario=eff.scenario,
        mode=eff.mode,
        effective=eff,
        performance=perf,
        windows=tuple(run.windows),
        errors=tuple(run.errors),
        accuracy_entries=accuracy.count,
        log_dir=paths["detail"].parent if paths else None,
        interrupted=interrupted,
    )
    monitor.emit("on_test_end", result.valid)
    if interrupted:
        raise KeyboardInterrupt
    return result


def _run_mode(run: _Run, eff: EffectiveSettings) -> PerformanceResult | None:
    mode = eff.mode
    d = run.detail
    if mode in (TestMode.AccuracyOnly, TestMode.SubmissionRun):
        d.log("generic_message", "Starting accuracy mode")
        for loaded in generation.loadable_sets(eff, performance=False):
            run.run_pass(eff, loaded, performance=False)
        if mode is TestMode.AccuracyOnly:
            return None
    if mode is TestMode.FindPeakPerformance:
        from loadgen.find_peak import find_peak  # keeps runner small

        return find_peak(run, eff)
    d.log("generic_message", "Starting performance mode")
    loaded = generation.loadable_sets(eff, performance=True)[0]
    return run.run_pass(eff, loaded, performance=True)
