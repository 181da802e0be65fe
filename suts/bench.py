"""``wattbench bench``: run LoadGen against a SUT and print the summary.

Exit codes: 0 VALID (accuracy mode: target met or no target), 3 the run finished but is INVALID
(or accuracy below target), 2 bad arguments / settings / SUT spec, 130 interrupted (logs kept).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import loadgen
from loadgen.errors import LoadgenError
from suts.registry import known_schemes, open_sut, spec_for_scenario
from suts.spec import parse_sut_spec

log = logging.getLogger(__name__)

EXIT_VALID, EXIT_USAGE, EXIT_INVALID, EXIT_INTERRUPTED = 0, 2, 3, 130
_MODES = {
    "performance": loadgen.TestMode.PerformanceOnly,
    "accuracy": loadgen.TestMode.AccuracyOnly,
    "submission": loadgen.TestMode.SubmissionRun,
    "find-peak": loadgen.TestMode.FindPeakPerformance,
}
_NULL_SCHEMES = {"null", "null-threaded"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``p``."""
    p.add_argument("--sut", default="null", help=f"SUT spec ({', '.join(known_schemes())}:...)")
    p.add_argument(
        "--workload",
        default=None,
        help="workload spec (default: synthetic samples for null SUTs, else digits)",
    )
    p.add_argument("--scenario", default="Offline", choices=[s.name for s in loadgen.TestScenario])
    p.add_argument("--mode", default="performance", choices=sorted(_MODES))
    p.add_argument("--out", type=Path, default=Path("wattbench-bench"), help="log folder")
    p.add_argument("--conf", type=Path, help="user.conf applied on top of the built-in mlperf.conf")
    p.add_argument("--model", default="wattbench", help="model name for conf lookups")
    p.add_argument(
        "--duration-ms", type=int, default=10_000, help="min_duration_ms (default 10000)"
    )
    p.add_argument("--min-query-count", type=int, help="min_query_count")
    p.add_argument(
        "--target-qps",
        type=float,
        help="Server target QPS / Offline expected QPS (default 1000 for null SUTs)",
    )
    p.add_argument(
        "--expected-latency-ms",
        type=float,
        help="SingleStream/MultiStream expected latency (default 1 ms for null SUTs)",
    )
    p.add_argument("--target-latency-ms", type=float, help="Server latency bound")
    p.add_argument("--max-duration-ms", type=int, help="max_duration_ms (0 = none)")
    p.add_argument("--samples", type=int, default=1024, help="synthetic QSL size (null SUTs)")


def build_settings(args: argparse.Namespace) -> loadgen.TestSettings:
    """Return TestSettings from the command line (conf file first, flags on top)."""
    s = loadgen.TestSettings(scenario=loadgen.TestScenario[args.scenario], mode=_MODES[args.mode])
    if args.conf is not None:
        s.from_config(args.conf, args.model, args.scenario)
    s.min_duration_ms = args.duration_ms
    if args.min_query_count is not None:
        s.min_query_count = args.min_query_count
    if args.max_duration_ms is not None:
        s.max_duration_ms = args.max_duration_ms
    qps = args.target_qps
    latency_ms = args.expected_latency_ms
    if parse_sut_spec(args.sut).scheme in _NULL_SCHEMES:
        qps = 1000.0 if qps is None else qps
        latency_ms = 1.0 if latency_ms is None else latency_ms
    if qps is not None:
        s.server_target_qps = s.offline_expected_qps = qps
    if latency_ms is not None:
        s.single_stream_expected_latency_ns = s.multi_stream_expected_latency_ns = latency_ms * 1e6
    if args.target_latency_ms is not None:
        s.server_target_latency_ns = int(args.target_latency_ms * 1e6)
    return s


def run(args: argparse.Namespace) -> int:
    """Run ``bench`` with parsed arguments; return the exit code."""
    from suts.null import SyntheticQsl

    try:
        settings = build_settings(args)
        workload = None
        if args.workload is None and parse_sut_spec(args.sut).scheme in _NULL_SCHEMES:
            qsl: loadgen.QuerySampleLibrary = SyntheticQsl(args.samples)
        else:
            from suts.workloads.registry import open_workload

            workload = open_workload(args.workload or "digits")
            qsl = workload.qsl()
        sut_spec = spec_for_scenario(args.sut, args.scenario)
        if settings.mode is not loadgen.TestMode.PerformanceOnly and sut_spec.startswith(
            "openvino"
        ):
            from suts.ov_config import pin_precision

            # this CPU defaults to bf16; accuracy is judged at f32 unless the spec says otherwise
            sut_spec = pin_precision(sut_spec, "f32")
        sut = open_sut(sut_spec, qsl)
    except (LoadgenError, ValueError, OSError) as e:
        print(f"wattbench bench: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = loadgen.start_test(sut, qsl, settings, out_dir=args.out)
    except KeyboardInterrupt:
        print(f"\ninterrupted; partial logs are in {args.out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except LoadgenError as e:
        print(f"wattbench bench: {e}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        close = getattr(locals().get("sut"), "close", None)
        if callable(close):
            close()
    summary = (args.out / "mlperf_log_summary.txt").read_text(encoding="utf-8")
    print(summary, end="")
    ok = result.valid
    if settings.mode in (loadgen.TestMode.AccuracyOnly, loadgen.TestMode.SubmissionRun):
        ok = _report_accuracy(workload, args.out) and ok
    print(f"logs: {args.out}")
    return EXIT_VALID if ok else EXIT_INVALID


def _report_accuracy(workload: object, out: Path) -> bool:
    entries = json.loads((out / "mlperf_log_accuracy.json").read_text(encoding="utf-8"))
    print(f"accuracy log: {len(entries)} responses")
    score = getattr(workload, "score", None)
    if score is None:
        return True
    report = score((e["qsl_idx"], bytes.fromhex(e["data"])) for e in entries)
    print(report.summary())
    return report.passed is not False


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m suts`` (same as ``wattbench bench``)."""
    p = argparse.ArgumentParser(prog="wattbench bench", description=__doc__)
    add_arguments(p)
    return run(p.parse_args(argv))
