"""Tests of loadgen.conf: grammar, precedence, conversions, conf types, and conformance with
the official mlperf_loadgen 6.0.17 ``TestSettings.FromConfig``."""

from __future__ import annotations

import dataclasses
import enum
import errno
import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loadgen.conf import (
    MULTIPLE_CONF_MESSAGE,
    apply_config,
    builtin_mlperf_conf,
    builtin_mlperf_conf_text,
    load_conf_file,
    lookup,
    parse_conf_text,
)
from loadgen.errors import ConfigError
from loadgen.settings import TestMode, TestScenario, TestSettings

# SHA-1 the official LoadGen 6.0.17 logs for "/mlperf.conf" in loadgen_file_sha1.
OFFICIAL_MLPERF_CONF_SHA1 = "68cdba8667e971c3ae8f1617ba67fa56d01065b4"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "official"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --------------------------------------------------------------------------- built-in mlperf.conf


def test_builtin_text_is_the_official_file() -> None:
    text = builtin_mlperf_conf_text()
    assert hashlib.sha1(text.encode()).hexdigest() == OFFICIAL_MLPERF_CONF_SHA1
    detail = FIXTURES / "Offline-perf" / "mlperf_log_detail.txt"
    if detail.exists():  # the hash the official binary logged in a measured run
        assert f'"/mlperf.conf":"{OFFICIAL_MLPERF_CONF_SHA1}"' in detail.read_text()


def test_builtin_parses_and_resnet50_offline_values() -> None:
    lines = builtin_mlperf_conf_text().splitlines()
    assert len(builtin_mlperf_conf().entries) == sum(1 for x in lines if x and x[0] != "#")
    s = TestSettings()
    apply_config(s, "", "resnet50", "Offline", conf_type=0)
    assert s.min_duration_ms == 600000
    assert s.min_query_count == 24576
    assert s.performance_sample_count_override == 1024
    assert s.server_target_latency_ns == 15_000_000
    assert s.qsl_rng_seed == 2085463073848966840
    assert s.schedule_rng_seed == 16159082839903944936
    assert s.conf_files_loaded == 0 and s.conf_messages == []


# --------------------------------------------------------------------------- grammar


def test_parse_comments_blank_lines_tabs_crlf_and_dotted_model() -> None:
    text = (
        "# comment\n\n   # indented comment\n#no-space comment\r\n"
        "wan-2.2-t2v-a14b.Offline.min_query_count\t=\t248\r\n"
        "*.*.min_duration = 5\n*.*.min_duration = 6\n"
    )
    conf = parse_conf_text(text, "x.conf")
    assert conf.entries == {
        ("wan-2.2-t2v-a14b", "Offline", "min_query_count"): ("248", 5),
        ("*", "*", "min_duration"): ("6", 7),  # a repeated line overrides, as in the official
    }
    assert lookup(conf, "wan-2.2-t2v-a14b", "Offline", "min_query_count") == ("248", 5)


def test_precedence_within_one_file(tmp_path: Path) -> None:
    text = "*.*.min_duration = 3333\ndummy.*.min_duration = 2222\n*.Server.min_duration = 1111\n"
    conf = parse_conf_text(text, "p.conf")
    assert lookup(conf, "dummy", "Server", "min_duration") == ("1111", 3)
    assert lookup(conf, "dummy", "Offline", "min_duration") == ("2222", 2)
    assert lookup(conf, "other", "Offline", "min_duration") == ("3333", 1)
    assert lookup(conf, "other", "Offline", "max_duration") is None
    exact = parse_conf_text("*.Server.min_duration = 1\ndummy.Server.min_duration = 2\n", "e")
    assert lookup(exact, "dummy", "Server", "min_duration") == ("2", 2)
    s = TestSettings()
    apply_config(s, write(tmp_path, "p.conf", text), "dummy", "Server", conf_type=2)
    assert s.min_duration_ms == 1111
    # A later file overrides an earlier one whatever the precedence level of the hit.
    apply_config(s, write(tmp_path, "q.conf", "*.*.min_duration = 7\n"), "dummy", "Server", 2)
    assert s.min_duration_ms == 7


BAD_LINES = [
    ("*.*.min_duration=5", "spaces around '='"),
    ("*.*.min_duration =", "spaces around '='"),
    ("*.*.min_duration = 5 # five", "comment must be on a line of its own"),
    ("*.*.min_duration = 5 6", "unexpected text after the value"),
    ("min_duration = 5", "not of the form model.scenario.key"),
    ("*.server.min_duration = 5", "unknown scenario 'server'"),
    ("*.*.min_duraton = 5", "did you mean 'min_duration'"),
    ("*.*.min_duration = abc", "min_duration = abc: the value is not a number"),
    ("*.*.min_duration = 1.5", "min_duration = 1.5: the value must be a whole number"),
    ("*.*.min_duration = 1e3", "whole number"),
    ("*.*.min_duration = -1", "cannot be negative"),
    ("*.*.min_duration = 08", "a leading 0 means octal"),
    ("*.*.max_query_count = 18446744073709551616", "out of range"),
    ("*.Server.ttft_latency = 18446744073710", "out of range"),
    ("*.*.mode = 4", "mode must be 0"),
    ("*.*.print_timestamps = 2", "must be 0 or 1"),
    ("*.*.use_token_latencies = 2", "must be 0 or 1"),
    ("*.Server.target_qps = inf", "finite"),
    ("*.Server.target_qps = nan", "finite"),
    ("*.*.target_latency = 0.5", "also sets the Server target latency"),
    ("*.Server.target_latency = 15.5", "whole number"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_malformed_line_names_file_line_and_key(tmp_path: Path, line: str, reason: str) -> None:
    path = write(tmp_path, "user.conf", f"# header\n*.*.max_duration = 9\n{line}\n")
    with pytest.raises(ConfigError) as info:
        load_conf_file(path)
    assert info.value.line_no == 3
    assert str(info.value).startswith(f"{path}:3: ")
    assert reason in str(info.value)


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        ("0x10", "min_duration_ms", 16),  # strtoul base 0: hex ...
        ("010", "min_duration_ms", 8),  # ... and octal
        ("+7", "min_duration_ms", 7),
        ("99.9", "single_stream_target_latency_percentile", 99.9 * 0.01),
        ("0x1p3", "server_target_qps", 8.0),  # strtod hex float
        ("1e3", "offline_expected_qps", 1000.0),
        ("0.25", "single_stream_expected_latency_ns", 250000.0),
        ("3", "multi_stream_expected_latency_ns", 3e6),
        ("20", "server_target_latency_ns", 20_000_000),
    ],
)
def test_value_conversions(tmp_path: Path, value: str, field: str, expected: object) -> None:
    key = {
        "min_duration_ms": "*.*.min_duration",
        "single_stream_target_latency_percentile": "*.SingleStream.target_latency_percentile",
        "server_target_qps": "*.Server.target_qps",
        "offline_expected_qps": "*.Offline.target_qps",
        "single_stream_expected_latency_ns": "*.SingleStream.target_latency",
        "multi_stream_expected_latency_ns": "*.MultiStream.target_latency",
        "server_target_latency_ns": "*.Server.target_latency",
    }[field]
    s = TestSettings()
    apply_config(s, write(tmp_path, "a.conf", f"{key} = {value}\n"), "m", "Offline", 2)
    assert getattr(s, field) == expected
    assert type(getattr(s, field)) is type(expected)


def test_scenario_specific_lookups_and_bools(tmp_path: Path) -> None:
    text = (
        "*.Server.target_qps = 77\n*.Offline.target_qps = 5\n*.MultiStream.samples_per_query = 3\n"
        "*.Server.coalesce_queries = 1\n*.Server.max_async_queries = 4\n*.*.mode = 3\n"
        "*.Offline.max_async_queries = 9\n*.*.performance_issue_unique = 1\n"
    )
    s = TestSettings()
    apply_config(s, write(tmp_path, "a.conf", text), "m", TestScenario.Offline, 2)
    assert (s.server_target_qps, s.offline_expected_qps) == (77.0, 5.0)
    assert s.multi_stream_samples_per_query == 3
    assert s.server_coalesce_queries is True and s.server_max_async_queries == 4
    assert s.mode is TestMode.FindPeakPerformance and s.performance_issue_unique is True


def test_token_latency_keys_are_gated(tmp_path: Path) -> None:
    text = "*.Server.ttft_latency = 5\n*.Server.tpot_latency = 7\n"
    text += "*.*.token_latency_scaling_factor = 3\n"
    s = TestSettings()
    apply_config(s, write(tmp_path, "a.conf", text), "m", "Offline", 2)
    assert (s.ttft_latency, s.tpot_latency, s.token_latency_scaling_factor) == (10**8, 10**8, 0)
    text += "*.*.use_token_latencies = 1\n*.*.infer_token_latencies = 1\n"
    apply_config(s, write(tmp_path, "b.conf", text), "m", "Offline", 2)
    assert (s.ttft_latency, s.tpot_latency, s.token_latency_scaling_factor) == (5e6, 7e6, 3)


# --------------------------------------------------------------------------- conf types


def test_seeds_from_user_conf_are_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = "*.*.qsl_rng_seed = 42\n*.*.accuracy_log_probability = 50\n*.*.test05 = 1\n"
    path = write(tmp_path, "user.conf", text)
    s = TestSettings()
    with caplog.at_level(logging.WARNING, logger="loadgen.conf"):
        apply_config(s, path, "resnet50", "Offline", 1)
    assert s.qsl_rng_seed == 2085463073848966840  # from mlperf.conf
    assert s.accuracy_log_probability == 0.0 and s.test05 is False
    warnings = [m for k, m, err in s.conf_messages if k == "warning_generic_message" and not err]
    assert len(warnings) == 3 and f"{path}:1: qsl_rng_seed" in warnings[0]
    assert "qsl_rng_seed is read only from mlperf.conf" in caplog.text


def test_second_user_conf_logs_error_and_does_not_reload_mlperf_conf(tmp_path: Path) -> None:
    s = TestSettings()
    apply_config(s, write(tmp_path, "u1.conf", "*.*.max_duration = 9\n"), "resnet50", "Server")
    assert s.conf_messages == [] and s.conf_files_loaded == 1
    s.min_duration_ms = 5
    apply_config(s, write(tmp_path, "u2.conf", "*.*.max_query_count = 3\n"), "resnet50", "Server")
    assert (s.min_duration_ms, s.max_duration_ms, s.max_query_count) == (5, 9, 3)
    assert s.conf_messages == [("error_invalid_config", MULTIPLE_CONF_MESSAGE, True)]
    assert s.conf_files_loaded == 2


def test_audit_config_applies_only_wildcard_model_lines(tmp_path: Path) -> None:
    s = TestSettings()
    apply_config(s, "", "resnet50", "Offline", 0)
    audit = (
        "*.*.mode = 2\n*.*.accuracy_log_rng_seed = 720381539243781796\n"
        "*.*.accuracy_log_sampling_target = 4096\nresnet50.Offline.min_query_count = 7\n"
        "*.Offline.performance_issue_same = 1\n*.Server.performance_issue_same_index = 3\n"
    )
    apply_config(s, write(tmp_path, "audit.config", audit), "*", "Offline", 2)
    assert s.accuracy_log_rng_seed == 720381539243781796
    assert s.accuracy_log_sampling_target == 4096 and s.mode is TestMode.PerformanceOnly
    assert s.min_query_count == 24576 and s.performance_issue_same is True
    assert s.performance_issue_same_index == 0 and s.conf_files_loaded == 0


def test_fromconfig_return_codes_and_atomicity(tmp_path: Path) -> None:
    s = TestSettings()
    missing = str(tmp_path / "missing.conf")
    assert s.FromConfig(missing, "resnet50", "Offline") == -errno.ENOENT
    assert s.min_query_count == 24576  # the built-in mlperf.conf was applied first, as official
    assert s.conf_messages[-1] == ("error_invalid_config", f"can't open file {missing}", True)
    before = s.copy()
    bad = write(tmp_path, "bad.conf", "*.*.min_duration = 1\n*.*.max_duration = 2\n*.*.x = 3\n")
    assert s.FromConfig(bad, "resnet50", "Offline", 2) == -errno.EINVAL
    assert s == before  # nothing from the failing file
    assert s.conf_messages[-1][0] == "error_invalid_config" and f"{bad}:3" in s.conf_messages[-1][1]
    good = write(tmp_path, "good.conf", "*.*.min_duration = 1\n")
    assert s.FromConfig(good, "resnet50", "Offline", 2) == 0 and s.min_duration_ms == 1
    assert TestSettings().FromConfig("", "resnet50", "Offline", 1) == -errno.ENOENT
    with pytest.raises(ConfigError) as info:
        load_conf_file(tmp_path)  # a directory
    assert info.value.line_no == 0


def test_from_config_method_and_argument_checks(tmp_path: Path) -> None:
    s = TestSettings()
    s.from_config(Path(write(tmp_path, "u.conf", "*.*.min_duration = 4\n")), "bert", "Server")
    assert s.min_duration_ms == 4 and s.server_target_latency_ns == 130_000_000
    with pytest.raises(ValueError, match="conf_type"):
        apply_config(s, "", "bert", "Server", 3)
    with pytest.raises(ValueError, match="unknown scenario"):
        apply_config(s, "", "bert", "server", 0)


# --------------------------------------------------------------------------- official conformance

USER_CONF = """\
# user.conf setting many keys
*.Server.target_qps = 1234.5
resnet50.Server.target_latency = 20
*.*.min_duration = 1000
resnet50.*.min_query_count = 100
*.Offline.target_qps = 300
*.SingleStream.target_latency = 0.25
*.MultiStream.target_latency = 3
*.MultiStream.samples_per_query = 16
*.*.performance_sample_count_override = 0x20
*.*.max_duration = 010
*.*.qsl_rng_seed = 42
*.*.accuracy_log_probability = 50
*.Server.coalesce_queries = 1
*.Server.max_async_queries = 4
*.*.print_timestamps = 1
*.*.target_latency_percentile = 99.9
*.*.accuracy_log_rng_seed = 720381539243781796
*.*.accuracy_sample_count_override = 77
*.Server.target_duration = 0
bert.Server.target_qps = 1e2
"""
USER2_CONF = "*.*.max_query_count = 5\n*.Offline.min_query_count = 3\n"
AUDIT_CONF = (
    "*.*.mode = 2\n*.*.accuracy_log_rng_seed = 1\n*.*.accuracy_log_sampling_target = 4096\n"
    "*.*.performance_issue_same = 1\n*.*.performance_issue_same_index = 3\n"
    "resnet50.Offline.min_query_count = 9\n*.*.test05 = 1\n"
)
LLM_CONF = (
    "*.Server.ttft_latency = 1500\n*.Server.tpot_latency = 90\n*.*.token_latency_scaling_factor"
    " = 42\n*.Server.target_qps = 0.5\n*.*.sample_concatenate_permutation = 0\n"
)
BAD_CONF = "*.*.min_duration = 5 # trailing comment\n"
FILES = {"user": USER_CONF, "user2": USER2_CONF, "audit": AUDIT_CONF, "llm": LLM_CONF}
FILES |= {"bad": BAD_CONF}

# (pre-set fields, calls: (file name or "" or "missing", model, scenario, conf_type))
CASES: dict[str, tuple[dict[str, Any], list[tuple[str, str, str, int]]]] = {
    **{
        f"builtin-{m}-{sc}": ({}, [("", m, sc, 0)])
        for m, sc in [
            *((("resnet50", s)) for s in ("Offline", "Server", "SingleStream", "MultiStream")),
            ("bert", "Server"),
            ("llama2-70b", "Server"),
            ("gptj", "Offline"),
            ("gpt-oss-120b", "Offline"),
            ("pointpainting", "SingleStream"),
            ("3d-unet", "SingleStream"),
            ("wan-2.2-t2v-a14b", "Offline"),
            ("retinanet", "MultiStream"),
            ("unknown-model", "Server"),
        ]
    },
    **{
        f"user-resnet50-{sc}": ({}, [("user", "resnet50", sc, 1)])
        for sc in ("Offline", "Server", "SingleStream", "MultiStream")
    },
    "user-bert-Server": ({}, [("user", "bert", "Server", 1)]),
    "two-user-confs": ({}, [("user", "resnet50", "Offline", 1), ("user2", "bert", "Offline", 1)]),
    "user-then-audit": ({}, [("user", "resnet50", "Offline", 1), ("audit", "*", "Offline", 2)]),
    "user-then-builtin": ({}, [("user", "resnet50", "Server", 1), ("", "resnet50", "Server", 0)]),
    "llm-llama2-Server": ({}, [("llm", "llama2-70b", "Server", 1)]),
    "llm-gptj-Offline": ({}, [("llm", "gptj", "Offline", 1)]),
    "llm-gated-off": ({}, [("llm", "resnet50", "Server", 2)]),
    "llm-preset": ({"use_token_latencies": True}, [("llm", "resnet50", "Server", 2)]),
    "preset-kept": ({"accuracy_log_probability": 0.5}, [("", "resnet50", "Offline", 0)]),
    "missing-user": ({}, [("missing", "resnet50", "Offline", 1), ("user2", "bert", "Server", 1)]),
    "bad-user": ({}, [("bad", "resnet50", "Server", 1)]),
}

OFFICIAL_SCRIPT = """
import json, sys, mlperf_loadgen as lg
spec = json.loads(sys.argv[1])
s = lg.TestSettings()
for k, v in spec["pre"].items():
    setattr(s, k, v)
rcs = [s.FromConfig(*call) for call in spec["calls"]]
out = {}
for name in dir(s):
    if not name.startswith("_") and name != "FromConfig":
        v = getattr(s, name)
        out[name] = int(v) if isinstance(v, (lg.TestScenario, lg.TestMode)) else v
print(json.dumps({"rcs": rcs, "fields": out}))
"""


def _resolve(tmp_path: Path, calls: list[tuple[str, str, str, int]]) -> list[list[Any]]:
    resolved: list[list[Any]] = []
    for name, model, scenario, conf_type in calls:
        if name == "missing":
            path = str(tmp_path / "missing.conf")
        else:
            path = write(tmp_path, f"{name}.conf", FILES[name]) if name else ""
        resolved.append([path, model, scenario, conf_type])
    return resolved


@pytest.mark.official
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_official_fromconfig(tmp_path: Path, case: str) -> None:
    pytest.importorskip("mlperf_loadgen")
    pre, calls = CASES[case]
    resolved = _resolve(tmp_path, calls)
    spec = json.dumps({"pre": pre, "calls": resolved})
    # The official keeps a process-global count of FromConfig calls: one process per case.
    proc = subprocess.run(
        [sys.executable, "-c", OFFICIAL_SCRIPT, spec], capture_output=True, text=True, check=True
    )
    official = json.loads(proc.stdout)
    ours = TestSettings()
    for name, value in pre.items():
        setattr(ours, name, value)
    assert [ours.FromConfig(*call) for call in resolved] == official["rcs"]
    ours_fields = {f.name for f in dataclasses.fields(ours)}
    assert set(official["fields"]) <= ours_fields
    mismatches = {}
    for name, want in official["fields"].items():
        got = getattr(ours, name)
        got = int(got) if isinstance(got, enum.IntEnum) else got
        if got != want or isinstance(got, bool) != isinstance(want, bool):
            mismatches[name] = (got, want)
    assert mismatches == {}


@pytest.mark.official
def test_builtin_matches_string_embedded_in_official_binary() -> None:
    lg = pytest.importorskip("mlperf_loadgen")
    data = Path(lg.__file__).read_bytes()
    anchor = data.find(b"*.*.qsl_rng_seed = ")
    assert anchor > 0
    start = data.rfind(b"\x00", 0, anchor) + 1
    end = data.find(b"\x00", anchor)
    assert data[start:end].decode() == builtin_mlperf_conf_text()
