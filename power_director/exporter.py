"""The director's Prometheus exporter: live meter readings, energy counters and the session phase.

:class:`DirectorExporter` is a :class:`~power_director.sampler.SampleSink` (give it to
:class:`~power_director.measurement.MeasurementEngine` as an observer) and a collector of its own
:class:`~prometheus_client.CollectorRegistry` (never the global one). The sampler threads only
update plain Python numbers; the metric families are built when Prometheus scrapes, so
sampling pays no prometheus_client call per sample. :func:`instrument_engine_factory` wraps the
session's engine factory so the exporter follows phase starts and stops.

Example::

    opened = open_meters(specs)                                  # power_director.cli
    exporter = DirectorExporter()
    exporter.describe_meters(info for _, _, info in opened)      # wattbench_meter_info
    factory = instrument_engine_factory(
        engine_factory(opened, None, observers=[exporter]), exporter
    )
    exporter.serve(("127.0.0.1", 9464))                         # GET /metrics
    ...
    exporter.close()

Series (full table in ``docs/monitoring.md``): gauges ``wattbench_power_watts``,
``wattbench_voltage_volts``, ``wattbench_current_amperes``, ``wattbench_power_factor``,
``wattbench_power_uncertainty_ratio`` per ``meter`` and ``channel``; counters
``wattbench_energy_joules_total`` (per ``meter``, ``channel``, ``phase``),
``wattbench_samples_total``, ``wattbench_invalid_samples_total``,
``wattbench_missed_updates_total`` (per ``meter``, ``phase``) and ``wattbench_gaps_total``
(plus ``reason``); ``wattbench_meter_info`` and ``wattbench_session_phase``.

Rules:

* **No stale or invalid values.** A channel's gauges are exposed only while its latest reading
  is valid and at most ``stale_after_s`` old; an invalid reading (over range, no data, garbled)
  removes them until a valid one arrives, and so does the end of a phase. Prometheus then marks
  the series stale and graphs show a gap, instead of a frozen last value or NaN. A quantity a
  meter does not measure (NaN power factor or uncertainty) is left out the same way.
* **Energy** is the trapezoid rule over consecutive valid readings of a channel (monotonic
  time), as the phase summary integrates it; when both readings carry the meter's own
  integrated energy, its increase is used instead (a decrease, i.e. an integrator reset, adds
  nothing). An invalid reading breaks the chain, a phase start or stop too, so time between
  phases is never counted.
* Counters carry the ``phase`` they were counted in (``ranging``, ``testing``; ``idle`` when the
  engine was not wrapped). No per-session or per-run label: series live as long as the director.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from power_director.meters.base import MeterIdentity
from power_director.meters.registry import parse_meter_spec
from power_director.metrics_http import BasicAuth, MetricsServer, serve_metrics
from power_director.sampler import Gap
from power_director.samples import ChannelReading, Sample
from power_director.session import Engine, EngineFactory

__all__ = [
    "IDLE",
    "DirectorExporter",
    "PhaseReportingEngine",
    "instrument_engine_factory",
    "interface_of",
]

log = logging.getLogger(__name__)

#: The phase label value between phases.
IDLE = "idle"
_KNOWN_PHASES = (IDLE, "ranging", "testing")
_GAP_REASONS = ("late", "transport")


class _PhaseCounts:
    """One meter's counters in one phase; written by its sampler thread only."""

    __slots__ = ("energy_joules", "gaps", "invalid", "missed_updates", "samples")

    def __init__(self) -> None:
        self.samples = 0
        self.invalid = 0
        self.missed_updates = 0
        self.gaps = dict.fromkeys(_GAP_REASONS, 0)
        self.energy_joules: list[float] = []


class _MeterState:
    """What the exporter keeps per meter."""

    __slots__ = ("chain", "counts", "current", "latest")

    def __init__(self) -> None:
        self.latest: Sample | None = None
        # Per channel: (t_mono_ns, W, meter energy J) of the last valid reading, or None.
        self.chain: list[tuple[int, float, float | None] | None] = []
        self.counts: dict[str, _PhaseCounts] = {}
        self.current: _PhaseCounts | None = None  # counts[phase now], set on first use


def interface_of(spec: str) -> str:
    """Return the transport scheme of a meter spec (``serial``, ``visa``, ``tcp``).

    Software sources (``rapl``, ``nvml``, ``sim:wt210``) are ``builtin``.
    """
    _, rest = parse_meter_spec(spec)
    scheme, sep, _ = rest.partition(":")
    if sep and scheme.isalpha():
        return scheme.lower()
    return "builtin"


class DirectorExporter(Collector):
    """Prometheus metrics of the director's meters, fed by the samplers.

    Args:
        registry: where the collector is registered; default a new, private registry.
        stale_after_s: a channel's gauges disappear when its latest valid reading is older, s.
        clock_ns: monotonic clock for that age, ns: the clock the samples are stamped with
            (the engine's; both default to ``time.monotonic_ns``).
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        stale_after_s: float = 5.0,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if not stale_after_s > 0:
            raise ValueError("stale_after_s must be > 0")
        self.registry = registry if registry is not None else CollectorRegistry()
        self._stale_ns = round(stale_after_s * 1e9)
        self._clock_ns = clock_ns
        self._phase = IDLE
        self._phases_seen: list[str] = list(_KNOWN_PHASES)
        self._meters: dict[str, _MeterState] = {}
        self._info: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()  # guards adding keys; values are written lock-free
        self._server: MetricsServer | None = None
        self.registry.register(self)

    # Sampler side (hot path: plain attribute and list updates only).

    def on_sample(self, sample: Sample) -> None:
        """Count ``sample``, integrate its energy and keep it for the gauges."""
        state = self._meters.get(sample.meter) or self._add_meter(sample.meter)
        counts = state.current or self._current_counts(state)
        channels = sample.channels
        chain = state.chain
        energy = counts.energy_joules
        if len(chain) < len(channels) or len(energy) < len(channels):
            chain.extend([None] * (len(channels) - len(chain)))
            energy.extend([0.0] * (len(channels) - len(energy)))
        counts.samples += 1
        t_ns = sample.t_mono_ns
        invalid = not channels
        for i, reading in enumerate(channels):
            if reading.valid:
                before = chain[i]
                watts = reading.watts
                meter_energy = reading.energy_joules
                if before is not None:
                    if meter_energy is not None and before[2] is not None:
                        energy[i] += max(meter_energy - before[2], 0.0)
                    else:
                        energy[i] += 0.5e-9 * (watts + before[1]) * (t_ns - before[0])
                chain[i] = (t_ns, watts, meter_energy)
            else:
                chain[i] = None
                invalid = True
        if invalid:
            counts.invalid += 1
        state.latest = sample

    def on_gap(self, gap: Gap) -> None:
        """Count ``gap`` (energy keeps integrating across it, as in the phase summary)."""
        state = self._meters.get(gap.meter) or self._add_meter(gap.meter)
        counts = state.current or self._current_counts(state)
        counts.gaps[gap.reason] = counts.gaps.get(gap.reason, 0) + 1
        counts.missed_updates += gap.missed_updates

    def _add_meter(self, meter: str) -> _MeterState:
        with self._lock:
            return self._meters.setdefault(meter, _MeterState())

    def _current_counts(self, state: _MeterState) -> _PhaseCounts:
        with self._lock:
            state.current = state.counts.setdefault(self._phase, _PhaseCounts())
            return state.current

    # Session side.

    @property
    def phase(self) -> str:
        """Return the phase now being measured (:data:`IDLE` between phases)."""
        return self._phase

    def set_phase(self, phase: str) -> None:
        """Label what follows with ``phase`` (:data:`IDLE` between phases); clear the gauges.

        Call it before the samplers of a phase start and after they stopped.
        """
        with self._lock:
            if phase not in self._phases_seen:
                self._phases_seen.append(phase)
            self._phase = phase
            for state in self._meters.values():
                state.chain = []
                state.latest = None
                state.current = None
        log.debug("exporter phase=%s", phase)

    def set_meter_info(
        self,
        meter: str,
        *,
        manufacturer: str = "",
        model: str = "",
        serial: str = "",
        firmware: str = "",
        interface: str = "",
    ) -> None:
        """Publish ``wattbench_meter_info{meter=..., model=..., ...} 1`` for ``meter``."""
        with self._lock:
            self._info[meter] = {
                "manufacturer": manufacturer,
                "model": model,
                "serial": serial,
                "firmware": firmware,
                "interface": interface,
            }

    def describe_meters(self, infos: Iterable[Mapping[str, Any]]) -> None:
        """Publish meter info from :func:`power_director.cli.open_meters` dicts.

        Each needs ``name``; ``identity`` (the ``*IDN?`` fields joined by commas), ``model``
        and ``spec`` are used when present.
        """
        for info in infos:
            identity = MeterIdentity.parse(str(info.get("identity", "")))
            spec = str(info.get("spec", ""))
            self.set_meter_info(
                str(info["name"]),
                manufacturer=identity.manufacturer,
                model=identity.model or str(info.get("model") or ""),
                serial=identity.serial,
                firmware=identity.firmware,
                interface=interface_of(spec) if spec else "",
            )

    # Prometheus side.

    def describe(self) -> list[Metric]:
        """Return the metric families without samples (for the registry's name check)."""
        return _Families().all()

    def collect(self) -> Iterator[Metric]:
        """Build the metric families from the current state (called per scrape)."""
        f = _Families()
        with self._lock:
            meters = [(m, s.latest, list(s.counts.items())) for m, s in self._meters.items()]
            info = list(self._info.items())
            phases = list(self._phases_seen)
            current = self._phase
        now_ns = self._clock_ns()
        for meter, latest, by_phase in meters:
            if latest is not None and now_ns - latest.t_mono_ns <= self._stale_ns:
                for i, reading in enumerate(latest.channels, 1):
                    f.add_reading([meter, str(i)], reading)
            for phase, counts in by_phase:
                for i, joules in enumerate(list(counts.energy_joules), 1):
                    f.energy.add_metric([meter, str(i), phase], joules)
                f.samples.add_metric([meter, phase], counts.samples)
                f.invalid.add_metric([meter, phase], counts.invalid)
                f.missed.add_metric([meter, phase], counts.missed_updates)
                for reason, n in list(counts.gaps.items()):
                    f.gaps.add_metric([meter, phase, reason], n)
        for meter, fields in info:
            f.meter_info.add_metric([meter], fields)
        for phase in phases:
            f.phase.add_metric([phase], 1.0 if phase == current else 0.0)
        return iter(f.all())

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
        """Stop serving (idempotent); the registry keeps its collector."""
        server, self._server = self._server, None
        if server is not None:
            server.close()


class _Families:
    """The exporter's metric families, empty; one set is filled per scrape."""

    def __init__(self) -> None:
        per_channel = ["meter", "channel"]
        per_phase = ["meter", "phase"]
        self.power = GaugeMetricFamily(
            "wattbench_power_watts", "Active power of a meter channel.", labels=per_channel
        )
        self.volts = GaugeMetricFamily(
            "wattbench_voltage_volts", "RMS voltage of a meter channel.", labels=per_channel
        )
        self.amps = GaugeMetricFamily(
            "wattbench_current_amperes", "RMS current of a meter channel.", labels=per_channel
        )
        self.power_factor = GaugeMetricFamily(
            "wattbench_power_factor",
            "Power factor (lambda, dimensionless) of a meter channel.",
            labels=per_channel,
        )
        self.uncertainty = GaugeMetricFamily(
            "wattbench_power_uncertainty_ratio",
            "Relative uncertainty of the active power from the meter's accuracy spec "
            "(0.01 is 1 %).",
            labels=per_channel,
        )
        self.energy = CounterMetricFamily(
            "wattbench_energy_joules",
            "Energy integrated from a meter channel's readings, by phase.",
            labels=["meter", "channel", "phase"],
        )
        self.samples = CounterMetricFamily(
            "wattbench_samples", "Meter samples received, by phase.", labels=per_phase
        )
        self.invalid = CounterMetricFamily(
            "wattbench_invalid_samples",
            "Samples with an invalid channel (over range, no data, garbled), by phase.",
            labels=per_phase,
        )
        self.gaps = CounterMetricFamily(
            "wattbench_gaps",
            "Stretches without samples, by phase and reason (late: the sampler fell behind; "
            "transport: the meter was lost).",
            labels=["meter", "phase", "reason"],
        )
        self.missed = CounterMetricFamily(
            "wattbench_missed_updates",
            "Meter updates not read (inside gaps), by phase.",
            labels=per_phase,
        )
        self.meter_info = InfoMetricFamily("wattbench_meter", "Meter identity.", labels=["meter"])
        self.phase = GaugeMetricFamily(
            "wattbench_session_phase",
            "1 for the measurement phase now running (idle between phases), 0 for the others.",
            labels=["phase"],
        )

    def add_reading(self, labels: list[str], reading: ChannelReading) -> None:
        """Add the gauges of a valid reading, leaving out quantities that are not finite."""
        if not reading.valid:
            return
        for family, value in (
            (self.power, reading.watts),
            (self.volts, reading.volts),
            (self.amps, reading.amps),
            (self.power_factor, reading.power_factor),
            (self.uncertainty, reading.watts_uncertainty_ratio),
        ):
            if math.isfinite(value):
                family.add_metric(labels, value)

    def all(self) -> list[Metric]:
        """Return every family, in exposition order."""
        return [
            self.power,
            self.volts,
            self.amps,
            self.power_factor,
            self.uncertainty,
            self.energy,
            self.samples,
            self.invalid,
            self.gaps,
            self.missed,
            self.meter_info,
            self.phase,
        ]


class PhaseReportingEngine:
    """An :class:`~power_director.session.Engine` that tells the exporter about its phases.

    Everything else is the wrapped engine's (attributes are passed through).

    Args:
        engine: the session's engine (its observers should include ``exporter``).
        exporter: given the phase (:meth:`~DirectorExporter.set_phase`) before the samplers
            start, and :data:`IDLE` after they stopped.
    """

    def __init__(self, engine: Engine, exporter: DirectorExporter) -> None:
        self.engine = engine
        self.exporter = exporter

    def start_phase(
        self, phase: str, mark: str, *, auto_range: bool, manual_ranges: Any = None
    ) -> None:
        """Start ``phase`` on the engine, labelled for the exporter first."""
        before = self.exporter.phase
        self.exporter.set_phase(phase)
        try:
            self.engine.start_phase(phase, mark, auto_range=auto_range, manual_ranges=manual_ranges)
        except BaseException:
            self.exporter.set_phase(before)
            raise

    def stop_phase(self) -> Any:
        """Stop the engine's phase; the exporter goes idle even if that fails."""
        try:
            return self.engine.stop_phase()
        finally:
            self.exporter.set_phase(IDLE)

    def files(self) -> list[Path]:
        """Return the engine's files."""
        return self.engine.files()

    def restore_initial_ranges(self) -> None:
        """Restore the meters' ranges."""
        self.engine.restore_initial_ranges()

    def close(self) -> None:
        """Close the engine (stopping a running phase); the exporter goes idle."""
        try:
            self.engine.close()
        finally:
            if self.exporter.phase != IDLE:
                self.exporter.set_phase(IDLE)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def instrument_engine_factory(factory: EngineFactory, exporter: DirectorExporter) -> EngineFactory:
    """Return ``factory`` with each engine it builds wrapped in :class:`PhaseReportingEngine`.

    The engines must already have ``exporter`` among their observers (that is how samples
    reach it); this adds the phase.
    """

    def instrumented(folder: Path) -> Engine:
        return PhaseReportingEngine(factory(folder), exporter)

    return instrumented
