"""One measured run: clock check, ranging phase, testing phase, files, analysis.

:func:`measured_run` drives a director session around a workload::

    connect + authenticate -> estimate the clock offset (refuse beyond tolerance)
    new session -> start ranging -> workload -> stop ranging -> clock check
                -> start testing -> workload -> stop testing -> clock check
    done -> fetch the session's files into the result folder -> client.json
    -> analysis (join, metrics, checks) -> result.json, summary.txt, power.png, report.html

Failures keep what was measured: a workload failure or Ctrl-C aborts the director session
(which stops the phase and restores the meter ranges), the files measured so far are fetched,
``client.json`` records the state and the error, and the error propagates for a non-zero exit.

The director connection, the workload, the clock and the progress display are passed in, so
tests drive it with a real director on loopback and any workload.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from power_client.client_record import ClientRecord, ClockCheck, PhaseRecord
from power_client.clock_sync import ClockOffset, check_offset, estimate_offset
from power_client.connection import DirectorClient
from power_client.errors import LoadgenLogError, ResultFolderError, WorkloadError
from power_client.layout import PHASE_DIRS, PHASES, ResultLayout
from power_client.loadgen_run import LoadgenRunInfo
from power_client.workload import ProgressSink, Workload, WorkloadRun
from power_director.protocol import Phase

__all__ = ["RunOptions", "check_out_dir", "measured_run", "prepare_out_dir"]

log = logging.getLogger(__name__)

_LOG_FORMAT = "client %(asctime)s [%(levelname)s] %(name)s: %(message)s"


@dataclass(frozen=True)
class RunOptions:
    """Settings of a measured run.

    Attributes:
        label: session label on the director (sanitised there).
        clock_tolerance_s: the largest |offset| + RTT/2 accepted.
        clock_exchanges: ``time`` exchanges per clock check (the minimum RTT one is kept).
        volts_range / amps_range: manual testing ranges (both: no ranging phase needed, but
            ranging still runs unless ``skip_ranging``).
        skip_ranging: run only the testing phase (needs both manual ranges).
        cleanup: delete the session folder on the director once fetched.
        min_samples, max_gap_periods: validity thresholds (see :mod:`power_client.validity`).
        extra_settings: further settings recorded in ``client.json`` (e.g. the ranging
            fraction, which the workload applies).
    """

    label: str = ""
    clock_tolerance_s: float = 0.1
    clock_exchanges: int = 16
    volts_range: float | None = None
    amps_range: float | None = None
    skip_ranging: bool = False
    cleanup: bool = False
    min_samples: int = 10
    max_gap_periods: float = 2.0
    extra_settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "clock_tolerance_s": self.clock_tolerance_s,
            "clock_exchanges": self.clock_exchanges,
            "volts_range": self.volts_range,
            "amps_range": self.amps_range,
            "skip_ranging": self.skip_ranging,
            "min_samples": self.min_samples,
            "max_gap_periods": self.max_gap_periods,
            **dict(self.extra_settings),
        }


def check_out_dir(out: Path) -> None:
    """Refuse ``out`` as a new result folder unless it is absent or an empty folder.

    Raises:
        ResultFolderError: ``out`` is a file, or a non-empty folder.
    """
    if out.exists() and not out.is_dir():
        raise ResultFolderError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        raise ResultFolderError(
            f"{out}: folder is not empty; give a new --out folder (results are never overwritten)"
        )


def prepare_out_dir(out: Path) -> ResultLayout:
    """Create ``out`` for a new result; refuse a folder that already holds one.

    Raises:
        ResultFolderError: ``out`` is a file, or a non-empty folder.
    """
    check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    return ResultLayout(out)


@contextlib.contextmanager
def _client_log(path: Path) -> Iterator[None]:
    """Copy every INFO+ log record of this process to ``path`` (``power/client.log``).

    The root logger is lowered to INFO meanwhile when it was higher; handlers already
    installed (the console's) keep showing only what they showed before.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    old_level = root.level
    pinned: list[logging.Handler] = []
    if root.getEffectiveLevel() > logging.INFO:
        for existing in root.handlers:
            if existing.level == logging.NOTSET:
                existing.setLevel(root.getEffectiveLevel())
                pinned.append(existing)
        root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        for existing in pinned:
            existing.setLevel(logging.NOTSET)
        handler.close()


class _Run:
    """The mutable state of one run, turned into ``client.json`` at the end."""

    def __init__(
        self,
        client: DirectorClient,
        workload: Workload,
        layout: ResultLayout,
        options: RunOptions,
        progress: ProgressSink | None,
        clock_ns: Callable[[], int],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sleep = sleep
        self.client = client
        self.workload = workload
        self.layout = layout
        self.options = options
        self.progress = progress
        self.clock_ns = clock_ns
        self.checks: list[ClockCheck] = []
        self.phases: dict[str, PhaseRecord] = {}
        self.session_id = ""
        self.director: dict[str, Any] = {}
        self.meters: list[dict[str, Any]] = []

    @property
    def period_s(self) -> float:
        """The slowest meter's update interval (1 s when the director does not say)."""
        periods = [float(m.get("update_interval_s") or 1.0) for m in self.meters] or [1.0]
        return max(periods)

    @property
    def margin_s(self) -> float:
        """Time to wait around the workload so the join never extrapolates: 1.5 periods + 50 ms."""
        return 1.5 * self.period_s + 0.05

    def clock_check(self, when: str) -> ClockOffset:
        offset = estimate_offset(
            self.client, exchanges=self.options.clock_exchanges, clock_ns=self.clock_ns
        )
        self.checks.append(
            ClockCheck(when, offset.offset_ns, offset.rtt_ns, offset.measured_at_wall_ns)
        )
        log.info(
            "clock %s: offset %.3f ms, RTT %.3f ms",
            when,
            offset.offset_ns / 1e6,
            offset.rtt_ns / 1e6,
        )
        check_offset(offset, self.options.clock_tolerance_s)
        return offset

    def run_phase(self, phase: Phase) -> None:
        opts = self.options
        testing = phase == "testing"
        started = self.client.start_phase(
            phase,
            volts_range=opts.volts_range if testing else None,
            amps_range=opts.amps_range if testing else None,
        )
        client_start = self.clock_ns()
        log.info("phase %s started on the director (mark %s)", phase, started.mark)
        outcome: WorkloadRun | None = None
        try:
            # Valid samples before LoadGen's window begins: after a range change a meter
            # reports no data for an update or two while it settles.
            self.sleep(self.margin_s + 2 * self.period_s)
            outcome = self.workload.run(phase, self.layout.loadgen_dir(phase), self.progress)
            self.sleep(self.margin_s)  # and one after it ends: the join never extrapolates
        finally:
            client_stop = self.clock_ns()
            stopped = self.client.stop_phase(phase)
            self.phases[phase] = PhaseRecord(
                phase=phase,
                mark=started.mark,
                client_start_ns=client_start,
                client_stop_ns=client_stop,
                director_start_wall_ns=started.wall_ns,
                director_start_mono_ns=started.mono_ns,
                director_stop_wall_ns=stopped.wall_ns,
                director_stop_mono_ns=stopped.mono_ns,
                workload_exit=outcome.exit_status if outcome else -1,
                director_summary=stopped.summary,
            )
            if self.progress is not None:
                finish = getattr(self.progress, "finish", None)
                if callable(finish):
                    finish()
        log.info(
            "phase %s stopped: %s samples on the director, workload exit %d",
            phase,
            stopped.summary.get("samples"),
            outcome.exit_status,
        )
        info = outcome.info or outcome.loadgen_run(client_start, client_stop)
        self.copy_loadgen_logs(phase, info)
        if phase == "ranging" and not stopped.summary.get("ranges_chosen"):
            reasons = "; ".join(str(r) for r in stopped.summary.get("reasons", ()))
            raise WorkloadError(
                f"the ranging phase gave the director no ranges ({reasons or 'no reason'}); "
                f"it measured {stopped.summary.get('samples', 0)} samples over "
                f"{(client_stop - client_start) / 1e9:.2f} s. Run the workload longer than a "
                f"few meter update periods, or give --volts-range and --amps-range"
            )

    def copy_loadgen_logs(self, phase: str, info: LoadgenRunInfo) -> None:
        """Copy the phase's detail and summary logs into ``ranging/`` or ``run_1/``."""
        target = self.layout.phase_dir(phase)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(info.detail_log, target / "mlperf_log_detail.txt")
        if info.summary_log is None:
            raise LoadgenLogError(
                f"{info.detail_log}: no mlperf_log_summary.txt beside it (the MLPerf "
                f"submission layout needs both)"
            )
        shutil.copyfile(info.summary_log, target / "mlperf_log_summary.txt")

    def fetch_files(self, summary_files: Any) -> None:
        for entry in summary_files:
            relpath = str(entry["path"])
            dest = self.layout.director_destination(relpath)
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.client.fetch(relpath, dest)
        self.write_meter_log()

    def write_meter_log(self) -> None:
        """``power/ptd_logs.txt``: the director's per-phase meter summaries, one per header."""
        parts: list[str] = []
        for phase in PHASES:
            source = self.layout.root / "raw" / PHASE_DIRS[phase] / "director_summary.json"
            if source.exists():
                parts.append(f"Phase {phase} ({PHASE_DIRS[phase]}):\n")
                parts.append(source.read_text(encoding="utf-8").rstrip("\n") + "\n")
        path = self.layout.power_dir / "ptd_logs.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(parts) or "no phase was measured\n", encoding="utf-8")

    def record(self, state: str, error: str = "") -> ClientRecord:
        from power_client.hashing import hash_files
        from power_client.versions import VERSION

        results = hash_files(self.layout.root, self.layout.submission_files())
        return ClientRecord(
            state=state,
            error=error,
            software=f"wattbench-client/{VERSION}",
            session_id=self.session_id,
            director=self.director,
            meters=self.meters,
            workload=self.workload.describe(),
            settings=self.options.to_json(),
            clock_checks=list(self.checks),
            phases=dict(self.phases),
            messages=[m.to_json() for m in self.client.transcript],
            results=results,
        )


def measured_run(
    client: DirectorClient,
    workload: Workload,
    out: Path,
    options: RunOptions = RunOptions(),
    *,
    progress: ProgressSink | None = None,
    clock_ns: Callable[[], int] = time.time_ns,
    director_address: str = "",
) -> dict[str, Any]:
    """Run both phases through ``client`` and write the result folder ``out``.

    Returns the result (the content of ``result.json``).

    Raises:
        ClockSyncError: the clocks disagree beyond the tolerance (before anything runs, or
            after a phase: then the files are kept).
        WorkloadError, LoadgenLogError: the workload failed or wrote no usable log (files
            kept, director session aborted).
        DirectorError: the director refused a request.
        KeyboardInterrupt: after aborting the session and keeping the files.
    """
    layout = prepare_out_dir(out)
    run = _Run(client, workload, layout, options, progress, clock_ns)
    state, error = "aborted", ""
    try:
        with _client_log(layout.client_log):
            try:
                _run_session(run, director_address)
                state = "complete"
            except BaseException as exc:
                error = "interrupted (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else str(exc)
                log.error("run failed: %s", error)
                _fetch_after_failure(run, error)
                raise
    finally:
        # After the log handler is closed, so client.log's hash is final.
        try:
            run.record(state, error).write(layout.client_json)
        except Exception as exc:
            log.error("could not write %s: %s", layout.client_json, exc)
    from power_client.analysis import analyze_and_write

    return analyze_and_write(layout.root)


def _run_session(run: _Run, director_address: str) -> None:
    client, options = run.client, run.options
    info = client.info()
    run.director = {
        "address": director_address,
        "host": info.director,
        "software": info.software,
        "protocol_version": info.protocol_version,
    }
    run.meters = [dict(m) for m in info.meters]
    run.clock_check("start")
    calibrate = getattr(run.workload, "calibrate", None)
    if callable(calibrate):
        log.info("calibrating the workload (unmeasured, before the session)")
        calibrate()
    created = client.new_session(options.label)
    run.session_id = created.session_id
    run.director["session_id"] = created.session_id
    log.info("session %s created", created.session_id)
    order: tuple[Phase, ...] = ("testing",) if options.skip_ranging else ("ranging", "testing")
    for phase in order:
        run.run_phase(phase)
        run.clock_check(f"after {phase}")
    summary = client.done()
    run.fetch_files(summary.files)
    if options.cleanup:
        client.cleanup()


def _fetch_after_failure(run: _Run, reason: str) -> None:
    """Abort the director session (if one is open) and fetch what it has; never raise."""
    if not run.session_id:
        return
    try:
        summary = run.client.abort(reason[:500])
        run.fetch_files(summary.files)
    except Exception as exc:  # keep the original error; this is best effort
        log.error("could not fetch the director's files after the failure: %s", exc)
