import json
import math

import pytest
from join_synth import grid, ns, write_trace

from loadgen.settings import TestScenario
from power_client.join import PowerWindow, join_energy
from power_client.metrics import Quantity, power_metrics
from power_client.trace import read_trace


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    """200 W constant, u = 1 W per sample, over exactly 10 s: E = 2000 J, u(E) = 10 J."""
    path = tmp_path_factory.mktemp("run") / "samples.jsonl"
    write_trace(path, grid(0, 12, 0.1), lambda t: 200.0, uncertainty_ratio=0.005)
    return join_energy([read_trace(path)], PowerWindow(ns(1.0), ns(11.0)))


def test_the_joined_fixture_is_what_the_numbers_assume(joined):
    assert joined.energy_joules == pytest.approx(2000.0)
    assert joined.energy_joules_uncertainty == pytest.approx(10.0)
    assert joined.mlperf_avg_watts == pytest.approx(200.0)


def test_offline(joined):
    m = power_metrics(
        joined,
        scenario="Offline",
        samples_processed=5000,
        query_count=1,
        samples_per_query=5000,
        performance_metric=500.0,
    )
    assert m.avg_watts.value == pytest.approx(200.0)
    assert m.avg_watts.uncertainty == pytest.approx(1.0)
    assert m.avg_watts.unit == "W"
    assert m.samples_per_joule.value == pytest.approx(2.5)
    assert m.samples_per_joule.uncertainty == pytest.approx(2.5 * 10 / 2000)
    assert m.energy_per_query_millijoules.value == pytest.approx(2_000_000.0)
    assert m.mlperf_power.value == pytest.approx(200.0)
    assert m.mlperf_power.unit == "Watts"
    assert math.isnan(m.mlperf_power.uncertainty)
    assert m.mlperf_efficiency.value == pytest.approx(500.0 / 200.0)
    assert m.headline is m.avg_watts


def test_server_efficiency_uses_the_performance_metric(joined):
    m = power_metrics(
        joined,
        scenario=TestScenario.Server,
        samples_processed=3990,
        query_count=3990,
        samples_per_query=1,
        performance_metric=400.0,
    )
    assert m.scenario == "Server"
    assert m.samples_per_joule.value == pytest.approx(3990 / 2000)
    assert m.energy_per_query_millijoules.value == pytest.approx(2000 * 1000 / 3990)
    assert m.mlperf_efficiency.value == pytest.approx(2.0)


def test_single_stream(joined):
    m = power_metrics(
        joined,
        scenario="SingleStream",
        samples_processed=4000,
        query_count=4000,
        samples_per_query=1,
        performance_metric=2.4e6,
    )
    assert m.energy_per_query_millijoules.value == pytest.approx(500.0)
    assert m.energy_per_query_millijoules.uncertainty == pytest.approx(2.5)
    assert m.energy_per_query_millijoules.unit == "mJ"
    assert m.samples_per_joule.value == pytest.approx(2.0)
    assert m.mlperf_power.value == pytest.approx(200 * 10 * 1000 / 4000)
    assert m.mlperf_power.unit == "millijoules"
    assert m.mlperf_efficiency.value == pytest.approx(1000 / 500)
    assert m.headline is m.energy_per_query_millijoules


def test_multi_stream_and_inferred(joined):
    kwargs = dict(samples_processed=4000, query_count=500, samples_per_query=8)
    m = power_metrics(joined, scenario="MultiStream", performance_metric=3.1e6, **kwargs)
    assert m.energy_per_query_millijoules.value == pytest.approx(4000.0)
    assert m.energy_per_query_millijoules.uncertainty == pytest.approx(20.0)
    assert m.mlperf_power.value == pytest.approx(4000.0)
    assert m.mlperf_efficiency.value == pytest.approx(8000 / 4000)

    inferred = power_metrics(
        joined,
        scenario="MultiStream",
        performance_metric=3.1e6,
        inferred_from_single_stream=True,
        **kwargs,
    )
    assert inferred.mlperf_power.value == pytest.approx(32000.0)
    assert inferred.mlperf_efficiency.value == pytest.approx(0.25)
    assert inferred.energy_per_query_millijoules.value == pytest.approx(4000.0)


def test_to_json_round_trips_and_writes_nan_as_null(joined):
    m = power_metrics(
        joined,
        scenario="Offline",
        samples_processed=5000,
        query_count=1,
        samples_per_query=5000,
        performance_metric=500.0,
    )
    data = json.loads(json.dumps(m.to_json(), allow_nan=False))
    assert data["scenario"] == "Offline"
    assert data["energy_joules"] == {
        "value": pytest.approx(2000.0),
        "uncertainty": pytest.approx(10.0),
        "unit": "J",
    }
    assert data["mlperf_power"]["uncertainty"] is None
    assert set(data) == {
        "scenario",
        "avg_watts",
        "energy_joules",
        "samples_per_joule",
        "energy_per_query_millijoules",
        "mlperf_power",
        "mlperf_efficiency",
    }


def test_quantity():
    q = Quantity(250.0, 2.5, "W")
    assert q.to_json() == {"value": 250.0, "uncertainty": 2.5, "unit": "W"}
    assert q.relative_uncertainty == pytest.approx(0.01)
    assert Quantity(1.0, math.nan, "J").to_json()["uncertainty"] is None
    assert math.isnan(Quantity(0.0, 1.0, "W").relative_uncertainty)


def test_bad_inputs_are_refused(joined):
    with pytest.raises(ValueError, match="counts must be positive"):
        power_metrics(
            joined,
            scenario="Offline",
            samples_processed=0,
            query_count=1,
            samples_per_query=1,
            performance_metric=1.0,
        )
    with pytest.raises(ValueError, match="unknown scenario"):
        power_metrics(
            joined,
            scenario="Batch",
            samples_processed=1,
            query_count=1,
            samples_per_query=1,
            performance_metric=1.0,
        )
