"""Energy join speed: read a 1 h, 10 Hz power log and join it to a LoadGen window.

Writes, in a temporary folder, a ``run_1/samples.jsonl`` + ``spl.txt`` of ``--hours`` at
``--rate-hz`` with the director's :class:`~power_director.powerlog.PowerLogWriter` (a varying
load with a few invalid samples) and an ``mlperf_log_detail.txt`` whose power window covers all
but the first and last minute. Then times, over ``--repeats`` runs, the whole join as the client
does it: :func:`~power_client.trace.read_phase_traces`, the detail log's performance window
(:class:`~loadgen.log_reader.DetailLogReader`), :func:`~power_client.join.map_window` and
:func:`~power_client.join.join_energy`. Reports the median and the ratio to the 1 s goal, the
read and join parts separately, and the MLPerf checker figure from ``spl.txt``
(:func:`~power_client.mlperf_power.average_power_from_files`) for comparison.

Usage::

    .venv/bin/python benchmarks/join_trace.py --repeats 7
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from loadgen.log_reader import DetailLogReader
from power_client.join import join_energy, map_window
from power_client.mlperf_power import average_power_from_files
from power_client.trace import read_phase_traces
from power_director.powerlog import PowerLogWriter
from power_director.samples import FLAG_NO_DATA, ChannelReading, Sample
from power_director.spl import spl_timestamp

GOAL_S = 1.0
T0_NS = 1_795_348_800_000_000_000  # 2026-11-22 12:00:00 UTC
_MLLOG = (
    ':::MLLOG {{"key": "{key}", "value": "{value}", "time_ms": 3600000.000000, '
    '"namespace": "mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": '
    '{{"is_error": false, "is_warning": false, "file": "loadgen.cc", "line_no": 562, '
    '"pid": 1, "tid": 1}}}}'
)


def write_run(folder: Path, hours: float, rate_hz: float) -> tuple[Path, Path]:
    """Write ``run_1/`` (power logs and detail log); return the run folder and detail log."""
    run_dir = folder / "run_1"
    run_dir.mkdir()
    period_ns = round(1e9 / rate_hz)
    count = round(hours * 3600 * rate_hz)
    writer = PowerLogWriter(
        run_dir / "spl.txt",
        run_dir / "samples.jsonl",
        meter="wt310e",
        phase="testing",
        mark="bench_testing",
        period_s=1 / rate_hz,
    )
    for k in range(count):
        t_s = k / rate_hz
        if k % 997 == 0:
            reading = ChannelReading.invalid(FLAG_NO_DATA)
        else:
            watts = 300.0 + 120.0 * math.sin(t_s / 7.0) + (40.0 if int(t_s) % 60 < 30 else 0.0)
            reading = ChannelReading(
                volts=230.0,
                amps=watts / 230.0,
                watts=watts,
                power_factor=0.98,
                volts_range=300.0,
                amps_range=5.0,
                watts_uncertainty=0.001 * watts + 0.75,
            )
        t_ns = k * period_ns
        writer.on_sample(Sample(T0_NS + t_ns, 10_000_000_000 + t_ns, "wt310e", (reading,)))
    writer.close()
    begin = spl_timestamp(T0_NS + 60_000_000_000 + 123_000_000)
    end = spl_timestamp(T0_NS + count * period_ns - 60_000_000_000 - 456_000_000)
    detail = run_dir / "mlperf_log_detail.txt"
    detail.write_text(
        _MLLOG.format(key="power_begin", value=begin)
        + "\n"
        + _MLLOG.format(key="power_end", value=end)
        + "\n"
    )
    return run_dir, detail


def _median_s(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(hours: float, rate_hz: float, repeats: int) -> dict[str, object]:
    """Build the files, time the join; return the figures."""
    with tempfile.TemporaryDirectory(prefix="wattbench-join-") as tmp:
        run_dir, detail = write_run(Path(tmp), hours, rate_hz)

        def full_join() -> float:
            traces = read_phase_traces(run_dir)
            pw = DetailLogReader(detail).performance_window()
            window = map_window(pw.begin_ns, pw.end_ns, 0, 500_000)
            return join_energy(traces, window).avg_watts

        traces = read_phase_traces(run_dir)
        pw = DetailLogReader(detail).performance_window()
        window = map_window(pw.begin_ns, pw.end_ns, 0, 500_000)
        joined = join_energy(traces, window)
        total_s = _median_s(full_join, repeats)
        read_s = _median_s(lambda: read_phase_traces(run_dir), repeats)
        join_s = _median_s(lambda: join_energy(traces, window), repeats)
        mlperf_s = _median_s(lambda: average_power_from_files(run_dir / "spl.txt", detail), 3)
        _, mlperf = average_power_from_files(run_dir / "spl.txt", detail)
        return {
            "samples": len(traces[0]),
            "file_mib": round((run_dir / "samples.jsonl").stat().st_size / 2**20, 1),
            "repeats": repeats,
            "read_join_median_s": round(total_s, 4),
            "ratio_to_1s_goal": round(total_s / GOAL_S, 3),
            "read_median_s": round(read_s, 4),
            "join_median_s": round(join_s, 4),
            "mlperf_spl_median_s": round(mlperf_s, 4),
            "avg_watts": round(joined.avg_watts, 4),
            "avg_watts_uncertainty": round(joined.avg_watts_uncertainty, 4),
            "mlperf_avg_watts_spl": round(mlperf.avg_watts, 4),
            "invalid_samples": joined.invalid_samples,
        }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print a table and a JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="log length (default 1)")
    parser.add_argument("--rate-hz", type=float, default=10.0, help="sample rate (default 10)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (default 7)")
    args = parser.parse_args(argv)
    result = run(args.hours, args.rate_hz, args.repeats)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
