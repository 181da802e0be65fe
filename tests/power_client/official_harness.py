"""A minimal mlperf_loadgen harness as a power-client workload command.

usage: python official_harness.py MODULE SCENARIO [MIN_DURATION_MS]

MODULE is ``mlperf_loadgen`` (the official LoadGen) or ``loadgen`` (ours, drop-in). Logs go to
$WATTBENCH_OUTPUT_DIR, as a harness written for wattbench would put them. MIN_DURATION_MS
(default 100) is LoadGen's ``min_duration_ms``; a measured run needs a window of several meter
updates.
"""

import array
import importlib
import os
import sys

lg = importlib.import_module(sys.argv[1])
scenario = sys.argv[2]
min_duration_ms = int(sys.argv[3]) if len(sys.argv) > 3 else 100
out = os.environ["WATTBENCH_OUTPUT_DIR"]
print(f"harness: {sys.argv[1]} {scenario} phase={os.environ['WATTBENCH_PHASE']} out={out}")
keep = {}


def issue(samples):
    responses = []
    for s in samples:
        buf = array.array("q", [s.index])
        keep[s.id] = buf
        ptr, n = buf.buffer_info()
        responses.append(lg.QuerySampleResponse(s.id, ptr, n * buf.itemsize))
    lg.QuerySamplesComplete(responses)


settings = lg.TestSettings()
settings.scenario = getattr(lg.TestScenario, scenario)
settings.mode = lg.TestMode.PerformanceOnly
settings.min_duration_ms = min_duration_ms
settings.min_query_count = 50
settings.server_target_qps = 500
settings.server_target_latency_ns = 50_000_000
settings.offline_expected_qps = 2000
settings.single_stream_expected_latency_ns = 1_000_000
settings.multi_stream_expected_latency_ns = 2_000_000
log_settings = lg.LogSettings()
log_settings.log_output.outdir = out
log_settings.enable_trace = False
sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(300, 128, lambda idx: None, lambda idx: None)
lg.StartTestWithLogSettings(sut, qsl, settings, log_settings)
lg.DestroyQSL(qsl)
lg.DestroySUT(sut)
print("harness: done")
