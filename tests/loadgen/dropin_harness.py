"""A typical mlperf_loadgen harness; the only line that differs between runs is the import.

usage: python dropin_harness.py MODULE SCENARIO MODE OUTDIR
"""

import array
import importlib
import os
import sys

lg = importlib.import_module(sys.argv[1])  # "import mlperf_loadgen as lg" / "import loadgen as lg"
scenario, mode, out = sys.argv[2], sys.argv[3], sys.argv[4]
os.makedirs(out, exist_ok=True)
keep = {}


def issue(samples):
    responses = []
    for s in samples:
        buf = array.array("q", [s.index])
        keep[s.id] = buf
        ptr, n = buf.buffer_info()
        responses.append(lg.QuerySampleResponse(s.id, ptr, n * buf.itemsize))
    lg.QuerySamplesComplete(responses)


def fast_issue(ids, indices):
    issue([type("S", (), {"id": i, "index": x})() for i, x in zip(ids, indices, strict=True)])


settings = lg.TestSettings()
settings.scenario = getattr(lg.TestScenario, scenario)
settings.mode = getattr(lg.TestMode, mode)
settings.min_duration_ms = 300
settings.min_query_count = 100
settings.server_target_qps = 500
settings.server_target_latency_ns = 50_000_000
settings.offline_expected_qps = 2000
settings.single_stream_expected_latency_ns = 1_000_000
settings.multi_stream_expected_latency_ns = 2_000_000
settings.qsl_rng_seed = 2085463073848966840
settings.sample_index_rng_seed = 2747215439041700203
settings.schedule_rng_seed = 16159082839903944936
log_settings = lg.LogSettings()
log_settings.log_output.outdir = out
log_settings.enable_trace = False
if scenario == "MultiStream":
    sut = lg.ConstructFastSUT(fast_issue, lambda: None)
else:
    sut = lg.ConstructSUT(issue, lambda: None)
qsl = lg.ConstructQSL(300, 128, lambda idx: None, lambda idx: None)
lg.StartTestWithLogSettings(sut, qsl, settings, log_settings)
lg.DestroyQSL(qsl)
if scenario == "MultiStream":
    lg.DestroyFastSUT(sut)
else:
    lg.DestroySUT(sut)
