"""Conf files (mlperf.conf, user.conf, audit.config) as read by ``TestSettings::FromConfig``.

Grammar: one ``model.scenario.key = value`` per line, tokens separated by whitespace; ``model``
and ``scenario`` may be ``*``; lines whose first token starts with ``#`` are comments. Within
one file the first hit of ``model.scenario.key``, ``*.scenario.key``, ``model.*.key``,
``*.*.key`` wins and a repeated line overrides an earlier one; a later file overrides what an
earlier file set. Which scenario each key is looked up under, the unit conversions (ms to ns,
percent to fraction), the keys honoured only from the built-in mlperf.conf (seeds,
``accuracy_log_probability``, ``test05*``) and the gating of ``ttft_latency``/``tpot_latency``
on ``use_token_latencies`` and of ``token_latency_scaling_factor`` on ``infer_token_latencies``
all follow LoadGen 6.0.17 (checked against the binary by ``tests/loadgen/test_conf.py``).

Where the official parser silently skips or mangles input, this one raises
:class:`~loadgen.errors.ConfigError` naming file, line and key, and applies nothing from that
file: a line without spaces around ``=``, a missing value or text after it (trailing comments
included), an unknown key or scenario name, a non-number, a fraction, negative or out-of-range
value for an integer setting (the official truncates or wraps), a boolean other than 0/1, a mode
outside 0..3, a non-finite number. ``*.*.target_latency`` also sets the Server bound, which is a
whole number of ms, so a fraction there must be written per scenario. Integers are read like
``strtoul(s, NULL, 0)`` (``0x1f`` hex, ``010`` octal), other numbers like ``strtod``.
"""

from __future__ import annotations

import difflib
import errno
import functools
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Literal, NamedTuple

from loadgen.errors import ConfigError
from loadgen.settings import TestMode, TestScenario, TestSettings

log = logging.getLogger(__name__)

BUILTIN_CONF_PATH = "<built-in mlperf.conf>"
MULTIPLE_CONF_MESSAGE = "Multiple conf files are used. This is not valid for official submission."

_SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")
_UINT64_LIMIT = 1 << 64
_NS_PER_MS = 1_000_000

Kind = Literal["uint", "ms", "bool", "mode", "float", "latency", "ignored"]
Conversion = Literal["uint", "ms_to_ns", "ms_to_ns_float", "percent", "float", "bool", "mode"]


class _Rule(NamedTuple):
    """One field FromConfig sets: from ``key``, looked up under ``scenario`` (None: the
    caller's), converted by ``conversion``, only if the bool field ``gate`` is set."""

    key: str
    conversion: Conversion = "uint"
    field: str = ""  # empty: same as key
    scenario: str | None = None
    gate: str | None = None


_SEED_KEYS = ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed")
_TEST05_SEEDS = tuple(f"test05_{k}" for k in _SEED_KEYS)
# Honoured only from the built-in mlperf.conf (conf_type 0); ignored with a warning elsewhere.
MLPERF_CONF_ONLY_KEYS = frozenset(
    (*_SEED_KEYS, *_TEST05_SEEDS, "accuracy_log_probability", "test05")
)
_PREFIX = {"SingleStream": "single_stream", "MultiStream": "multi_stream", "Server": "server"}
# Gated rules come after their gate; otherwise the order does not matter (one key per field).
_RULES: tuple[_Rule, ...] = (
    _Rule("mode", "mode"),
    *(_Rule(k) for k in (*_SEED_KEYS, *_TEST05_SEEDS)),
    _Rule("accuracy_log_probability", "percent"),
    _Rule("test05", "bool"),
    _Rule("use_token_latencies", "bool"),
    _Rule("ttft_latency", "ms_to_ns", scenario="Server", gate="use_token_latencies"),
    _Rule("tpot_latency", "ms_to_ns", scenario="Server", gate="use_token_latencies"),
    _Rule("infer_token_latencies", "bool"),
    _Rule("token_latency_scaling_factor", gate="infer_token_latencies"),
    *(
        _Rule("target_latency_percentile", "percent", f"{p}_target_latency_percentile", s)
        for s, p in _PREFIX.items()
    ),
    _Rule("target_latency", "ms_to_ns", "server_target_latency_ns", "Server"),
    *(
        _Rule("target_latency", "ms_to_ns_float", f"{_PREFIX[s]}_expected_latency_ns", s)
        for s in ("SingleStream", "MultiStream")
    ),
    _Rule("samples_per_query", "uint", "multi_stream_samples_per_query", "MultiStream"),
    _Rule("target_qps", "float", "server_target_qps", "Server"),
    _Rule("target_qps", "float", "offline_expected_qps", "Offline"),
    _Rule("coalesce_queries", "bool", "server_coalesce_queries", "Server"),
    _Rule("max_async_queries", "uint", "server_max_async_queries", "Server"),
    *(_Rule(k, "bool") for k in ("performance_issue_unique", "performance_issue_same")),
    _Rule("sample_concatenate_permutation", "bool"),
    _Rule("print_timestamps", "bool"),
    _Rule("min_duration", field="min_duration_ms"),
    _Rule("max_duration", field="max_duration_ms"),
    *(
        _Rule(k)
        for k in (
            "min_query_count",
            "max_query_count",
            "performance_issue_same_index",
            "performance_sample_count_override",
            "accuracy_sample_count_override",
            "accuracy_log_rng_seed",
            "accuracy_log_sampling_target",
        )
    ),
)
_KIND_OF: dict[Conversion, Kind] = {
    "uint": "uint",
    "ms_to_ns": "ms",
    "ms_to_ns_float": "float",
    "percent": "float",
    "float": "float",
    "bool": "bool",
    "mode": "mode",
}
# What a key's value must be; target_latency is integer ms for Server but any number for SS/MS.
_KEY_KINDS: dict[str, Kind] = {r.key: _KIND_OF[r.conversion] for r in _RULES} | {
    "target_latency": "latency",
    "target_duration": "ignored",  # in the official mlperf.conf, never read
}
KNOWN_KEYS = frozenset(_KEY_KINDS)

_WS = re.compile(r"[ \t\r\v\f]+")
_INT_RE = re.compile(r"[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_DEC_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX_RE = re.compile(
    r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
)
_NONFINITE_RE = re.compile(r"[+-]?(?:inf|infinity|nan(?:\([0-9a-zA-Z_]*\))?)", re.IGNORECASE)


@dataclass(frozen=True)
class ConfFile:
    """A parsed conf file.

    Attributes:
        path: where it came from (used in messages).
        entries: ``(model, scenario, key) -> (value text, 1-based line number)``.
    """

    path: str
    entries: Mapping[tuple[str, str, str], tuple[str, int]]


def _parse_int(text: str) -> int | None:
    """Parse ``text`` like a full ``strtoul(text, NULL, 0)``; None if it is not an integer."""
    if not _INT_RE.fullmatch(text):
        return None
    body = text.lstrip("+-")
    if body[:2] in ("0x", "0X"):
        value = int(body[2:], 16)
    else:
        value = int(body, 8 if body.startswith("0") else 10)
    return -value if text.startswith("-") else value


def _parse_float(text: str) -> float | None:
    """Parse ``text`` like a full ``strtod``; None if it is not a number."""
    if _DEC_RE.fullmatch(text):
        return float(text)
    if _HEX_RE.fullmatch(text):
        try:
            return float.fromhex(text)
        except OverflowError:
            return float("-inf") if text.startswith("-") else float("inf")
    return float("nan") if _NONFINITE_RE.fullmatch(text) else None


def _check_value(kind: Kind, scenario: str, text: str) -> str | None:
    """Return why ``text`` is not a valid value of a key of ``kind``, or None if it is."""
    number = _parse_float(text)
    integer = _parse_int(text)
    if number is None and integer is None:
        return "the value is not a number"
    if kind == "ignored":
        return None
    if kind == "latency":
        kind = "ms" if scenario in ("Server", "*") else "float"
    if kind == "float":
        if number is None or not math.isfinite(number):
            return "the value must be a finite number"
        return None
    if integer is None and re.fullmatch(r"[+-]?0[0-9]+", text):
        return "a leading 0 means octal, where 8 and 9 are not digits"
    if integer is None:
        hint = ""
        if scenario == "*" and kind == "ms":
            hint = " (with scenario '*' it also sets the Server target latency; use "
            hint += "*.SingleStream / *.MultiStream lines for fractions)"
        return f"the value must be a whole number; the official LoadGen would truncate it{hint}"
    if integer < 0:
        return "the value cannot be negative"
    if kind == "bool" and integer not in (0, 1):
        return "the value must be 0 or 1"
    if kind == "mode" and integer not in tuple(TestMode):
        return "mode must be 0 (SubmissionRun), 1 (AccuracyOnly), 2 (PerformanceOnly) or 3"
    if integer * (_NS_PER_MS if kind == "ms" else 1) >= _UINT64_LIMIT:
        return "the value is out of range"
    return None


def _parse_line(tokens: list[str]) -> tuple[str, str, str, str] | str:
    """Split ``model.scenario.key = value`` into its parts, or return what is wrong."""
    if len(tokens) < 3 or tokens[1] != "=":
        return "expected 'model.scenario.key = value' with spaces around '='"
    if len(tokens) > 3:
        if tokens[3].startswith("#"):
            return "a comment must be on a line of its own"
        return f"unexpected text after the value: {' '.join(tokens[3:])!r}"
    full_key, value = tokens[0], tokens[2]
    parts = full_key.rsplit(".", 2)
    if len(parts) != 3 or not all(parts):
        return f"{full_key!r} is not of the form model.scenario.key"
    model, scenario, key = parts
    if scenario != "*" and scenario not in _SCENARIOS:
        return (
            f"unknown scenario {scenario!r} in {full_key!r}; use one of {', '.join(_SCENARIOS)}, *"
        )
    if key not in _KEY_KINDS:
        near = difflib.get_close_matches(key, sorted(_KEY_KINDS), n=1)
        return f"unknown key {key!r}" + (f" (did you mean {near[0]!r}?)" if near else "")
    reason = _check_value(_KEY_KINDS[key], scenario, value)
    return f"{full_key} = {value}: {reason}" if reason else (model, scenario, key, value)


def parse_conf_text(text: str, path: str) -> ConfFile:
    """Parse conf-file text, validating every line.

    Args:
        text: the file's contents.
        path: the name used in error messages.

    Returns:
        The parsed file; a repeated ``model.scenario.key`` keeps its last value.

    Raises:
        ConfigError: on the first malformed line, naming ``path`` and the line number.
    """
    entries: dict[tuple[str, str, str], tuple[str, int]] = {}
    for line_no, line in enumerate(text.split("\n"), start=1):
        tokens = [t for t in _WS.split(line) if t]
        if not tokens or tokens[0].startswith("#"):
            continue
        parsed = _parse_line(tokens)
        if isinstance(parsed, str):
            raise ConfigError(path, line_no, parsed)
        model, scenario, key, value = parsed
        entries[(model, scenario, key)] = (value, line_no)
    return ConfFile(path, MappingProxyType(entries))


def lookup(conf: ConfFile, model: str, scenario: str, key: str) -> tuple[str, int] | None:
    """Find ``key`` for ``model``/``scenario`` with the official 4-level precedence.

    Returns:
        ``(value text, line number)`` of ``model.scenario.key``, else ``*.scenario.key``, else
        ``model.*.key``, else ``*.*.key``; None if none is present.
    """
    for m, s in ((model, scenario), ("*", scenario), (model, "*"), ("*", "*")):
        hit = conf.entries.get((m, s, key))
        if hit is not None:
            return hit
    return None


@functools.cache
def builtin_mlperf_conf_text() -> str:
    """Return the official LoadGen 6.0.17 mlperf.conf shipped as ``loadgen/mlperf.conf``."""
    return resources.files("loadgen").joinpath("mlperf.conf").read_text(encoding="utf-8")


@functools.cache
def builtin_mlperf_conf() -> ConfFile:
    """Return the built-in mlperf.conf, parsed (cached; the result is immutable)."""
    return parse_conf_text(builtin_mlperf_conf_text(), BUILTIN_CONF_PATH)


def load_conf_file(path: str | Path) -> ConfFile:
    """Read and parse a conf file.

    Raises:
        FileNotFoundError: ``path`` is empty or does not exist.
        ConfigError: the file cannot be read or has a malformed line.
    """
    if not str(path):
        raise FileNotFoundError(errno.ENOENT, "no conf file given", str(path))
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise
    except OSError as e:
        raise ConfigError(path, 0, f"cannot read the file: {e.strerror or e}") from e
    return parse_conf_text(data.decode("utf-8", errors="replace"), str(path))


def _convert(conversion: Conversion, text: str) -> int | float | bool | TestMode:
    """Convert a validated value text into a TestSettings field value."""
    if conversion in ("float", "percent", "ms_to_ns_float"):
        number = _parse_float(text)
        assert number is not None  # validated by parse_conf_text
        scale = {"float": 1.0, "percent": 0.01, "ms_to_ns_float": 1e6}[conversion]
        return number * scale  # the official's strtod(...) * multiplier, bit for bit
    integer = _parse_int(text)
    assert integer is not None  # validated by parse_conf_text
    if conversion == "bool":
        return integer == 1
    if conversion == "mode":
        return TestMode(integer)
    return integer * _NS_PER_MS if conversion == "ms_to_ns" else integer


def _apply(
    settings: TestSettings, conf: ConfFile, model: str, scenario: str, builtin: bool
) -> None:
    """Apply every key ``conf`` sets for ``model``/``scenario`` to ``settings``."""
    updates: dict[str, object] = {}
    for key, conversion, field_name, lookup_scenario, gate in _RULES:
        hit = lookup(conf, model, lookup_scenario or scenario, key)
        if hit is None:
            continue
        if key in MLPERF_CONF_ONLY_KEYS and not builtin:
            message = f"{conf.path}:{hit[1]}: {key} is read only from mlperf.conf; ignored"
            log.warning("%s", message)
            settings.conf_messages.append(("warning_generic_message", message, False))
            continue
        if gate is not None and not updates.get(gate, getattr(settings, gate)):
            continue
        updates[field_name or key] = _convert(conversion, hit[0])
    for field_name, value in updates.items():
        setattr(settings, field_name, value)


def _scenario_name(scenario: str | TestScenario) -> str:
    if isinstance(scenario, TestScenario):
        return scenario.name
    if scenario not in _SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {', '.join(_SCENARIOS)}")
    return scenario


def apply_config(
    settings: TestSettings,
    path: str | Path,
    model: str,
    scenario: str | TestScenario,
    conf_type: int = 1,
) -> None:
    """Apply a conf file to ``settings`` like the official ``TestSettings::FromConfig``.

    Args:
        settings: modified in place; ``conf_messages`` receives what the detail log must show.
        path: the conf file (ignored for ``conf_type`` 0).
        model: model name, or ``"*"`` (audit.config) so only wildcard-model lines apply.
        scenario: the scenario whose lines apply (scenario-specific keys such as
            ``target_qps`` are looked up under their own scenario regardless).
        conf_type: 0 built-in mlperf.conf only; 1 user.conf, where the first call on this
            ``settings`` applies the built-in mlperf.conf first and later calls record the
            official "Multiple conf files" error; 2 audit.config, applied on top.

    Raises:
        FileNotFoundError: the file does not exist (nothing from it applied).
        ConfigError: the file is malformed (nothing from it applied). As in the official, the
            built-in mlperf.conf of a first ``conf_type`` 1 call has been applied regardless.
        ValueError: unknown ``conf_type`` or ``scenario``.
    """
    scenario_name = _scenario_name(scenario)
    if conf_type not in (0, 1, 2):
        raise ValueError(f"conf_type must be 0, 1 or 2, not {conf_type!r}")
    if conf_type == 0:
        _apply(settings, builtin_mlperf_conf(), model, scenario_name, builtin=True)
        return
    if conf_type == 1:
        if settings.conf_files_loaded == 0:
            _apply(settings, builtin_mlperf_conf(), model, scenario_name, builtin=True)
        else:
            log.warning("%s", MULTIPLE_CONF_MESSAGE)
            settings.conf_messages.append(("error_invalid_config", MULTIPLE_CONF_MESSAGE, True))
        settings.conf_files_loaded += 1
    try:
        conf = load_conf_file(path)
    except FileNotFoundError:
        settings.conf_messages.append(("error_invalid_config", f"can't open file {path}", True))
        raise
    except ConfigError as e:
        settings.conf_messages.append(("error_invalid_config", str(e), True))
        raise
    _apply(settings, conf, model, scenario_name, builtin=False)
