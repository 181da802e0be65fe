"""Compare OpenVINO's benchmark_app with wattbench LoadGen + OpenVINO SUT, in alternating pairs.

For each model (a ResNet-50-shaped and a tiny CNN, both built in code, random weights) and
each mode, runs ``benchmark_app`` and our LoadGen run back to back ``--pairs`` times and prints
medians and paired ratios:

* Offline: benchmark_app ``-hint throughput`` FPS vs our Offline samples/s (goal >= 0.97x on
  ResNet-50, >= 0.85x on the tiny CNN).
* SingleStream: benchmark_app ``-hint latency`` median latency vs our SingleStream p90
  (goal <= 1.1x).

Usage: ``python benchmarks/openvino_vs_benchmark_app.py --seconds 10 --pairs 5 [--json out]``.
The machine is noisy; compare only numbers from one invocation.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import loadgen
from loadgen import TestMode, TestScenario, TestSettings
from suts import open_sut
from suts.null import SyntheticQsl


@dataclass(frozen=True)
class Pair:
    """One benchmark_app run and one wattbench run on the same model and mode."""

    model: str
    mode: str
    benchmark_app: float
    wattbench: float

    @property
    def ratio(self) -> float:
        """Return wattbench / benchmark_app."""
        return self.wattbench / self.benchmark_app


def build_models(root: Path) -> dict[str, Path]:
    """Build the two models as IR under ``root``."""
    from suts.ov_models import build_resnet50, build_tiny_cnn, save_model_atomic

    return {
        "resnet50": save_model_atomic(build_resnet50(), root / "resnet50" / "model.xml"),
        "tiny_cnn": save_model_atomic(build_tiny_cnn(), root / "tiny_cnn" / "model.xml"),
    }


def run_benchmark_app(model: Path, hint: str, seconds: int, folder: Path) -> dict[str, float]:
    """Run benchmark_app; return its throughput (FPS) and median latency (ms)."""
    folder.mkdir(parents=True, exist_ok=True)  # benchmark_app needs it to exist
    exe = Path(sys.executable).with_name("benchmark_app")
    cmd = [str(exe), "-m", str(model), "-d", "CPU", "-hint", hint, "-t", str(seconds)]
    cmd += ["-report_type", "no_counters", "-report_folder", str(folder), "-json_stats"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    report = json.loads((folder / "benchmark_report.json").read_text(encoding="utf-8"))
    results = report["execution_results"]
    return {
        "throughput": float(results["throughput"]),
        "latency_ms": float(results["latency (ms)"]),
    }


def run_wattbench(model: Path, scenario: TestScenario, seconds: int, out: Path) -> float:
    """Run our LoadGen + SUT; return Offline samples/s or SingleStream p90 latency (ms)."""
    qsl = SyntheticQsl(1024)
    hint = "throughput" if scenario == TestScenario.Offline else "latency"
    api = "async" if scenario == TestScenario.Offline else "sync"
    sut = open_sut(f"openvino:{model}@CPU?hint={hint}&api={api}", qsl)
    settings = TestSettings(scenario=scenario, mode=TestMode.PerformanceOnly)
    settings.min_duration_ms = seconds * 1000
    settings.min_query_count = 1
    settings.offline_expected_qps = 30_000 if "tiny" in str(model) else 200
    settings.single_stream_expected_latency_ns = 50_000
    result = loadgen.start_test(sut, qsl, settings, out_dir=out)
    close = getattr(sut, "close", None)
    if close is not None:
        close()
    perf = result.performance
    assert perf is not None
    if scenario == TestScenario.Offline:
        return perf.sample_count / perf.final_completion_s
    return perf.samples.percentiles_ns[0.90] / 1e6


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print a table."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--models", default="resnet50,tiny_cnn")
    p.add_argument("--modes", default="offline,singlestream")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    pairs: list[Pair] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = build_models(root)
        for name in args.models.split(","):
            for mode in args.modes.split(","):
                for i in range(args.pairs):
                    work = root / f"{name}-{mode}-{i}"
                    if mode == "offline":
                        ba = run_benchmark_app(models[name], "throughput", args.seconds, work)
                        ours = run_wattbench(
                            models[name], TestScenario.Offline, args.seconds, work / "lg"
                        )
                        pair = Pair(name, mode, ba["throughput"], ours)
                    else:
                        ba = run_benchmark_app(models[name], "latency", args.seconds, work)
                        ours = run_wattbench(
                            models[name], TestScenario.SingleStream, args.seconds, work / "lg"
                        )
                        pair = Pair(name, mode, ba["latency_ms"], ours)
                    pairs.append(pair)
                    print(
                        f"{name:9s} {mode:12s} pair {i}: benchmark_app {pair.benchmark_app:10.3f}"
                        f"  wattbench {pair.wattbench:10.3f}  ratio {pair.ratio:.3f}",
                        flush=True,
                    )
    print("\nmodel     mode         median BA   median ours  median ratio  (min..max)")
    for name in args.models.split(","):
        for mode in args.modes.split(","):
            sel = [x for x in pairs if x.model == name and x.mode == mode]
            ratios = [x.ratio for x in sel]
            print(
                f"{name:9s} {mode:12s} {statistics.median(x.benchmark_app for x in sel):10.3f}"
                f"  {statistics.median(x.wattbench for x in sel):11.3f}"
                f"  {statistics.median(ratios):12.3f}  ({min(ratios):.3f}..{max(ratios):.3f})"
            )
    print("offline: FPS (ratio >= 0.97 resnet50, >= 0.85 tiny_cnn); singlestream: ms")
    print("(BA latency-mode median vs our p90; ratio <= 1.1)")
    if args.json is not None:
        data = [asdict(x) | {"ratio": x.ratio} for x in pairs]
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
