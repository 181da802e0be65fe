"""A real Prometheus scrapes the director's exporter and a real Pushgateway.

The director side is real: a simulated WT310E on a pty drawing a constant 120 W, the serial
driver, the :class:`~power_director.measurement.MeasurementEngine` with the exporter as an
observer and wrapped by :func:`~power_director.exporter.instrument_engine_factory`. Prometheus
scrapes every 0.5 s. Needs Debian's ``prometheus`` and ``prometheus-pushgateway`` (skipped
without them, failed without them when ``WATTBENCH_REQUIRE_PROMETHEUS=1``).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prom_servers import Prometheus, Server, require, start_prometheus, start_pushgateway, values

from power_client.push import push_result
from power_director.exporter import DirectorExporter, instrument_engine_factory
from power_director.measurement import MeasurementEngine
from power_director.meters.registry import open_meter
from power_director.sim.load import ConstantLoad
from power_director.sim.simulator import start_simulator

WATTS = 120.0


def energy_from_samples_jsonl(path: Path) -> tuple[int, float, float]:
    """Return (samples, trapezoid energy over consecutive valid samples J, their span s)."""
    count, joules, span_s, previous = 0, 0.0, 0.0, None
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["type"] != "sample":
            continue
        count += 1
        if not record["valid"]:
            previous = None
            continue
        if previous is not None:
            dt_s = (record["t_mono_ns"] - previous["t_mono_ns"]) / 1e9
            joules += 0.5 * (record["watts"] + previous["watts"]) * dt_s
            span_s += dt_s
        previous = record
    return count, joules, span_s


@pytest.fixture
def binaries() -> dict[str, str]:
    return require("prometheus", "prometheus-pushgateway")


@pytest.fixture
def exporter() -> Iterator[DirectorExporter]:
    exporter = DirectorExporter()
    yield exporter
    exporter.close()


@pytest.fixture
def pushgateway(binaries, tmp_path) -> Iterator[Server]:
    server = start_pushgateway(binaries["prometheus-pushgateway"], tmp_path)
    yield server
    server.stop()


@pytest.fixture
def prometheus(binaries, tmp_path, exporter, pushgateway) -> Iterator[Prometheus]:
    director = exporter.serve(("127.0.0.1", 0))
    (tmp_path / "prom").mkdir()
    server = start_prometheus(
        binaries["prometheus"],
        tmp_path / "prom",
        {
            "director": (f"127.0.0.1:{director.port}", False),
            "pushgateway": (f"127.0.0.1:{pushgateway.port}", True),
        },
    )
    yield server
    server.stop()


def test_prometheus_sees_the_phase_and_the_energy_of_the_samples(prometheus, exporter, tmp_path):
    with start_simulator("wt310e", transport="pty", load=ConstantLoad(WATTS)) as sim:
        meter = open_meter(sim.spec)
        try:
            exporter.describe_meters(
                [
                    {
                        "name": "wt310e",
                        "spec": sim.spec,
                        "identity": "YOKOGAWA,WT310E,C2SIM0001,F1.02",
                    }
                ]
            )

            def factory(folder: Path):
                return MeasurementEngine([("wt310e", meter)], folder, observers=[exporter])

            engine = instrument_engine_factory(factory, exporter)(tmp_path / "session")
            engine.start_phase("ranging", "r", auto_range=True)
            time.sleep(1.5)
            engine.stop_phase()
            engine.start_phase("testing", "t", auto_range=False)
            prometheus.wait_for(
                'wattbench_session_phase{job="director",phase="testing"} == 1', bool
            )
            time.sleep(3.0)
            summary = engine.stop_phase()
            engine.close()
        finally:
            meter.close()

    samples, joules, span_s = energy_from_samples_jsonl(
        tmp_path / "session" / "run_1" / "samples.jsonl"
    )
    assert samples == summary.samples > 10
    # wait for a scrape after the last sample, then the counter holds exactly that energy
    prometheus.wait_for(
        'wattbench_samples_total{meter="wt310e",phase="testing"}',
        lambda r: values(r) == [samples],
    )
    [energy] = values(
        prometheus.query(
            'wattbench_energy_joules_total{meter="wt310e",channel="1",phase="testing"}'
        )
    )
    assert energy == pytest.approx(joules, rel=1e-9)
    # the meter blanks a few updates after the range change: those are not integrated
    assert energy / span_s == pytest.approx(WATTS, rel=0.05)
    [peak] = values(prometheus.query('max_over_time(wattbench_power_watts{meter="wt310e"}[1m])'))
    assert peak == pytest.approx(WATTS, rel=0.05)
    prometheus.wait_for('wattbench_session_phase{phase="idle"} == 1', bool)
    assert values(prometheus.query('wattbench_session_phase{phase="testing"}')) == [0.0]
    [info] = prometheus.query("wattbench_meter_info")
    assert {k: info["metric"][k] for k in ("meter", "model", "serial", "interface")} == {
        "meter": "wt310e",
        "model": "WT310E",
        "serial": "C2SIM0001",
        "interface": "serial",
    }


def test_pushed_results_reach_prometheus_through_the_pushgateway(prometheus, pushgateway):
    result = {
        "scenario": "Offline",
        "valid": True,
        "sut": {"spec": "null?delay=1ms"},
        "meters": [{"name": "sim-wt310e"}],
        "metrics": {
            "samples_per_joule": {"value": 2.41},
            "avg_watts": {"value": 120.5},
            "energy_per_query_millijoules": {"value": 14.7},
        },
    }
    push_result(pushgateway.url, result)
    selector = '{job="wattbench",sut="null?delay=1ms",scenario="Offline",meter="sim-wt310e"}'
    found = prometheus.wait_for(f"wattbench_result_samples_per_joule{selector}", bool)
    assert values(found) == [2.41]
    [watts] = values(prometheus.query(f"wattbench_result_average_power_watts{selector}"))
    assert watts == 120.5
    [per_query] = values(prometheus.query(f"wattbench_result_energy_per_query_joules{selector}"))
    assert per_query == pytest.approx(0.0147)
    assert values(prometheus.query(f"wattbench_result_valid{selector}")) == [1.0]


def test_the_example_scrape_config_is_valid():
    promtool = require("promtool")["promtool"]
    config = Path(__file__).resolve().parents[2] / "docs" / "prometheus.yml"
    checked = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout + checked.stderr


def test_a_measured_run_scraped_by_prometheus_agrees_with_its_result(binaries, tmp_path):
    """`wattbench run --metrics --pushgateway`: PromQL over what Prometheus scraped during the
    run agrees with the run's result.json (energy, phase, latency quantile, pushed result)."""
    from prom_servers import free_port

    from power_client.commands import main as wattbench

    port = free_port()
    gateway = start_pushgateway(binaries["prometheus-pushgateway"], tmp_path)
    (tmp_path / "prom").mkdir()
    prometheus = start_prometheus(
        binaries["prometheus"],
        tmp_path / "prom",
        {
            "wattbench": (f"127.0.0.1:{port}", False),
            "pushgateway": (f"127.0.0.1:{gateway.port}", True),
        },
    )
    out = tmp_path / "result"
    try:
        code = wattbench(
            [
                "run",
                "--meter",
                "sim?load=constant&watts=150&rate=100ms&seed=1",
                "--sut",
                "null?work_us=200",
                "--scenario",
                "SingleStream",
                "--duration",
                "3",
                "--no-progress",
                "--out",
                str(out),
                "--metrics",
                f"127.0.0.1:{port}",
                "--pushgateway",
                gateway.url,
            ]
        )
        assert code == 0, (out / "summary.txt").read_text() if out.exists() else code
        result = json.loads((out / "result.json").read_text())
        testing = result["phases"]["testing"]
        window = "[10m]"

        # The phase was visible while it ran.
        seen = prometheus.query(
            f'max_over_time(wattbench_session_phase{{phase="testing"}}{window})'
        )
        assert values(seen) == [1.0]
        seen = prometheus.query(f'max_over_time(wattbench_client_phase{{phase="testing"}}{window})')
        assert values(seen) == [1.0]

        # Energy: the testing counter's last scraped value over the phase's span of valid
        # samples is the average power, which must agree with result.json's within its
        # uncertainty (constant load: the window's average is the phase's).
        _, joules, span_s = energy_from_samples_jsonl(out / "raw" / "run_1" / "samples.jsonl")
        [energy] = values(
            prometheus.query(
                f'max_over_time(wattbench_energy_joules_total{{phase="testing"}}{window})'
            )
        )
        assert energy == pytest.approx(joules, rel=1e-6)
        avg = result["metrics"]["avg_watts"]
        assert abs(energy / span_s - avg["value"]) <= 3 * avg["uncertainty"]

        # Completed samples and the latency histogram of the testing pass.
        [completed] = values(
            prometheus.query(
                "max_over_time(wattbench_loadgen_samples_completed_total"
                f'{{phase="testing"}}{window})'
            )
        )
        assert completed == testing["loadgen"]["samples_processed"]
        [p90_s] = values(
            prometheus.query(
                "histogram_quantile(0.9, sum by (le) (max_over_time("
                f'wattbench_loadgen_sample_latency_seconds_bucket{{phase="testing"}}{window})))'
            )
        )
        buckets = sorted(
            float(item["metric"]["le"])
            for item in prometheus.query(
                f'max_over_time(wattbench_loadgen_sample_latency_seconds_bucket{{phase="testing"}}{window})'
            )
            if item["metric"]["le"] != "+Inf"
        )
        detail = (out / "run_1" / "mlperf_log_detail.txt").read_text()
        loadgen_p90_s = _detail_value(detail, "result_90.00_percentile_latency_ns") / 1e9
        upper = min(b for b in buckets if b >= loadgen_p90_s)
        lower = max([0.0] + [b for b in buckets if b < loadgen_p90_s])
        assert lower <= p90_s <= upper, (lower, p90_s, loadgen_p90_s, upper)

        # The pushed result.
        [spj] = values(
            prometheus.wait_for('wattbench_result_samples_per_joule{job="wattbench"}', bool)
        )
        assert spj == pytest.approx(result["metrics"]["samples_per_joule"]["value"], rel=1e-9)
    finally:
        prometheus.stop()
        gateway.stop()


def _detail_value(detail: str, key: str) -> float:
    for line in detail.splitlines():
        if f'"key": "{key}"' in line:
            return float(json.loads(line.split(":::MLLOG ", 1)[1])["value"])
    raise AssertionError(f"{key} not in the detail log")
