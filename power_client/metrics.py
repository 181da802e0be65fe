"""The reported power metrics of one run, per scenario, each with its uncertainty and unit.

From a :class:`~power_client.join.JoinedEnergy` (energy and average power over LoadGen's window)
and LoadGen's figures, :func:`power_metrics` derives:

* ``avg_watts`` (W) and ``energy_joules`` (J), with the uncertainties of the join;
* ``samples_per_joule`` = samples processed in the window / energy (samples/J);
* ``energy_per_query_millijoules`` = energy x 1000 / queries (mJ; the SingleStream and
  MultiStream headline, reported for every scenario);
* ``mlperf_power`` and ``mlperf_efficiency``: the MLCommons checker's metric and efficiency
  (:mod:`power_client.mlperf_power`) from the join's MLPerf-comparable average (unweighted mean
  of the samples strictly inside with W > 0). The checker defines no uncertainty for them, so
  theirs is NaN (``null`` in JSON).

Derived uncertainties scale with the energy's relative uncertainty (the sample and query counts
are exact). Example::

    metrics = power_metrics(joined, scenario="Offline", samples_processed=24576,
                            query_count=1, samples_per_query=24576, performance_metric=4096.0)
    metrics.headline.to_json()  # {"value": ..., "uncertainty": ..., "unit": "W"}
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Any

from loadgen.settings import TestScenario
from power_client.join import JoinedEnergy
from power_client.mlperf_power import mlperf_power_efficiency, mlperf_power_metric, scenario_name

log = logging.getLogger(__name__)

__all__ = ["PowerMetrics", "Quantity", "power_metrics"]

_EPOCH = dt.datetime(1970, 1, 1)


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True, slots=True)
class Quantity:
    """A value with its absolute uncertainty (NaN: unknown) and unit."""

    value: float
    uncertainty: float
    unit: str

    @property
    def relative_uncertainty(self) -> float:
        """Return ``uncertainty / |value|`` (0.01 is 1 %); NaN when unknown or value is 0."""
        if self.value == 0.0:
            return math.nan
        return self.uncertainty / abs(self.value)

    def to_json(self) -> dict[str, float | str | None]:
        """Return ``{"value", "uncertainty", "unit"}``; NaN becomes ``None``."""
        return {
            "value": _json_number(self.value),
            "uncertainty": _json_number(self.uncertainty),
            "unit": self.unit,
        }


@dataclass(frozen=True, slots=True)
class PowerMetrics:
    """The power figures of one run (see the module docstring for each definition).

    Attributes:
        scenario: the scenario, checker spelling (``Offline``...).
        avg_watts: time-weighted average power over the window, W.
        energy_joules: energy over the window, J.
        samples_per_joule: samples processed / energy, samples/J.
        energy_per_query_millijoules: energy x 1000 / queries, mJ.
        mlperf_power: the checker's power metric (W, or mJ per query for SS/MS).
        mlperf_efficiency: the checker's efficiency, samples/J.
    """

    scenario: str
    avg_watts: Quantity
    energy_joules: Quantity
    samples_per_joule: Quantity
    energy_per_query_millijoules: Quantity
    mlperf_power: Quantity
    mlperf_efficiency: Quantity

    @property
    def headline(self) -> Quantity:
        """Return the scenario's power figure: mJ per query (SS/MS), else average W."""
        if self.scenario in ("SingleStream", "MultiStream"):
            return self.energy_per_query_millijoules
        return self.avg_watts

    def to_json(self) -> dict[str, Any]:
        """Return the metrics as JSON-ready objects keyed by field name."""
        return {
            "scenario": self.scenario,
            "avg_watts": self.avg_watts.to_json(),
            "energy_joules": self.energy_joules.to_json(),
            "samples_per_joule": self.samples_per_joule.to_json(),
            "energy_per_query_millijoules": self.energy_per_query_millijoules.to_json(),
            "mlperf_power": self.mlperf_power.to_json(),
            "mlperf_efficiency": self.mlperf_efficiency.to_json(),
        }


def _naive_utc(t_ns: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=t_ns // 1000)


def power_metrics(
    joined: JoinedEnergy,
    *,
    scenario: str | TestScenario,
    samples_processed: int,
    query_count: int,
    samples_per_query: int,
    performance_metric: float,
    inferred_from_single_stream: bool = False,
) -> PowerMetrics:
    """Derive the power metrics of a run.

    Args:
        joined: the join of the run's power traces with its LoadGen window.
        scenario: the scenario (checker spelling or :class:`~loadgen.settings.TestScenario`).
        samples_processed: samples completed in the window.
        query_count: LoadGen's ``result_query_count``.
        samples_per_query: 1 (SingleStream), 8 (MultiStream), or as run.
        performance_metric: the scenario's LoadGen result
            (:data:`~power_client.mlperf_power.PERFORMANCE_METRIC_KEYS`); used by the
            Offline/Server MLPerf efficiency.
        inferred_from_single_stream: a MultiStream result inferred from a SingleStream run.

    Raises:
        ValueError: an unknown scenario, or a count that is not positive.
    """
    name = scenario_name(scenario)
    if samples_processed <= 0 or query_count <= 0 or samples_per_query <= 0:
        raise ValueError(
            f"counts must be positive: samples_processed={samples_processed}, "
            f"query_count={query_count}, samples_per_query={samples_per_query}"
        )
    energy = joined.energy_joules
    u_energy = joined.energy_joules_uncertainty
    relative = u_energy / energy if energy else math.nan
    spj = samples_processed / energy if energy else math.nan
    per_query_mj = energy * 1000 / query_count
    begin = _naive_utc(joined.window.begin_ns)
    # From the ns duration, so that truncating both edges to microseconds cannot change it.
    end = begin + dt.timedelta(microseconds=round(joined.duration_s * 1e6))
    mlperf_value, mlperf_unit = mlperf_power_metric(
        name,
        joined.mlperf_avg_watts,
        begin,
        end,
        query_count,
        samples_per_query,
        inferred_from_single_stream=inferred_from_single_stream,
    )
    efficiency = (
        mlperf_power_efficiency(name, mlperf_value, performance_metric, samples_per_query)
        if mlperf_value
        else math.nan
    )
    return PowerMetrics(
        scenario=name,
        avg_watts=Quantity(joined.avg_watts, joined.avg_watts_uncertainty, "W"),
        energy_joules=Quantity(energy, u_energy, "J"),
        samples_per_joule=Quantity(spj, spj * relative, "samples/J"),
        energy_per_query_millijoules=Quantity(per_query_mj, u_energy * 1000 / query_count, "mJ"),
        mlperf_power=Quantity(mlperf_value, math.nan, mlperf_unit),
        mlperf_efficiency=Quantity(efficiency, math.nan, "samples/J"),
    )
