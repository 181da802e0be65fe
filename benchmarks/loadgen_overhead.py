"""LoadGen overhead: our LoadGen vs the official mlcommons-loadgen, same inline null SUT.

Every measurement runs in a fresh subprocess (the official LoadGen keeps process-global state),
alternating official / ours, and reports medians and the ratio ours / official for:
SingleStream queries/s (``result_qps_with_loadgen_overhead``), Offline samples/s
(``result_samples_per_second``) and the highest Server QPS that stays VALID with a 10 ms bound.
The SUT completes every sample inside ``issue`` with ``QuerySamplesComplete`` (no payload).
"ours" runs the same harness through the drop-in API (``import loadgen as lg``).

usage: python benchmarks/loadgen_overhead.py [--pairs 3] [--seconds 3] [--server-qps 50000,...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

_WORKER = r"""
import importlib, json, os, sys
lg = importlib.import_module(sys.argv[1])
scenario, qps, seconds, out = sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
os.makedirs(out, exist_ok=True)
QSR, QSC = lg.QuerySampleResponse, lg.QuerySamplesComplete
def issue(samples):
    QSC([QSR(s.id, 0, 0) for s in samples])
s = lg.TestSettings()
s.scenario = getattr(lg.TestScenario, scenario)
s.mode = lg.TestMode.PerformanceOnly
s.min_duration_ms, s.min_query_count = int(seconds * 1000), 100
s.server_target_qps = qps
s.server_target_latency_ns = 10_000_000
s.offline_expected_qps = qps
s.single_stream_expected_latency_ns = s.multi_stream_expected_latency_ns = 1e9 / qps
ls = lg.LogSettings(); ls.log_output.outdir = out; ls.enable_trace = False
sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(1024, 1024, lambda idx: None, lambda idx: None)
lg.StartTestWithLogSettings(sut, qsl, s, ls)
d = {}
for line in open(os.path.join(out, "mlperf_log_detail.txt")):
    if line.startswith(":::MLLOG "):
        try:
            m = json.loads(line[9:])
        except ValueError:
            continue
        d.setdefault(m["key"], m["value"])
print(json.dumps(d))
"""

IMPLS = {"official": "mlperf_loadgen", "ours": "loadgen"}


def run_once(impl: str, scenario: str, qps: float, seconds: float) -> dict[str, object]:
    """Run one measurement in a subprocess; return the detail-log values."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-c", _WORKER, IMPLS[impl], scenario, str(qps), str(seconds), tmp],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _median_pair(
    scenario: str, key: str, qps: float, seconds: float, pairs: int
) -> dict[str, float]:
    values: dict[str, list[float]] = {"official": [], "ours": []}
    for _ in range(pairs):
        for impl in ("official", "ours"):
            values[impl].append(float(run_once(impl, scenario, qps, seconds)[key]))  # type: ignore[arg-type]
    med = {impl: statistics.median(v) for impl, v in values.items()}
    return {**med, "ratio": med["ours"] / med["official"], "runs": float(pairs)}


def max_valid_server_qps(impl: str, levels: list[float], seconds: float) -> float:
    """Return the highest level whose run is VALID (levels ascending; stops at 2 failures)."""
    best, failures = 0.0, 0
    for qps in levels:
        d = run_once(impl, "Server", qps, seconds)
        if d.get("result_validity") == "VALID":
            best, failures = qps, 0
        else:
            failures += 1
            if failures == 2:
                break
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table plus JSON."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--server-qps", default="50000,100000,150000,200000,250000,300000,350000")
    args = p.parse_args(argv)
    results: dict[str, dict[str, float]] = {
        "SingleStream queries/s": _median_pair(
            "SingleStream", "result_qps_with_loadgen_overhead", 400_000, args.seconds, args.pairs
        ),
        "Offline samples/s": _median_pair(
            "Offline", "result_samples_per_second", 700_000, args.seconds, args.pairs
        ),
    }
    levels = [float(x) for x in args.server_qps.split(",")]
    server = {
        impl: max_valid_server_qps(impl, levels, args.seconds) for impl in ("official", "ours")
    }
    results["Server max VALID QPS (10 ms)"] = {
        **server,
        "ratio": server["ours"] / server["official"] if server["official"] else 0.0,
        "runs": 1.0,
    }
    print(f"{'metric':32} {'official':>12} {'ours':>12} {'ours/official':>14}")
    for name, r in results.items():
        print(f"{name:32} {r['official']:12.0f} {r['ours']:12.0f} {r['ratio']:14.2f}")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
