"""Compare OpenVINO's benchmark_app with wattbench LoadGen + OpenVINO SUT, in alternating pairs.

For each model (a ResNet-50-shaped and a tiny CNN, both built in code, random weights) and
each mode, runs ``benchmark_app`` and our LoadGen run back to back ``--pairs`` times and prints
medians and paired ratios:

* Offline: benchmark_app ``-hint throughput`` FPS vs our Offline samples/s (goal >= 0.97x on
  ResNet-50, >= 0.85x on the tiny CNN).
* SingleStream: benchmark_app ``-hint latency`` median latency vs our SingleStream p90
  (goal <= 1.1x). Our SUT runs the spec a SingleStream run opens by default
  (``spec_for_scenario``: ``hint=latency&api=sync&threads=auto``).
* ``singlestream-1thread`` (not in the default modes): both sides on one inference thread
  (benchmark_app ``-hint none -nstreams 1 -nthreads 1 -nireq 1 -api sync``, its fastest; ours
  ``threads=1``), the like-for-like comparison for models of a few tens of microseconds.

Our SUTs use their defaults otherwise (no ``nireq``: the async queue gets at least
``MIN_ASYNC_REQUESTS`` requests). Usage:
``python benchmarks/openvino_vs_benchmark_app.py --seconds 10 --pairs 5 [--json out]``.
The machine is noisy; compare only numbers from one invocation.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import loadgen
from loadgen import TestMode, TestScenario, TestSettings
from suts import open_sut, spec_for_scenario
from suts.null import SyntheticQsl
from suts.spec import with_defaults


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


#: benchmark_app options per mode, and the options our SUT spec adds
BA_OPTIONS = {
    "offline": ["-hint", "throughput"],
    "singlestream": ["-hint", "latency"],
    "singlestream-1thread": [
        *("-hint", "none", "-nstreams", "1", "-nthreads", "1", "-nireq", "1", "-api", "sync")
    ],
}
OUR_OPTIONS = {
    "offline": "hint=throughput",
    "singlestream": "",
    "singlestream-1thread": "threads=1",
}


def run_benchmark_app(model: Path, mode: str, seconds: int, folder: Path) -> dict[str, float]:
    """Run benchmark_app; return its throughput (FPS) and median latency (ms)."""
    folder.mkdir(parents=True, exist_ok=True)  # benchmark_app needs it to exist
    exe = Path(sys.executable).with_name("benchmark_app")
    cmd = [str(exe), "-m", str(model), "-d", "CPU", *BA_OPTIONS[mode], "-t", str(seconds)]
    cmd += ["-report_type", "no_counters", "-report_folder", str(folder), "-json_stats"]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    report = json.loads((folder / "benchmark_report.json").read_text(encoding="utf-8"))
    return {
        "throughput": float(report["execution_results"]["throughput"]),
        "latency_ms": median_latency_ms(done.stdout),
    }


def median_latency_ms(stdout: str) -> float:
    """Return the ``Latency: Median:`` line of benchmark_app's output in ms.

    The JSON report rounds latencies to 0.01 ms, too coarse for a 30 us model; the console
    prints ``Median: 31.88 us`` (or ``ms``).
    """
    match = re.search(r"Latency:\s*\n.*?Median:\s+([0-9.]+)\s+(us|ms)", stdout)
    if match is None:
        raise RuntimeError(f"no median latency in benchmark_app output:\n{stdout[-2000:]}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value


def run_wattbench(model: Path, mode: str, seconds: int, out: Path) -> float:
    """Run our LoadGen + SUT; return Offline samples/s or SingleStream p90 latency (ms)."""
    scenario = TestScenario.Offline if mode == "offline" else TestScenario.SingleStream
    qsl = SyntheticQsl(1024)
    spec = with_defaults(f"openvino:{model}@CPU", dict(parse_qsl(OUR_OPTIONS[mode])))
    sut = open_sut(spec_for_scenario(spec, scenario.name), qsl)
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
    p.add_argument("--modes", default="offline,singlestream", help=f"of {','.join(BA_OPTIONS)}")
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
                    ba = run_benchmark_app(models[name], mode, args.seconds, work)
                    ours = run_wattbench(models[name], mode, args.seconds, work / "lg")
                    key = "throughput" if mode == "offline" else "latency_ms"
                    pair = Pair(name, mode, ba[key], ours)
                    pairs.append(pair)
                    print(
                        f"{name:9s} {mode:20s} pair {i}: benchmark_app {pair.benchmark_app:10.4f}"
                        f"  wattbench {pair.wattbench:10.4f}  ratio {pair.ratio:.3f}",
                        flush=True,
                    )
    print("\nmodel     mode                 median BA   median ours  median ratio  (min..max)")
    for name in args.models.split(","):
        for mode in args.modes.split(","):
            sel = [x for x in pairs if x.model == name and x.mode == mode]
            ratios = [x.ratio for x in sel]
            print(
                f"{name:9s} {mode:20s} {statistics.median(x.benchmark_app for x in sel):10.4f}"
                f"  {statistics.median(x.wattbench for x in sel):11.4f}"
                f"  {statistics.median(ratios):12.3f}  ({min(ratios):.3f}..{max(ratios):.3f})"
            )
    print("offline: FPS (ratio >= 0.97 resnet50, >= 0.85 tiny_cnn); singlestream: ms")
    print("(BA latency-mode median vs our p90; ratio <= 1.1)")
    for name in args.models.split(","):
        default = [x.benchmark_app for x in pairs if (x.model, x.mode) == (name, "singlestream")]
        tuned = [x.wattbench for x in pairs if (x.model, x.mode) == (name, "singlestream-1thread")]
        if default and tuned:
            ratio = statistics.median(tuned) / statistics.median(default)
            print(f"{name}: our 1-thread p90 / BA default latency-mode median = {ratio:.3f}")
    if args.json is not None:
        data = [asdict(x) | {"ratio": x.ratio} for x in pairs]
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
