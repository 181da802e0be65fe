"""From a result folder's files to ``result.json``: join, metrics, checks.

:func:`analyze` reads only the folder — ``power/client.json`` (clock checks, phase bounds,
meters, settings), each phase's LoadGen detail log and the director's power logs — so a live
run and ``wattbench check`` on a copied folder compute exactly the same figures.

Per phase, LoadGen's ``power_begin``/``power_end`` (client clock, truncated to the ms by
LoadGen) are moved to the director's clock with the offset interpolated between the clock
checks that bracket the phase; the window edges are moved by +0.5 ms (the middle of the
truncated millisecond) and the clock uncertainty is ``max(RTT/2 of the two checks) + |drift| / 2
+ 0.5 ms``. The power traces are the director's ``samples*.jsonl`` (``raw/<phase>/``), or
``spl.txt`` when those are absent (then uncertainties are unknown).
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from power_client.client_record import ClientRecord, ClockCheck, PhaseRecord, load_client_record
from power_client.errors import ResultFolderError
from power_client.hashing import hash_files
from power_client.join import JoinedEnergy, join_energy, map_window
from power_client.layout import PHASES, ResultLayout
from power_client.loadgen_run import LoadgenRunInfo, format_utc_ns, read_loadgen_run
from power_client.metrics import PowerMetrics, Quantity, power_metrics
from power_client.mlperf_power import average_power_from_files
from power_client.trace import PowerTrace, read_phase_traces, read_spl_trace
from power_client.validity import Check, PhaseFacts, RunFacts, ValidityRules, evaluate

__all__ = [
    "RESULT_FORMAT",
    "RESULT_VERSION",
    "analyze",
    "analyze_and_write",
    "analyze_with_traces",
    "rules_from",
]

log = logging.getLogger(__name__)

RESULT_FORMAT = "wattbench-result"
RESULT_VERSION = 1
_TRUNCATION_NS = 500_000  # half of LoadGen's 1 ms timestamp resolution


def rules_from(settings: dict[str, Any]) -> ValidityRules:
    """Return the validity thresholds recorded in ``client.json`` settings."""
    defaults = ValidityRules()
    return ValidityRules(
        min_samples=int(settings.get("min_samples", defaults.min_samples)),
        max_gap_periods=float(settings.get("max_gap_periods", defaults.max_gap_periods)),
        clock_tolerance_s=float(settings.get("clock_tolerance_s", defaults.clock_tolerance_s)),
    )


def _bracketing_checks(
    checks: list[ClockCheck], record: PhaseRecord, source: Path
) -> tuple[ClockCheck, ClockCheck]:
    before = [c for c in checks if c.measured_at_wall_ns <= record.client_start_ns]
    after = [c for c in checks if c.measured_at_wall_ns >= record.client_stop_ns]
    if not before and not after:
        raise ResultFolderError(f"{source}: no clock check around phase {record.phase}")
    first = before[-1] if before else after[0]
    last = after[0] if after else before[-1]
    return first, last


def _traces(layout: ResultLayout, phase: str) -> list[PowerTrace]:
    raw = layout.raw_dir(phase)
    if raw.is_dir() and any(raw.glob("samples*.jsonl")):
        return read_phase_traces(raw)
    spl = layout.phase_dir(phase) / "spl.txt"
    if spl.is_file():
        return [read_spl_trace(spl)]
    raise ResultFolderError(
        f"{layout.root}: phase {phase} has no power log ({raw}/samples.jsonl or {spl})"
    )


def _period_s(traces: list[PowerTrace], record: PhaseRecord) -> float:
    periods = [t.period_s for t in traces if t.period_s]
    if periods:
        return float(max(periods))
    summary_period = record.director_summary.get("period_s")
    return float(summary_period) if summary_period else 1.0


def _q(value: float, uncertainty: float, unit: str) -> dict[str, Any]:
    return Quantity(value, uncertainty, unit).to_json()


def _iso(t_ns: int) -> str:
    return format_utc_ns(t_ns)


class _Phase:
    """Everything computed for one phase."""

    def __init__(self, layout: ResultLayout, record: ClientRecord, phase: str) -> None:
        self.phase = phase
        self.prec = record.phases[phase]
        folder = layout.phase_dir(phase)
        self.info: LoadgenRunInfo = read_loadgen_run(folder / "mlperf_log_detail.txt")
        first, last = _bracketing_checks(list(record.clock_checks), self.prec, layout.client_json)
        self.offset_ns = (first.offset_ns + last.offset_ns) // 2
        drift_ns = abs(last.offset_ns - first.offset_ns)
        uncertainty_ns = max(first.rtt_ns, last.rtt_ns) // 2 + drift_ns // 2 + _TRUNCATION_NS
        self.window = map_window(
            self.info.power_begin_ns + _TRUNCATION_NS,
            self.info.power_end_ns + _TRUNCATION_NS,
            self.offset_ns,
            uncertainty_ns,
        )
        self.traces = _traces(layout, phase)
        self.joined: JoinedEnergy = join_energy(self.traces, self.window)
        self.period_s = _period_s(self.traces, self.prec)
        self.checker_avg_watts = math.nan
        self.checker_samples = 0
        spl = folder / "spl.txt"
        if spl.is_file():
            try:
                _, average = average_power_from_files(spl, folder / "mlperf_log_detail.txt")
                self.checker_avg_watts, self.checker_samples = average.avg_watts, average.samples
            except Exception as exc:  # the checker's own figure is informative only
                log.warning("MLPerf checker figure for %s not computed: %s", phase, exc)

    def facts(self) -> PhaseFacts:
        j = self.joined
        summary = self.prec.director_summary
        return PhaseFacts(
            phase=self.phase,
            bounds_ns=(self.prec.director_start_wall_ns, self.prec.director_stop_wall_ns),
            window_ns=(self.window.begin_ns, self.window.end_ns),
            loadgen_validity=self.info.result_validity or "no result",
            samples_in_window=j.samples_in_window,
            invalid_samples=j.invalid_samples,
            over_range_samples=j.over_range_samples,
            max_gap_s=j.max_gap_s,
            period_s=self.period_s,
            max_uncertainty_ratio=j.max_uncertainty_ratio,
            avg_watts=j.avg_watts,
            director_valid=bool(summary.get("valid", True)),
            director_reasons=tuple(str(r) for r in summary.get("reasons", ())),
        )

    def to_json(self, root: Path) -> dict[str, Any]:
        j, info = self.joined, self.info
        loadgen = info.to_json(relative_to=root)
        loadgen["power_begin_utc"] = _loadgen_text(info.power_begin_ns)
        loadgen["power_end_utc"] = _loadgen_text(info.power_end_ns)
        return {
            "loadgen": loadgen,
            "phase_bounds_utc": [
                _iso(self.prec.director_start_wall_ns),
                _iso(self.prec.director_stop_wall_ns),
            ],
            "clock_offset_s": self.offset_ns / 1e9,
            "window": {
                "begin_utc": _iso(self.window.begin_ns),
                "end_utc": _iso(self.window.end_ns),
                "duration_s": self.window.duration_s,
                "clock_uncertainty_s": self.window.clock_uncertainty_s,
            },
            "energy": {
                "energy_joules": _q(j.energy_joules, j.energy_joules_uncertainty, "J"),
                "avg_watts": _q(j.avg_watts, j.avg_watts_uncertainty, "W"),
                "uncertainty_components_watts": {
                    "meter": _num(j.meter_watts_uncertainty),
                    "sampling": _num(j.sampling_watts_uncertainty),
                    "window_edges": _num(j.edge_watts_uncertainty),
                    "meter_timing": _num(j.lag_watts_uncertainty),
                },
                "samples_in_window": j.samples_in_window,
                "invalid_samples": j.invalid_samples,
                "over_range_samples": j.over_range_samples,
                "logged_gaps": j.logged_gaps,
                "max_gap_s": j.max_gap_s,
                "period_s": self.period_s,
                "max_uncertainty_ratio": _num(j.max_uncertainty_ratio),
                "mlperf_avg_watts": {"value": _num(j.mlperf_avg_watts), "unit": "W"},
                "mlperf_samples": j.mlperf_samples,
                "mlperf_checker_avg_watts": {"value": _num(self.checker_avg_watts), "unit": "W"},
                "mlperf_checker_samples": self.checker_samples,
            },
            "director": dict(self.prec.director_summary),
        }


def _num(value: float) -> float | None:
    return None if math.isnan(value) else value


def _loadgen_text(t_ns: int) -> str:
    """LoadGen's own ``MM-DD-YYYY HH:MM:SS.mmm`` UTC form."""
    from loadgen.runner import power_timestamp

    return power_timestamp(t_ns)


def _metrics(testing: _Phase, ranging: _Phase | None) -> tuple[PowerMetrics, dict[str, Any]]:
    info = testing.info
    metric = info.metric
    samples = info.samples_processed or 0
    queries = info.result_query_count or 0
    if samples <= 0 or queries <= 0:
        raise ResultFolderError(
            f"{info.detail_log}: LoadGen reports no processed samples "
            f"(result_query_count={info.result_query_count}); not a performance run?"
        )
    metrics = power_metrics(
        testing.joined,
        scenario=info.scenario,
        samples_processed=samples,
        query_count=queries,
        samples_per_query=info.samples_per_query,
        performance_metric=metric.value if metric and metric.unit == "samples/s" else math.nan,
    )
    out: dict[str, Any] = {
        "avg_watts": metrics.avg_watts.to_json(),
        "energy_joules": metrics.energy_joules.to_json(),
        "samples_per_joule": metrics.samples_per_joule.to_json(),
        "energy_per_query_millijoules": metrics.energy_per_query_millijoules.to_json(),
        "mlperf": {
            "power_metric": metrics.mlperf_power.to_json(),
            "efficiency": metrics.mlperf_efficiency.to_json(),
        },
    }
    if ranging is not None:
        r = ranging.joined
        out["ranging_avg_watts"] = _q(r.avg_watts, r.avg_watts_uncertainty, "W")
        out["testing_vs_ranging_ratio"] = (
            testing.joined.avg_watts / r.avg_watts if r.avg_watts else None
        )
    return metrics, out


def _clock_json(record: ClientRecord, tolerance_s: float) -> dict[str, Any]:
    checks = list(record.clock_checks)
    if not checks:
        return {"checks": [], "tolerance_s": tolerance_s}
    best = min(checks, key=lambda c: c.rtt_ns)
    return {
        "offset_s": checks[0].offset_ns / 1e9,
        "rtt_s": checks[0].rtt_ns / 1e9,
        "uncertainty_s": checks[0].rtt_ns / 2e9,
        "best_rtt_s": best.rtt_ns / 1e9,
        "tolerance_s": tolerance_s,
        "drift_s": (checks[-1].offset_ns - checks[0].offset_ns) / 1e9,
        "checks": [
            {"when": c.when, "offset_s": c.offset_ns / 1e9, "rtt_s": c.rtt_ns / 1e9} for c in checks
        ],
    }


def analyze(root: Path) -> dict[str, Any]:
    """Compute the result of the run in ``root`` (the content of ``result.json``).

    Raises: as :func:`analyze_with_traces`.
    """
    result, _ = analyze_with_traces(root)
    return result


def analyze_with_traces(root: Path) -> tuple[dict[str, Any], dict[str, list[PowerTrace]]]:
    """Return the result of the run in ``root`` and the power traces it read, per phase.

    Raises:
        ResultFolderError: ``client.json`` missing or malformed, the run did not complete, a
            phase is missing.
        LoadgenLogError: a detail log is missing or has no power window.
        JoinError: the power trace and the window cannot be joined (names file and times).
    """
    from power_client.versions import software_versions

    layout = ResultLayout(root)
    record = load_client_record(layout.client_json)
    if record.state != "complete":
        raise ResultFolderError(
            f"{root}: the run did not complete ({record.state}: {record.error or 'no reason'}); "
            f"its files are kept for inspection but it has no result"
        )
    if "testing" not in record.phases:
        raise ResultFolderError(f"{layout.client_json}: no testing phase recorded")
    rules = rules_from(dict(record.settings))
    phases = {p: _Phase(layout, record, p) for p in PHASES if p in record.phases}
    testing, ranging = phases["testing"], phases.get("ranging")
    facts = RunFacts(
        testing=testing.facts(),
        ranging=ranging.facts() if ranging else None,
        clock_checks=[(c.when, c.offset_ns / 1e9, c.rtt_ns / 1e9) for c in record.clock_checks],
    )
    checks: list[Check] = evaluate(facts, rules)
    _, metrics = _metrics(testing, ranging)
    files = hash_files(root, sorted(p for p in root.rglob("*") if _hashed(layout, p)))
    workload = dict(record.workload)
    return {
        "format": RESULT_FORMAT,
        "version": RESULT_VERSION,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "simulated": record.simulated,
        "valid": all(c.passed for c in checks),
        "checks": [c.to_json() for c in checks],
        "scenario": testing.info.scenario,
        "mode": testing.info.mode,
        "sut": {
            "spec": workload.get("sut_opened")
            or workload.get("sut")
            or workload.get("command_line")
            or "",
            "workload": workload.get("workload") or workload.get("kind") or "",
            "description": dict(workload.get("sut_details") or {}),
        },
        "workload": workload,
        "meters": [dict(m) for m in record.meters],
        "director": dict(record.director),
        "clock": _clock_json(record, rules.clock_tolerance_s),
        "phases": {name: phase.to_json(root) for name, phase in phases.items()},
        "metrics": metrics,
        "settings": dict(record.settings),
        "versions": {**software_versions(), "loadgen": testing.info.loadgen_version},
        "files": files,
    }, {name: phase.traces for name, phase in phases.items()}


def _hashed(layout: ResultLayout, path: Path) -> bool:
    """The inputs of the analysis: everything but wattbench's own outputs."""
    if not path.is_file():
        return False
    rel = layout.relative(path)
    return rel not in {"result.json", "summary.txt", "power.png", "report.html"} and not (
        rel.startswith("raw/") and "/loadgen/" in rel
    )


def analyze_and_write(root: Path) -> dict[str, Any]:
    """Analyse ``root``, write ``result.json`` and the reports; return the result."""
    from power_client.report import write_report

    result, traces = analyze_with_traces(root)
    path = ResultLayout(root).result_json
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    write_report(root, traces=traces)
    return result
