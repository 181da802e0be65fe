import datetime
import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from join_synth import T0_NS, grid, mllog_line, ns, write_trace

from loadgen.log_reader import parse_power_timestamp
from loadgen.settings import TestScenario
from power_client.errors import JoinError, LoadgenLogError
from power_client.join import join_energy, map_window
from power_client.mlperf_power import (
    DATETIME_FORMAT,
    MlperfWindow,
    average_power,
    average_power_from_files,
    mlperf_power_efficiency,
    mlperf_power_metric,
    parse_datetime,
    read_power_window,
)
from power_client.trace import read_trace
from power_director.spl import spl_timestamp

OFFICIAL = Path(__file__).parents[1] / "fixtures" / "official" / "Offline-perf"
FMT = "%m-%d-%Y %H:%M:%S.%f"


def detail_log_text(begin: str, end: str) -> str:
    """The official Offline detail log with its power window replaced."""
    text = (OFFICIAL / "mlperf_log_detail.txt").read_text()
    text = re.sub(r'("key": "power_begin", "value": )"[^"]*"', rf'\1"{begin}"', text)
    return re.sub(r'("key": "power_end", "value": )"[^"]*"', rf'\1"{end}"', text)


def checker(
    spl_text: str, detail_text: str
) -> tuple[float, int, datetime.datetime, datetime.datetime]:
    """The submission checker's steps, written out again independently."""
    values = {}
    for line in detail_text.splitlines():
        if line.startswith(":::MLLOG"):
            entry = json.loads(line[len(":::MLLOG") :])
            values.setdefault(entry["key"], entry["value"])
    begin = datetime.datetime.strptime(values["power_begin"], FMT)
    end = datetime.datetime.strptime(values["power_end"], FMT)
    power_list = []
    for line in spl_text.splitlines(keepends=True):
        if not line.startswith("Time"):
            continue
        timestamp = datetime.datetime.strptime(line.split(",")[1], FMT)
        if timestamp > begin and timestamp < end:
            value = float(line.split(",")[3])
            if value > 0:
                power_list.append(float(line.split(",")[3]))
    return sum(power_list) / len(power_list), len(power_list), begin, end


@pytest.fixture
def run_dir(tmp_path):
    rng = random.Random(20261122)
    times = grid(0, 30, 0.1)
    watts = [rng.uniform(50.0, 400.0) for _ in times]
    invalid = [0, 42, 43, 50, 51, 100, 277, 278, 300]  # 43 .. 277 lie strictly inside
    write_trace(
        tmp_path / "samples.jsonl", times, watts, invalid=invalid, spl_path=tmp_path / "spl.txt"
    )
    begin, end = spl_timestamp(ns(4.2)), spl_timestamp(ns(27.8))
    (tmp_path / "mlperf_log_detail.txt").write_text(detail_log_text(begin, end))
    return tmp_path


def test_file_figure_equals_the_checker_exactly(run_dir):
    spl = run_dir / "spl.txt"
    detail = run_dir / "mlperf_log_detail.txt"
    want_avg, want_n, want_begin, want_end = checker(spl.read_text(), detail.read_text())

    window, average = average_power_from_files(spl, detail)

    assert (window.begin, window.end) == (want_begin, want_end)
    assert average.avg_watts == want_avg  # bit for bit
    assert average.samples == want_n
    assert want_n == 235 - 5  # 4.3 .. 27.7 s, less the invalid (-1) lines among them


@pytest.mark.parametrize(
    ("scenario", "samples_per_query"),
    [("Offline", 1), ("Server", 1), ("SingleStream", 1), ("MultiStream", 8)],
)
def test_metric_and_efficiency_equal_the_checker(run_dir, scenario, samples_per_query):
    spl = run_dir / "spl.txt"
    detail = run_dir / "mlperf_log_detail.txt"
    avg, _, begin, end = checker(spl.read_text(), detail.read_text())
    query_count, performance = 1234, 987.5
    if scenario in ("Offline", "Server"):
        want, unit = avg, "Watts"
        want_efficiency = performance / avg
    else:
        want = avg * (end - begin).total_seconds() * 1000 / query_count
        unit = "millijoules"
        want_efficiency = (samples_per_query * 1000) / want

    window, average = average_power_from_files(spl, detail)
    metric = mlperf_power_metric(
        scenario, average.avg_watts, window.begin, window.end, query_count, samples_per_query
    )

    assert metric == (want, unit)
    assert mlperf_power_efficiency(scenario, metric[0], performance, samples_per_query) == (
        want_efficiency
    )


def test_multistream_inferred_from_singlestream_is_times_eight():
    begin = datetime.datetime(2026, 11, 22, 12, 0, 0)
    end = begin + datetime.timedelta(seconds=600, microseconds=123000)
    plain = mlperf_power_metric("MultiStream", 321.5, begin, end, 5000, 8)
    inferred = mlperf_power_metric(
        TestScenario.MultiStream, 321.5, begin, end, 5000, 8, inferred_from_single_stream=True
    )
    assert plain == (321.5 * 600.123 * 1000 / 5000, "millijoules")
    assert inferred == (321.5 * 600.123 * 8 * 1000 / 5000, "millijoules")


def test_unknown_scenario_is_refused():
    begin = datetime.datetime(2026, 11, 22)
    with pytest.raises(ValueError, match="unknown scenario 'Batch'"):
        mlperf_power_metric("Batch", 1.0, begin, begin, 1, 1)


def test_first_power_window_is_used_like_mlperflog():
    text = "\n".join(
        [
            mllog_line("power_begin", "11-22-2026 12:00:01.000", 562),
            mllog_line("power_end", "11-22-2026 12:00:02.000", 564),
            mllog_line("power_begin", "11-22-2026 12:00:05.000", 562),
            mllog_line("power_end", "11-22-2026 12:00:09.500", 564),
        ]
    )
    window = read_power_window(text)
    assert window.begin == datetime.datetime(2026, 11, 22, 12, 0, 1)
    assert window.duration_s == 1.0


def test_detail_log_without_power_window_raises():
    with pytest.raises(LoadgenLogError, match=r"run_1/mlperf_log_detail\.txt: no power_end"):
        read_power_window(
            mllog_line("power_begin", "11-22-2026 12:00:01.000", 562),
            "run_1/mlperf_log_detail.txt",
        )


def test_no_sample_in_range_is_reported_as_the_checker_does():
    window = MlperfWindow(datetime.datetime(2026, 11, 22, 13), datetime.datetime(2026, 11, 22, 14))
    lines = ["Time,11-22-2026 12:00:00.000,Watts,10.0,Volts,1,Amps,1,PF,1,Mark,m\n"]
    with pytest.raises(JoinError, match="has no power samples falling in power range"):
        average_power(lines, window)


def test_join_mlperf_figure_agrees_with_the_files(run_dir):
    detail = run_dir / "mlperf_log_detail.txt"
    _, average = average_power_from_files(run_dir / "spl.txt", detail)
    begin = parse_power_timestamp(spl_timestamp(ns(4.2)))
    end = parse_power_timestamp(spl_timestamp(ns(27.8)))

    joined = join_energy([read_trace(run_dir / "samples.jsonl")], map_window(begin, end, 0, 0))

    assert joined.mlperf_samples == average.samples
    # spl.txt rounds W to six decimals.
    assert joined.mlperf_avg_watts == pytest.approx(average.avg_watts, abs=1e-6)


watts_values = st.one_of(st.just(-1.0), st.just(0.0), st.floats(0.001, 5000.0))


@given(
    st.lists(watts_values, min_size=1, max_size=80),
    st.integers(0, 8000),
    st.integers(1, 9000),
)
def test_property_average_equals_the_checker(watts, begin_ms, length_ms):
    lines = [
        f"Time,{spl_timestamp(T0_NS + k * 100_000_000)},Watts,{w:f},Volts,230.0,Amps,0.1,"
        f"PF,0.9,Mark,m,Ch1,Watts,{w:f},Volts,230.0,Amps,0.1,PF,0.9\n"
        for k, w in enumerate(watts)
    ]
    begin = spl_timestamp(T0_NS + begin_ms * 1_000_000)
    end = spl_timestamp(T0_NS + (begin_ms + length_ms) * 1_000_000)
    detail = "\n".join([mllog_line("power_begin", begin, 562), mllog_line("power_end", end, 564)])
    try:
        want = checker("".join(lines), detail)
    except ZeroDivisionError:
        with pytest.raises(JoinError):
            average_power(lines, read_power_window(detail))
        return
    got = average_power(lines, read_power_window(detail))
    assert (got.avg_watts, got.samples) == want[:2]


def test_malformed_timestamps_name_the_source():
    with pytest.raises(LoadgenLogError, match=r"detail\.txt: bad power timestamp"):
        read_power_window(
            mllog_line("power_begin", "2026-11-22 12:00:01", 562)
            + "\n"
            + mllog_line("power_end", "11-22-2026 12:00:02.000", 564),
            "detail.txt",
        )
    window = MlperfWindow(datetime.datetime(2026, 11, 22, 12), datetime.datetime(2026, 11, 22, 13))
    lines = ["# header\n", "Time,22-11-2026 12:30:00.000,Watts,10.0,Mark,m\n"]
    with pytest.raises(JoinError, match=r"spl\.txt line 2: bad timestamp"):
        average_power(lines, window)


@given(
    st.datetimes(min_value=datetime.datetime(1970, 1, 1), max_value=datetime.datetime(2200, 1, 1)),
    st.sampled_from(["%m-%d-%Y %H:%M:%S.%f", "milliseconds"]),
)
def test_parse_datetime_equals_strptime(moment: datetime.datetime, form: str) -> None:
    text = moment.strftime(DATETIME_FORMAT)
    if form == "milliseconds":  # what spl.txt holds
        text = text[:-3]
    assert parse_datetime(text) == datetime.datetime.strptime(text, DATETIME_FORMAT)


@pytest.mark.parametrize(
    "text",
    ["1-2-2026 3:04:05.1", "01-02-2026 03:04:05.123456", "12-31-1999 23:59:59.999"],
)
def test_parse_datetime_other_forms_as_strptime(text: str) -> None:
    assert parse_datetime(text) == datetime.datetime.strptime(text, DATETIME_FORMAT)


@pytest.mark.parametrize(
    "text",
    ["13-01-2026 00:00:00.000", "02-30-2026 00:00:00.000", "01-01-2026 24:00:00.000",
     "01-01-2026 00:00:60.000", "01-01-2026 00:00:00", "01-01-2026 00:00:00.1234567", "x"],
)  # fmt: skip
def test_parse_datetime_rejects_what_strptime_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        datetime.datetime.strptime(text, DATETIME_FORMAT)
    with pytest.raises(ValueError):
        parse_datetime(text)
