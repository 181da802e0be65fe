from __future__ import annotations

import calendar
import math

from power_director.powerlog import PowerLogWriter, channel_record, read_power_log
from power_director.sampler import Gap
from power_director.samples import FLAG_OVER_RANGE, ChannelReading, Sample
from power_director.spl import (
    SplChannel,
    format_spl_line,
    parse_spl_line,
    parse_spl_timestamp,
    read_spl,
    spl_timestamp,
)

# 01-10-2023 13:35:07.085 UTC, plus 0.999 ms that must be truncated, not rounded.
T0 = calendar.timegm((2023, 1, 10, 13, 35, 7, 0, 0, 0)) * 1_000_000_000 + 85_999_999
PTD_LINE = (
    "Time,01-10-2023 13:35:07.085,Watts,16.900000,Volts,248.110000,Amps,0.145300,"
    "PF,0.468700,Mark,2023-01-10_13-34-28_testing"
)


def test_spl_line_is_byte_identical_to_ptdaemon():
    reading = ChannelReading(volts=248.11, amps=0.1453, watts=16.9, power_factor=0.4687)
    assert format_spl_line(T0, [reading], "2023-01-10_13-34-28_testing") == PTD_LINE
    fields = PTD_LINE.split(",")
    assert (fields[1], fields[3], fields[9]) == ("01-10-2023 13:35:07.085", "16.900000", "0.468700")


def test_invalid_sample_is_minus_one_like_ptdaemon():
    line = format_spl_line(T0, [ChannelReading.invalid(FLAG_OVER_RANGE)], "m")
    assert line == (
        "Time,01-10-2023 13:35:07.085,Watts,-1.000000,Volts,-1.000000,Amps,-1.000000,"
        "PF,-1.000000,Mark,m"
    )


def test_multichannel_line_sums_watts_keeps_groups_and_combined_pf():
    a = ChannelReading(volts=120.95, amps=0.8321, watts=91.06, power_factor=0.9389)
    b = ChannelReading(volts=121.0, amps=1.0, watts=100.0, power_factor=0.8264)
    line = format_spl_line(T0, [a, b], "m")
    pf = (91.06 + 100.0) / (120.95 * 0.8321 + 121.0)
    assert line == (
        "Time,01-10-2023 13:35:07.085,Watts,191.060000,Volts,-1.000000,Amps,-1.000000,"
        f"PF,{pf:f},Mark,m,Ch1,Watts,91.060000,Volts,120.950000,Amps,0.832100,PF,0.938900,"
        "Ch2,Watts,100.000000,Volts,121.000000,Amps,1.000000,PF,0.826400"
    )
    record = parse_spl_line(line)
    assert record.watts == 191.06 and record.volts == -1.0 and record.mark == "m"
    assert record.channels[1] == SplChannel(100.0, 121.0, 1.0, 0.8264)


def test_timestamp_is_utc_and_parses_back():
    assert spl_timestamp(0) == "01-01-1970 00:00:00.000"
    assert parse_spl_timestamp("01-10-2023 13:35:07.085") == T0 - 999_999
    assert parse_spl_line(PTD_LINE).t_wall_ns == T0 - 999_999


def _sample(t_ns: int, watts: float = 100.0, **kw) -> Sample:
    reading = ChannelReading(
        volts=230.0,
        amps=watts / 220,
        watts=watts,
        power_factor=0.95,
        volts_range=300.0,
        amps_range=1.0,
        watts_uncertainty=0.2,
        **kw,
    )
    return Sample(T0 + t_ns, 5_000_000_000 + t_ns, "wt310e", (reading,))


def test_flush_cadence_follows_the_injected_clock(tmp_path, clock):
    spl, jsonl = tmp_path / "spl.txt", tmp_path / "samples.jsonl"
    writer = PowerLogWriter(
        spl,
        jsonl,
        meter="wt310e",
        phase="testing",
        mark="m",
        clock_ns=clock.now_ns,
        flush_interval_s=1.0,
    )
    on_disk = lambda: spl.read_text().count("\n")  # noqa: E731 - read through another handle
    writer.on_sample(_sample(0))
    clock.advance(500_000_000)
    writer.on_sample(_sample(500_000_000))
    assert on_disk() == 0  # buffered: less than a second since the last flush
    clock.advance(500_000_000)
    writer.on_sample(_sample(1_000_000_000))
    assert on_disk() == 3  # one second passed: everything so far is on disk
    writer.on_sample(_sample(1_100_000_000))
    assert on_disk() == 3
    clock.advance(1_000_000_000)
    writer.tick()  # no new sample, but the pending one is flushed on time
    assert on_disk() == 4
    writer.close()
    writer.close()


def test_jsonl_round_trip_with_gaps_invalid_and_energy(tmp_path, clock):
    spl, jsonl = tmp_path / "spl.txt", tmp_path / "samples.jsonl"
    writer = PowerLogWriter(
        spl,
        jsonl,
        meter="wt310e",
        phase="ranging",
        mark="s_ranging",
        period_s=0.1,
        clock_ns=clock.now_ns,
    )
    written = [
        _sample(0, energy_joules=12.5),
        Sample(T0 + 100_000_000, 5_100_000_000, "wt310e", (ChannelReading.invalid("no_data"),)),
        _sample(400_000_000, watts=50.0),
    ]
    gap = Gap("wt310e", 5_100_000_000, 5_400_000_000, T0 + 100_000_000, 2, "late")
    writer.on_sample(written[0])
    writer.on_sample(written[1])
    writer.on_gap(gap)
    writer.on_sample(written[2])
    writer.write_event("phase_stop", samples=3)
    writer.close()
    log = read_power_log(jsonl)
    assert log.header["format"] == "wattbench-power-log" and log.header["phase"] == "ranging"
    assert log.header["period_s"] == 0.1
    assert [entry.mark for entry in log.samples] == ["s_ranging"] * 3
    for got, want in zip(log.samples, written, strict=True):
        assert (got.sample.t_mono_ns, got.sample.t_wall_ns) == (want.t_mono_ns, want.t_wall_ns)
        assert [channel_record(c) for c in got.sample.channels] == [
            channel_record(c) for c in want.channels
        ]
    assert log.samples[0].sample == written[0]
    assert math.isnan(log.samples[1].sample.channels[0].watts)
    assert log.gaps == (gap,)
    assert log.events[0]["name"] == "phase_stop"
    records = read_spl(spl)
    assert [r.watts for r in records] == [100.0, -1.0, 50.0]
    assert records[0].t_wall_ns == T0 - 999_999 and records[0].mark == "s_ranging"


def test_reader_skips_a_line_truncated_by_a_crash(tmp_path, clock, caplog):
    spl, jsonl = tmp_path / "spl.txt", tmp_path / "samples.jsonl"
    writer = PowerLogWriter(spl, jsonl, meter="m", phase="testing", mark="x", clock_ns=clock.now_ns)
    writer.on_sample(_sample(0))
    writer.close()
    with open(jsonl, "a") as handle:
        handle.write('{"type":"sample","meter":"m","t_mo')
    with open(spl, "a") as handle:
        handle.write("Time,01-10-2023 13:35:0")
    assert len(read_power_log(jsonl).samples) == 1
    assert len(read_spl(spl)) == 1
    assert "truncated" in caplog.text
