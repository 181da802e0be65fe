from __future__ import annotations

import base64
import copy
import json
import logging
import math
import re
import struct
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from power_client.errors import ResultFolderError
from power_client.html_report import render_html
from power_client.plot import envelope, parse_utc_ns, phase_traces, render_plot
from power_client.report import read_result, write_report
from power_client.result_view import format_measured, format_number, format_seconds
from power_client.summary_text import render_summary
from power_director.powerlog import PowerLogWriter
from power_director.samples import FLAG_OVER_RANGE, ChannelReading, Sample

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# 2026-11-22T10:00:00Z
T0_NS = 1_795_341_600 * 1_000_000_000
PERIOD_NS = 100_000_000  # 10 Hz


def _utc(t_ns: int) -> str:
    moment = datetime.fromtimestamp(t_ns // 1_000_000_000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{t_ns % 1_000_000_000 // 1000:06d}Z"


def _loadgen_utc(t_ns: int) -> str:
    moment = datetime.fromtimestamp(t_ns // 1_000_000_000, tz=timezone.utc)
    return moment.strftime("%m-%d-%Y %H:%M:%S") + f".{t_ns % 1_000_000_000 // 1_000_000:03d}"


def write_samples(
    path: Path, start_ns: int, count: int, *, watts: float, invalid_at: tuple[int, ...] = ()
) -> None:
    writer = PowerLogWriter(
        path.parent / "spl.txt",
        path,
        meter="wt310e",
        phase=path.parent.name,
        mark="m",
        period_s=PERIOD_NS / 1e9,
    )
    for i in range(count):
        t_ns = start_ns + i * PERIOD_NS
        if i in invalid_at:
            channel = ChannelReading.invalid(FLAG_OVER_RANGE)
        else:
            w = watts + 2.0 * math.sin(i / 20)
            channel = ChannelReading(
                volts=230.0, amps=w / 230.0, watts=w, power_factor=0.95, watts_uncertainty=0.18
            )
        writer.on_sample(Sample(t_ns, t_ns - T0_NS, "wt310e", (channel,)))
    writer.close()


def _quantity(value: float, uncertainty: float, unit: str) -> dict[str, Any]:
    return {"value": value, "uncertainty": uncertainty, "unit": unit}


def _phase(folder: str, start_ns: int, *, watts: float, samples: int) -> dict[str, Any]:
    begin, end = start_ns + 2_000_000_000, start_ns + 2_000_000_000 + 30_010_000_000
    return {
        "loadgen": {
            "detail_log": f"{folder}/mlperf_log_detail.txt",
            "power_begin_utc": _loadgen_utc(begin),
            "power_end_utc": _loadgen_utc(end),
            "result_validity": "VALID",
            "performance": {
                "name": "result_samples_per_second",
                "value": 1234.5,
                "unit": "samples/s",
            },
            "query_count": 1000,
            "samples_per_query": 1,
            "official_loadgen": False,
        },
        "phase_bounds_utc": [_utc(start_ns), _utc(start_ns + 35_000_000_000)],
        "window": {"begin_utc": _utc(begin), "end_utc": _utc(end), "duration_s": 30.01},
        "energy": {
            "energy_joules": _quantity(watts * 30.01, 5.5, "J"),
            "avg_watts": _quantity(watts, 0.1834, "W"),
            "samples_in_window": samples,
            "invalid_samples": 0,
            "over_range_samples": 0,
            "max_gap_s": 0.1,
            "max_uncertainty_ratio": 0.0039,
            "mlperf_avg_watts": {"value": watts - 0.01, "unit": "W"},
            "mlperf_samples": samples - 1,
        },
        "director": {"samples": 350, "valid": True},
    }


def make_result(scenario: str = "Offline", *, simulated: bool = True) -> dict[str, Any]:
    ranging_start, testing_start = T0_NS, T0_NS + 40_000_000_000
    per_query = scenario in ("SingleStream", "MultiStream")
    metrics: dict[str, Any] = {
        "avg_watts": _quantity(45.871, 0.1834, "W"),
        "energy_joules": _quantity(1376.6, 5.51, "J"),
        "samples_per_joule": _quantity(26.92, 0.1077, "samples/J"),
        "ranging_avg_watts": _quantity(46.2, 0.19, "W"),
        "testing_vs_ranging_ratio": 0.9929,
        "mlperf": {
            "power_metric": (
                {"value": 1376.2, "unit": "millijoules"}
                if per_query
                else {"value": 45.86, "unit": "Watts"}
            ),
            "efficiency": {"value": 26.93, "unit": "samples/J"},
        },
    }
    if per_query:
        metrics["energy_per_query_millijoules"] = _quantity(1376.6, 5.51, "mJ")
    return {
        "format": "wattbench-result",
        "version": 1,
        "created_utc": "2026-11-22T10:01:30Z",
        "simulated": simulated,
        "valid": False,
        "checks": [
            {"name": "loadgen_valid", "passed": True, "detail": "testing LoadGen result is VALID"},
            {
                "name": "samples_in_window",
                "passed": False,
                "detail": "3 samples in the testing window (>= 10)",
            },
            {"name": "max_gap", "passed": False, "detail": "longest gap 1.500 s (<= 0.200 s)"},
        ],
        "scenario": scenario,
        "mode": "PerformanceOnly",
        "sut": {"spec": "null", "workload": "digits", "description": {"device": "CPU"}},
        "meters": [
            {
                "name": "wt310e",
                "spec": "sim",
                "model": "wt310e",
                "identity": "YOKOGAWA,WT310E,C2SIM0001,F1.03",
                "channels": 1,
                "simulated": simulated,
            }
        ],
        "director": {
            "address": "127.0.0.1:4950",
            "software": "wattbench-director/0.1.0",
            "host": "lab-pc",
            "session_id": "2026-11-22T10-00-00Z_digits",
        },
        "clock": {
            "offset_s": 0.0001,
            "rtt_s": 0.00005,
            "uncertainty_s": 0.000025,
            "tolerance_s": 0.1,
            "drift_s": 0.00001,
            "checks": [
                {"when": "start", "offset_s": 0.0001, "rtt_s": 0.00005},
                {"when": "after ranging", "offset_s": 0.000105, "rtt_s": 0.00005},
                {"when": "after testing", "offset_s": 0.00011, "rtt_s": 0.00005},
            ],
        },
        "phases": {
            "ranging": _phase("ranging", ranging_start, watts=46.2, samples=300),
            "testing": _phase("run_1", testing_start, watts=45.871, samples=300),
        },
        "metrics": metrics,
        "versions": {
            "wattbench": "0.1.0",
            "python": "3.11.2",
            "numpy": "2.4.6",
            "loadgen": "0.1.0",
            "openvino": None,
        },
        "files": {"run_1/spl.txt": "ab" * 32},
    }


def make_folder(root: Path, result: dict[str, Any], *, samples: int = 350) -> Path:
    for folder, start_ns, watts, invalid in (
        ("ranging", T0_NS, 46.2, ()),
        ("run_1", T0_NS + 40_000_000_000, 45.871, (100, 101, 250)),
    ):
        (root / folder).mkdir(parents=True)
        write_samples(
            root / folder / "samples.jsonl", start_ns, samples, watts=watts, invalid_at=invalid
        )
    (root / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return root


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- number formatting ------------------------------------------------------------------------


def test_measured_value_is_rounded_to_its_uncertainty():
    assert format_measured(45.871, 0.1834, "W") == "45.87 ± 0.18 W (0.40 %)"
    assert format_measured(1376.6, 11.3, "J") == "1377 ± 11 J (0.82 %)"
    assert format_measured(45.871, None, "W") == "45.87 W"
    assert format_measured(None, 0.1, "W") == "n/a"
    assert format_measured(float("nan"), 0.1, "W") == "n/a"


def test_numbers_and_durations_keep_significant_digits():
    assert format_number(1234.5, 5) == "1234.5"
    assert format_number(0.0039, 2) == "0.0039"
    assert format_number(123456.0, 3) == "123456"
    assert format_seconds(0.0001, signed=True) == "+100 µs"
    assert format_seconds(0.05) == "50.0 ms"
    assert format_seconds(60.01, 4) == "60.01 s"


def test_utc_times_in_both_formats_parse_to_the_same_instant():
    t_ns = T0_NS + 1_123_000_000
    assert parse_utc_ns(_utc(t_ns)) == t_ns
    assert parse_utc_ns(_loadgen_utc(t_ns)) == t_ns
    assert parse_utc_ns("2026-11-22T11:00:01.123+01:00") == t_ns
    assert parse_utc_ns("2026-11-22T10:00:01.123000001Z") == t_ns + 1
    assert parse_utc_ns("yesterday") is None
    assert parse_utc_ns(None) is None


# --- summary.txt ------------------------------------------------------------------------------


def test_offline_summary_has_banner_verdict_failed_checks_and_headline():
    text = render_summary(make_result("Offline"))
    flat = " ".join(text.split())
    lines = text.splitlines()
    assert "SIMULATED METER" in lines[0]
    assert lines[1] == "wattbench result: INVALID (2 of 3 checks failed), SIMULATED"
    assert "FAILED samples_in_window: 3 samples in the testing window (>= 10)" in text
    assert "FAILED max_gap: longest gap 1.500 s (<= 0.200 s)" in text
    assert "loadgen_valid" not in text
    assert re.search(r"^Efficiency +26\.92 ± 0\.11 samples/J \(0\.40 %\)$", text, re.M)
    assert re.search(r"^Average power +45\.87 ± 0\.18 W \(0\.40 %\)$", text, re.M)
    assert re.search(r"^Energy +1376\.6 ± 5\.5 J \(0\.40 %\)$", text, re.M)
    assert "45.86 W power metric, 26.93 samples/J efficiency" in flat
    assert "unweighted mean power of 299 samples strictly inside the LoadGen window" in flat
    assert re.search(r"^MLPerf-comparable +45\.86 W", text, re.M)
    assert "ranging 46.20 ± 0.19 W (0.41 %)" in flat
    assert "testing/ranging = 0.993" in flat
    assert "offset +100 µs (director - client), RTT 50.0 µs" in flat
    assert "YOKOGAWA,WT310E,C2SIM0001,F1.03" in text
    assert "null running digits (device: CPU)" in text
    assert "30.01 s" in text
    assert "1234.5 samples/s" in text
    assert "run_1/spl.txt" in text and "ab" * 32 in text
    assert re.search(r"^  run_1/ +the testing phase's LoadGen logs", text, re.M)


def test_single_stream_summary_leads_with_energy_per_query():
    text = render_summary(make_result("SingleStream", simulated=False))
    rows = [line for line in text.splitlines() if line and not line.startswith(" ")]
    labels = [line.split("  ")[0] for line in rows]
    assert labels.index("Energy per query") < labels.index("Efficiency")
    assert re.search(r"^Energy per query +1376\.6 ± 5\.5 mJ \(0\.40 %\)$", text, re.M)
    assert re.search(r"^MLPerf-comparable +1376 mJ/query power metric", text, re.M)
    assert re.search(r"^Average power +45\.87 ± 0\.18 W", text, re.M)
    assert "SIMULATED" not in text


def test_valid_result_lists_no_failures():
    result = make_result(simulated=False)
    result["valid"] = True
    for check in result["checks"]:
        check["passed"] = True
    text = render_summary(result)
    assert text.startswith("wattbench result: VALID\n")
    assert "FAILED" not in text


def test_simulated_meter_alone_makes_the_result_simulated():
    result = make_result(simulated=False)
    result["meters"][0]["simulated"] = True
    assert render_summary(result).startswith("*** SIMULATED METER")


def test_summary_of_a_sparse_result_shows_na():
    text = render_summary({"format": "wattbench-result", "version": 1, "valid": False})
    assert text.startswith("wattbench result: INVALID\n")
    assert re.search(r"^Efficiency +n/a$", text, re.M)


# --- power.png --------------------------------------------------------------------------------


def test_plot_is_a_png_of_plausible_size(tmp_path):
    result = make_result()
    make_folder(tmp_path, result)
    out = render_plot(tmp_path, result, tmp_path / "power.png")
    assert out == tmp_path / "power.png"
    width, height = png_size(out)
    assert (width, height) == (1000, 720)
    assert out.stat().st_size > 10_000
    assert not list(tmp_path.glob("*.partial"))
    pil = pytest.importorskip("PIL.Image")
    with pil.open(out) as image:
        assert image.size == (1000, 720)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # something was drawn


def test_plot_prefers_raw_per_meter_logs_and_falls_back_to_spl(tmp_path):
    result = make_result()
    (tmp_path / "raw" / "run_1").mkdir(parents=True)
    for meter in ("a", "b"):
        write_samples(tmp_path / "raw" / "run_1" / f"samples_{meter}.jsonl", T0_NS, 20, watts=10)
    (tmp_path / "ranging").mkdir()
    write_samples(tmp_path / "ranging" / "samples.jsonl", T0_NS, 20, watts=10, invalid_at=(4,))
    (tmp_path / "ranging" / "samples.jsonl").unlink()  # leaves only ranging/spl.txt
    testing = phase_traces(tmp_path, result, "testing")
    assert [t.source.relative_to(tmp_path).as_posix() for t in testing] == [
        "raw/run_1/samples_a.jsonl",
        "raw/run_1/samples_b.jsonl",
    ]
    (ranging,) = phase_traces(tmp_path, result, "ranging")
    assert ranging.source == tmp_path / "ranging" / "spl.txt"
    assert len(ranging) == 20 and int(ranging.valid.sum()) == 19
    assert render_plot(tmp_path, result, tmp_path / "power.png") is not None


def test_plot_without_power_logs_still_renders(tmp_path, caplog):
    result = make_result()
    (tmp_path / "run_1").mkdir()
    (tmp_path / "run_1" / "samples.jsonl").write_text('{"type":"sample"}\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="power_client.plot"):
        out = render_plot(tmp_path, result, tmp_path / "power.png")
    assert out is not None and png_size(out) == (1000, 720)
    assert "cannot read the power log in" in caplog.text
    assert "no power log found for the ranging phase" in caplog.text


def test_envelope_keeps_extremes_and_bounds_points():
    x = np.arange(36_000, dtype=np.float64)
    y = np.sin(x / 50.0)
    y[12_345] = 9.0
    y[30_000] = -9.0
    ex, ey = envelope(x, y, 2000)
    assert len(ex) == 2000
    assert ey.max() == 9.0 and ey.min() == -9.0
    assert np.all(np.diff(ex) >= 0)
    small_x, small_y = envelope(x[:10], y[:10], 2000)
    assert small_x is not None and len(small_y) == 10


def test_plot_leaves_matplotlib_global_state_alone(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    result = make_result()
    make_folder(tmp_path, result, samples=50)
    before = matplotlib.rcParams.copy()
    had_pyplot = "matplotlib.pyplot" in sys.modules
    assert render_plot(tmp_path, result, tmp_path / "power.png") is not None
    assert matplotlib.rcParams.copy() == before
    assert ("matplotlib.pyplot" in sys.modules) == had_pyplot


def test_plot_of_a_36000_sample_trace(tmp_path):
    result = make_result()
    make_folder(tmp_path, result, samples=36_000)
    out = render_plot(tmp_path, result, tmp_path / "power.png")
    assert out is not None and png_size(out) == (1000, 720)


# --- report.html ------------------------------------------------------------------------------


def test_html_embeds_png_escapes_strings_and_shows_metrics(tmp_path):
    result = make_result()
    result["sut"]["spec"] = "<script>alert(1)</script>"
    result["checks"][1]["detail"] = 'a "quoted" <b>detail</b> & more'
    png = tmp_path / "power.png"
    png.write_bytes(PNG_MAGIC + b"not really")
    page = render_html(result, png)
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &quot;quoted&quot; &lt;b&gt;detail&lt;/b&gt; &amp; more" in page
    encoded = base64.b64encode(PNG_MAGIC + b"not really").decode()
    assert f'src="data:image/png;base64,{encoded}"' in page
    assert "26.92 ± 0.11 samples/J (0.40 %)" in page
    assert "45.87 ± 0.18 W (0.40 %)" in page
    assert 'class="banner"' in page and "SIMULATED METER" in page
    assert "INVALID (2 of 3 checks failed)" in page
    # no external resources
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    assert "http://" not in page and "https://" not in page


def test_html_has_checks_and_phase_tables():
    page = render_html(make_result(), None)
    assert '<td><code>loadgen_valid</code></td><td class="pass">passed</td>' in page
    assert '<td><code>max_gap</code></td><td class="fail">FAILED</td>' in page
    assert "<th></th><th>ranging</th><th>testing</th>" in page
    assert "46.20 ± 0.18 W (0.40 %)" in page  # the ranging phase's average
    assert "plot unavailable: install matplotlib" in page


# --- write_report -----------------------------------------------------------------------------


def test_write_report_writes_all_three_files(tmp_path):
    result = make_result("SingleStream")
    make_folder(tmp_path, result)
    written = write_report(tmp_path)
    assert written == [tmp_path / "summary.txt", tmp_path / "power.png", tmp_path / "report.html"]
    summary = (tmp_path / "summary.txt").read_text(encoding="utf-8")
    assert summary == render_summary(result)
    assert png_size(tmp_path / "power.png")[0] == 1000
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    encoded = base64.b64encode((tmp_path / "power.png").read_bytes()).decode()
    assert encoded in page
    assert "1376.6 ± 5.5 mJ (0.40 %)" in page


def test_missing_result_json_names_the_path(tmp_path):
    with pytest.raises(ResultFolderError, match=re.escape(str(tmp_path / "result.json"))):
        write_report(tmp_path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON: .* line 1 column 2"),
        ("[1, 2]", "expected a JSON object, found list"),
        ('{"format": "other", "version": 1}', "format is 'other'"),
        ('{"format": "wattbench-result", "version": 2}', "version 2 is not supported"),
    ],
)
def test_malformed_result_json_is_refused(tmp_path, content, reason):
    path = tmp_path / "result.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ResultFolderError, match=re.escape(str(path)) + ": " + reason):
        read_result(path)
    assert not (tmp_path / "summary.txt").exists()


def test_without_matplotlib_there_is_no_png_and_a_note(tmp_path, monkeypatch, caplog):
    result = make_result()
    make_folder(tmp_path, result)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with caplog.at_level(logging.WARNING, logger="power_client.plot"):
        written = write_report(tmp_path)
    assert written == [tmp_path / "summary.txt", tmp_path / "report.html"]
    assert not (tmp_path / "power.png").exists()
    assert "plot unavailable: install matplotlib" in caplog.text
    summary = (tmp_path / "summary.txt").read_text(encoding="utf-8")
    assert re.search(r"^  power\.png +plot unavailable: install matplotlib$", summary, re.M)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<p class="note">plot unavailable: install matplotlib</p>' in page
    assert "data:image/png" not in page


def test_rendering_does_not_modify_the_result(tmp_path):
    result = make_result()
    before = copy.deepcopy(result)
    render_summary(result)
    render_html(result, None)
    assert result == before


def test_flat_mlperf_metric_keys_are_read_too():
    result = make_result()
    mlperf = result["metrics"].pop("mlperf")
    result["metrics"]["mlperf_power"] = mlperf["power_metric"]
    result["metrics"]["mlperf_efficiency"] = mlperf["efficiency"]
    flat = " ".join(render_summary(result).split())
    assert "45.86 W power metric, 26.93 samples/J efficiency" in flat
