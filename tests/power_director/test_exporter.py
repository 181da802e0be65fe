"""The director's Prometheus exporter: values, units, staleness, phases, HTTP serving."""

from __future__ import annotations

import base64
import math
import re
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from power_director.exporter import (
    IDLE,
    DirectorExporter,
    PhaseReportingEngine,
    instrument_engine_factory,
    interface_of,
)
from power_director.measurement import MeasurementEngine
from power_director.meters.base import MeterIdentity, RangeTable
from power_director.metrics_http import BasicAuth, parse_metrics_address, serve_metrics
from power_director.sampler import Gap
from power_director.samples import FLAG_OVER_RANGE, ChannelReading, Sample

DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"
S = 1_000_000_000  # ns per s


def reading(watts: float, **kw: object) -> ChannelReading:
    kw.setdefault("volts", 230.0)
    kw.setdefault("amps", watts / 230.0)
    kw.setdefault("power_factor", 0.9)
    kw.setdefault("watts_uncertainty", watts * 0.002)
    return ChannelReading(watts=watts, **kw)  # type: ignore[arg-type]


def sample(t_s: float, *channels: ChannelReading, meter: str = "wt310e") -> Sample:
    return Sample(0, round(t_s * S), meter, tuple(channels))


def scrape(exporter: DirectorExporter) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return {(sample name, sorted labels): value} of one scrape."""
    text = generate_latest(exporter.registry).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(scraped, name: str, **labels: str) -> float | None:
    return scraped.get((name, tuple(sorted(labels.items()))))


class Clock:
    def __init__(self) -> None:
        self.ns = 0

    def __call__(self) -> int:
        return self.ns


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def exporter(clock: Clock) -> DirectorExporter:
    return DirectorExporter(clock_ns=clock)


def test_gauges_show_the_latest_valid_reading_in_base_units(exporter):
    exporter.set_phase("testing")
    exporter.on_sample(sample(0.0, reading(40.0)))
    exporter.on_sample(
        sample(
            0.25,
            reading(44.4, volts=230.1, amps=0.21, power_factor=0.92, watts_uncertainty=0.0888),
        )
    )
    m = scrape(exporter)
    ch = {"meter": "wt310e", "channel": "1"}
    assert value(m, "wattbench_power_watts", **ch) == 44.4
    assert value(m, "wattbench_voltage_volts", **ch) == 230.1
    assert value(m, "wattbench_current_amperes", **ch) == 0.21
    assert value(m, "wattbench_power_factor", **ch) == 0.92
    assert value(m, "wattbench_power_uncertainty_ratio", **ch) == pytest.approx(0.002)


def test_energy_is_the_trapezoid_over_valid_readings_per_channel_and_phase(exporter):
    exporter.set_phase("testing")
    for t, (w1, w2) in enumerate([(100.0, 10.0), (102.0, 10.0), (98.0, 14.0)]):
        exporter.on_sample(sample(t * 0.5, reading(w1), reading(w2)))
    m = scrape(exporter)
    # (100+102)/2*0.5 + (102+98)/2*0.5 = 50.5 + 50.0; (10+10)/2*0.5 + (10+14)/2*0.5 = 5 + 6
    assert value(
        m, "wattbench_energy_joules_total", meter="wt310e", channel="1", phase="testing"
    ) == pytest.approx(100.5)
    assert value(
        m, "wattbench_energy_joules_total", meter="wt310e", channel="2", phase="testing"
    ) == pytest.approx(11.0)
    assert value(m, "wattbench_samples_total", meter="wt310e", phase="testing") == 3
    assert value(m, "wattbench_invalid_samples_total", meter="wt310e", phase="testing") == 0


def test_an_invalid_reading_hides_the_gauges_and_breaks_the_energy_chain(exporter):
    exporter.set_phase("testing")
    exporter.on_sample(sample(0.0, reading(100.0)))
    exporter.on_sample(sample(1.0, ChannelReading.invalid(FLAG_OVER_RANGE)))
    m = scrape(exporter)
    assert value(m, "wattbench_power_watts", meter="wt310e", channel="1") is None
    assert value(m, "wattbench_voltage_volts", meter="wt310e", channel="1") is None
    assert not any(math.isnan(v) for v in m.values())
    assert value(m, "wattbench_invalid_samples_total", meter="wt310e", phase="testing") == 1
    exporter.on_sample(sample(2.0, reading(100.0)))
    exporter.on_sample(sample(3.0, reading(120.0)))
    m = scrape(exporter)
    assert value(m, "wattbench_power_watts", meter="wt310e", channel="1") == 120.0
    # only 2 s -> 3 s counts: 0 s -> 1 s ends invalid, 1 s -> 2 s starts invalid
    assert value(
        m, "wattbench_energy_joules_total", meter="wt310e", channel="1", phase="testing"
    ) == pytest.approx(110.0)
    assert value(m, "wattbench_samples_total", meter="wt310e", phase="testing") == 4


def test_quantities_the_meter_does_not_measure_are_left_out(exporter):
    exporter.on_sample(
        sample(0.0, reading(50.0, power_factor=math.nan, watts_uncertainty=math.nan))
    )
    m = scrape(exporter)
    assert value(m, "wattbench_power_watts", meter="wt310e", channel="1") == 50.0
    assert value(m, "wattbench_power_factor", meter="wt310e", channel="1") is None
    assert value(m, "wattbench_power_uncertainty_ratio", meter="wt310e", channel="1") is None


def test_the_meters_own_energy_is_used_when_given_and_a_reset_adds_nothing(exporter):
    exporter.set_phase("testing")
    for t, joules in enumerate([1000.0, 1100.0, 1250.0, 5.0, 55.0]):
        exporter.on_sample(sample(float(t), reading(100.0, energy_joules=joules)))
    m = scrape(exporter)
    # +100, +150, reset (0), +50
    assert value(
        m, "wattbench_energy_joules_total", meter="wt310e", channel="1", phase="testing"
    ) == pytest.approx(300.0)


def test_gauges_go_stale_after_stale_after_s_but_counters_stay(exporter, clock):
    exporter.on_sample(sample(0.0, reading(75.0)))
    clock.ns = 5 * S
    assert value(scrape(exporter), "wattbench_power_watts", meter="wt310e", channel="1") == 75.0
    clock.ns = 5 * S + 1
    m = scrape(exporter)
    assert value(m, "wattbench_power_watts", meter="wt310e", channel="1") is None
    assert value(m, "wattbench_samples_total", meter="wt310e", phase="idle") == 1


def test_gaps_and_missed_updates_are_counted_by_reason(exporter):
    exporter.set_phase("ranging")
    exporter.on_gap(Gap("wt310e", 0, 3 * S, 0, 11, "late"))
    exporter.on_gap(Gap("wt310e", 5 * S, 9 * S, 0, 15, "transport"))
    exporter.on_gap(Gap("wt310e", 10 * S, 11 * S, 0, 3, "late"))
    m = scrape(exporter)
    gaps = "wattbench_gaps_total"
    assert value(m, gaps, meter="wt310e", phase="ranging", reason="late") == 2
    assert value(m, gaps, meter="wt310e", phase="ranging", reason="transport") == 1
    assert value(m, "wattbench_missed_updates_total", meter="wt310e", phase="ranging") == 29


def test_phases_label_the_counters_and_the_phase_gauge_is_one_hot(exporter):
    assert exporter.phase == IDLE
    exporter.set_phase("ranging")
    exporter.on_sample(sample(0.0, reading(100.0)))
    exporter.on_sample(sample(1.0, reading(100.0)))
    exporter.set_phase(IDLE)
    m = scrape(exporter)
    assert value(m, "wattbench_power_watts", meter="wt310e", channel="1") is None
    assert [
        value(m, "wattbench_session_phase", phase=p) for p in ("idle", "ranging", "testing")
    ] == [
        1.0,
        0.0,
        0.0,
    ]
    exporter.set_phase("testing")
    # 100 s between the phases must not be integrated
    exporter.on_sample(sample(101.0, reading(200.0)))
    exporter.on_sample(sample(102.0, reading(200.0)))
    m = scrape(exporter)
    energy = "wattbench_energy_joules_total"
    assert value(m, energy, meter="wt310e", channel="1", phase="ranging") == pytest.approx(100.0)
    assert value(m, energy, meter="wt310e", channel="1", phase="testing") == pytest.approx(200.0)
    assert value(m, "wattbench_session_phase", phase="testing") == 1.0
    assert value(m, "wattbench_session_phase", phase="ranging") == 0.0


def test_meter_info_from_open_meters_dicts():
    exporter = DirectorExporter()
    exporter.describe_meters(
        [
            {
                "name": "wt310e",
                "model": "wt310e",
                "spec": "wt310e@serial:/dev/ttyUSB0?baud=9600",
                "identity": "YOKOGAWA,WT310E,C2PTY0001,F1.02",
            },
            {"name": "rapl", "model": "rapl", "spec": "rapl", "identity": ",,,"},
        ]
    )
    m = scrape(exporter)
    assert (
        value(
            m,
            "wattbench_meter_info",
            meter="wt310e",
            manufacturer="YOKOGAWA",
            model="WT310E",
            serial="C2PTY0001",
            firmware="F1.02",
            interface="serial",
        )
        == 1.0
    )
    assert (
        value(
            m,
            "wattbench_meter_info",
            meter="rapl",
            manufacturer="",
            model="rapl",
            serial="",
            firmware="",
            interface="builtin",
        )
        == 1.0
    )


@pytest.mark.parametrize(
    ("spec", "interface"),
    [
        ("wt310e@serial:/dev/ttyUSB0", "serial"),
        ("wt310e@visa:USB0::0x0B21::0x0025::C2XX00000V::INSTR", "visa"),
        ("hmc8015@tcp:meter-host:5025", "tcp"),
        ("sim:wt210", "builtin"),
        ("sim?load=cpu", "builtin"),
        ("nvml", "builtin"),
    ],
)
def test_interface_of(spec, interface):
    assert interface_of(spec) == interface


def test_the_exporter_uses_its_own_registry_and_names_follow_the_conventions(exporter):
    exporter.set_phase("testing")
    exporter.on_sample(sample(0.0, reading(1.0)))
    names = {f.name for f in exporter.registry.collect()}
    assert not names & {f.name for f in REGISTRY.collect()}
    for family in exporter.registry.collect():
        assert family.name.startswith("wattbench_")
        if family.type == "counter":
            assert re.fullmatch(r"wattbench_\w+", family.name)
        for s in family.samples:
            assert set(s.labels) <= {
                "meter",
                "channel",
                "phase",
                "reason",
                "manufacturer",
                "model",
                "serial",
                "firmware",
                "interface",
            }


def test_every_series_is_documented_in_the_monitoring_guide(exporter):
    text = DOCS.read_text(encoding="utf-8")
    for family in exporter.describe():
        exposed = family.name + ("_total" if family.type == "counter" else "")
        exposed += "_info" if family.type == "info" else ""
        assert f"`{exposed}`" in text, exposed


class RecordingEngine:
    """Records the exporter's phase at each call."""

    def __init__(self, exporter: DirectorExporter, fail: str = "") -> None:
        self.exporter = exporter
        self.fail = fail
        self.seen: list[tuple[str, str]] = []
        self.extra = "passed through"

    def start_phase(self, phase, mark, *, auto_range, manual_ranges=None):
        self.seen.append(("start", self.exporter.phase))
        if self.fail == "start":
            raise RuntimeError("start failed")

    def stop_phase(self):
        self.seen.append(("stop", self.exporter.phase))
        if self.fail == "stop":
            raise RuntimeError("stop failed")
        return {"phase": "done"}

    def files(self):
        return [Path("x")]

    def restore_initial_ranges(self):
        self.seen.append(("restore", self.exporter.phase))

    def close(self):
        self.seen.append(("close", self.exporter.phase))


def test_phase_reporting_engine_labels_before_start_and_idles_after_stop(exporter):
    inner = RecordingEngine(exporter)
    engine = instrument_engine_factory(lambda folder: inner, exporter)(Path("."))
    assert isinstance(engine, PhaseReportingEngine)
    engine.start_phase("ranging", "m", auto_range=True)
    assert exporter.phase == "ranging"
    assert engine.stop_phase() == {"phase": "done"}
    assert exporter.phase == IDLE
    assert inner.seen == [("start", "ranging"), ("stop", "ranging")]
    assert engine.files() == [Path("x")]
    assert engine.extra == "passed through"  # type: ignore[attr-defined]
    engine.start_phase("testing", "m", auto_range=False)
    engine.close()
    assert exporter.phase == IDLE
    assert inner.seen[-1] == ("close", "testing")


def test_phase_reporting_engine_restores_the_phase_when_the_engine_fails(exporter):
    engine = PhaseReportingEngine(RecordingEngine(exporter, fail="start"), exporter)
    exporter.set_phase("ranging")
    with pytest.raises(RuntimeError, match="start failed"):
        engine.start_phase("testing", "m", auto_range=False)
    assert exporter.phase == "ranging"
    engine = PhaseReportingEngine(RecordingEngine(exporter, fail="stop"), exporter)
    with pytest.raises(RuntimeError, match="stop failed"):
        engine.stop_phase()
    assert exporter.phase == IDLE


class RampMeter:
    """A software-like meter (no ranges) whose power rises by 1 W per read."""

    name = "ramp"
    channel_count = 1
    range_table = RangeTable()
    update_interval_s = 0.005

    def __init__(self) -> None:
        self.reads = 0

    def identify(self) -> MeterIdentity:
        return MeterIdentity("TEST", "RAMP", "1", "1")

    def read(self) -> list[ChannelReading]:
        self.reads += 1
        return [reading(50.0 + self.reads)]

    def auto_range(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_real_engine_feeds_the_exporter_the_same_energy_as_its_summary(tmp_path):
    exporter = DirectorExporter()
    meter = RampMeter()

    def factory(folder: Path):
        return MeasurementEngine(
            [("ramp", meter)], folder, sample_period_s=0.005, observers=[exporter]
        )

    engine = instrument_engine_factory(factory, exporter)(tmp_path)
    summaries = {}
    for phase in ("ranging", "testing"):
        engine.start_phase(phase, f"m_{phase}", auto_range=phase == "ranging")
        time.sleep(0.3)
        summaries[phase] = engine.stop_phase()
    engine.close()
    m = scrape(exporter)
    for phase, summary in summaries.items():
        assert summary.samples > 10
        assert value(m, "wattbench_samples_total", meter="ramp", phase=phase) == summary.samples
        assert value(
            m, "wattbench_energy_joules_total", meter="ramp", channel="1", phase=phase
        ) == pytest.approx(summary.energy_joules, rel=1e-12)
    assert value(m, "wattbench_session_phase", phase="idle") == 1.0


def get(url: str, *, auth: str | None = None, context: ssl.SSLContext | None = None):
    request = urllib.request.Request(url)
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(request, timeout=5, context=context) as response:
        return response.status, response.read().decode()


def test_serve_binds_loopback_and_serves_the_registry(exporter):
    exporter.on_sample(sample(0.0, reading(42.0)))
    server = exporter.serve()
    try:
        assert server.host == "127.0.0.1"
        assert server.url == f"http://127.0.0.1:{server.port}/metrics"
        status, body = get(server.url)
        assert status == 200
        assert 'wattbench_power_watts{channel="1",meter="wt310e"} 42.0' in body
        with pytest.raises(RuntimeError, match="already serving"):
            exporter.serve()
    finally:
        exporter.close()
    with pytest.raises(urllib.error.URLError):
        get(server.url)
    exporter.close()  # idempotent


def test_basic_auth_rejects_missing_or_wrong_credentials(exporter, tmp_path):
    auth_file = tmp_path / "auth"
    auth_file.write_text("prom:s3cret:with:colons\n")
    auth = BasicAuth.from_file(auth_file)
    assert auth == BasicAuth("prom", "s3cret:with:colons")
    with serve_metrics(exporter.registry, basic_auth=auth) as server:
        for bad in (None, "prom:wrong", "other:s3cret:with:colons"):
            with pytest.raises(urllib.error.HTTPError) as info:
                get(server.url, auth=bad)
            with info.value:
                assert info.value.code == 401
                assert info.value.headers["WWW-Authenticate"] == 'Basic realm="wattbench"'
        status, body = get(server.url, auth="prom:s3cret:with:colons")
        assert status == 200
        assert "wattbench_session_phase" in body


def test_basic_auth_file_must_hold_user_and_password(tmp_path):
    path = tmp_path / "auth"
    path.write_text("no-colon\n")
    with pytest.raises(ValueError, match="user:password"):
        BasicAuth.from_file(path)
    with pytest.raises(ValueError, match="non-empty password"):
        BasicAuth("user", "")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_serves_https_with_the_given_certificate(exporter, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    with serve_metrics(exporter.registry, certfile=cert, keyfile=key) as server:
        assert server.url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        status, body = get(server.url, context=context)
        assert status == 200
        assert "wattbench_session_phase" in body
    with pytest.raises(ValueError, match="both certfile and keyfile"):
        serve_metrics(exporter.registry, certfile=cert)


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("9464", ("127.0.0.1", 9464)),
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("0.0.0.0:9464", ("0.0.0.0", 9464)),
        (":9464", ("127.0.0.1", 9464)),
        ("[::1]:0", ("::1", 0)),
    ],
)
def test_parse_metrics_address(text, address):
    assert parse_metrics_address(text) == address


@pytest.mark.parametrize("text", ["", "host", "127.0.0.1:99999", "127.0.0.1:x"])
def test_parse_metrics_address_rejects_malformed(text):
    with pytest.raises(ValueError):
        parse_metrics_address(text)
