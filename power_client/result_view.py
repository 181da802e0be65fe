"""What a report shows of a ``result.json``: labelled rows of formatted text, shared by all outputs.

``summary.txt`` (:mod:`power_client.summary_text`) and ``report.html``
(:mod:`power_client.html_report`) render the same rows, so they cannot disagree. Every function
takes the parsed ``result.json`` (schema: ``docs/results.md``) and tolerates missing or null
fields, which are shown as ``n/a``: a report of a broken run must still render.

Numbers keep sensible significant digits; a value with an uncertainty is rounded to the
uncertainty's second significant digit: ``45.87 ± 0.18 W (0.40 %)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "NA",
    "PLOT_UNAVAILABLE",
    "SIMULATED_BANNER",
    "failed_checks",
    "file_rows",
    "format_measured",
    "format_number",
    "format_quantity",
    "format_seconds",
    "get",
    "headline_rows",
    "is_simulated",
    "is_valid",
    "phase_names",
    "phase_table",
    "summary_rows",
    "title",
    "verdict",
]

NA = "n/a"
SIMULATED_BANNER = (
    "SIMULATED METER: every power figure below comes from a simulated meter, not a measurement"
)
PLOT_UNAVAILABLE = "plot unavailable: install matplotlib"

_PER_QUERY_SCENARIOS = ("SingleStream", "MultiStream")
_MLPERF_UNITS = {"Watts": "W", "millijoules": "mJ/query"}
_PHASE_ORDER = ("ranging", "testing")


def get(data: Any, *keys: str | int) -> Any:
    """Return ``data[k1][k2]...``, or None where a level is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, Sequence) or isinstance(data, str) or key >= len(data):
                return None
        elif not isinstance(data, Mapping):
            return None
        data = data[key] if isinstance(key, int) else data.get(key)
    return data


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def format_number(value: Any, digits: int = 4) -> str:
    """Return ``value`` with ``digits`` significant digits (integer digits are never dropped)."""
    number = _finite(value)
    if number is None:
        return NA
    if number == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(number)))
    return f"{number:.{max(decimals, 0)}f}"


def format_measured(value: Any, uncertainty: Any, unit: str) -> str:
    """Return ``"45.87 ± 0.18 W (0.40 %)"``; without a usable uncertainty, ``"45.87 W"``."""
    number = _finite(value)
    if number is None:
        return NA
    spread = _finite(uncertainty)
    if spread is None or spread <= 0:
        return f"{format_number(number)} {unit}".rstrip()
    decimals = max(0, 1 - math.floor(math.log10(spread)))
    text = f"{number:.{decimals}f} ± {spread:.{decimals}f} {unit}".rstrip()
    if number != 0:
        text += f" ({format_number(100 * spread / abs(number), 2)} %)"
    return text


def format_quantity(quantity: Any, unit: str = "") -> str:
    """Format a ``{"value", "uncertainty", "unit"}`` object of ``result.json``."""
    if not isinstance(quantity, Mapping):
        return NA
    given = quantity.get("unit")
    shown_unit = given if isinstance(given, str) else unit
    shown_unit = _MLPERF_UNITS.get(shown_unit, shown_unit)
    return format_measured(quantity.get("value"), quantity.get("uncertainty"), shown_unit)


def format_seconds(value: Any, digits: int = 3, *, signed: bool = False) -> str:
    """Return a duration in s, ms or µs, e.g. ``"60.0 s"``, ``"+0.100 ms"``."""
    number = _finite(value)
    if number is None:
        return NA
    size = abs(number)
    if size == 0 or size >= 1:
        scale, unit = 1.0, "s"
    elif size >= 1e-3:
        scale, unit = 1e3, "ms"
    else:
        scale, unit = 1e6, "µs"
    text = f"{format_number(number * scale, digits)} {unit}"
    return f"+{text}" if signed and number > 0 else text


def _count(value: Any) -> str:
    number = _finite(value)
    return NA if number is None else str(round(number))


def _percent(ratio: Any) -> str:
    number = _finite(ratio)
    return NA if number is None else f"{format_number(100 * number, 2)} %"


def is_simulated(result: Mapping[str, Any]) -> bool:
    """Return True when the result or any of its meters is simulated."""
    meters = result.get("meters")
    simulated_meter = isinstance(meters, Sequence) and any(
        isinstance(m, Mapping) and m.get("simulated") is True for m in meters
    )
    return result.get("simulated") is True or simulated_meter


def is_valid(result: Mapping[str, Any]) -> bool:
    """Return True only when the result says ``"valid": true``."""
    return result.get("valid") is True


def _checks(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    checks = result.get("checks")
    if not isinstance(checks, Sequence) or isinstance(checks, str):
        return []
    return [c for c in checks if isinstance(c, Mapping)]


def failed_checks(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return ``(name, detail)`` of every check that did not pass."""
    return [
        (str(c.get("name", "?")), str(c.get("detail", "")))
        for c in _checks(result)
        if c.get("passed") is not True
    ]


def verdict(result: Mapping[str, Any]) -> str:
    """Return ``"VALID"`` or ``"INVALID (2 of 10 checks failed)"``."""
    if is_valid(result):
        return "VALID"
    failed = len(failed_checks(result))
    total = len(_checks(result))
    if failed:
        return f"INVALID ({failed} of {total} checks failed)"
    return "INVALID"


def _sut_text(result: Mapping[str, Any]) -> str:
    sut = result.get("sut")
    if not isinstance(sut, Mapping):
        return NA
    text = f"{sut.get('spec', NA)} running {sut.get('workload', NA)}"
    description = sut.get("description")
    if isinstance(description, Mapping) and description:
        text += " (" + ", ".join(f"{k}: {v}" for k, v in description.items()) + ")"
    elif description:
        text += f" ({description})"
    return text


def title(result: Mapping[str, Any]) -> str:
    """Return ``"Offline · null/digits"``: the scenario and the SUT, for headings."""
    sut = result.get("sut")
    spec = get(sut, "spec") or NA
    workload = get(sut, "workload") or NA
    return f"{result.get('scenario', NA)} · {spec}/{workload}"


def _per_query(result: Mapping[str, Any]) -> bool:
    return result.get("scenario") in _PER_QUERY_SCENARIOS


def headline_rows(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the scenario's headline metrics.

    Offline and Server: samples/J and the average power; SingleStream and MultiStream: the
    energy per query and samples/J.
    """
    metrics = result.get("metrics")
    efficiency = ("Efficiency", format_quantity(get(metrics, "samples_per_joule"), "samples/J"))
    if _per_query(result):
        per_query = format_quantity(get(metrics, "energy_per_query_millijoules"), "mJ")
        return [("Energy per query", per_query), efficiency]
    return [efficiency, ("Average power", format_quantity(get(metrics, "avg_watts"), "W"))]


def _mlperf_text(result: Mapping[str, Any]) -> str:
    metrics = result.get("metrics")
    # metrics.mlperf.{power_metric,efficiency}; PowerMetrics.to_json() spells them flat
    power = get(metrics, "mlperf", "power_metric") or get(metrics, "mlperf_power")
    efficiency = get(metrics, "mlperf", "efficiency") or get(metrics, "mlperf_efficiency")
    samples = _count(get(result, "phases", "testing", "energy", "mlperf_samples"))
    return (
        f"{format_quantity(power)} power metric, {format_quantity(efficiency, 'samples/J')} "
        f"efficiency (from the unweighted mean power of {samples} samples strictly inside the "
        "LoadGen window with W > 0: the MLCommons submission checker's rule)"
    )


def _window_text(result: Mapping[str, Any]) -> str:
    window = get(result, "phases", "testing", "window")
    if not isinstance(window, Mapping):
        return NA
    return (
        f"{format_seconds(window.get('duration_s'), 4)} "
        f"({window.get('begin_utc', NA)} to {window.get('end_utc', NA)}, director clock)"
    )


def _samples_text(energy: Any) -> str:
    return (
        f"{_count(get(energy, 'samples_in_window'))} in the window "
        f"({_count(get(energy, 'invalid_samples'))} invalid, "
        f"{_count(get(energy, 'over_range_samples'))} over range; "
        f"longest gap {format_seconds(get(energy, 'max_gap_s'))}; "
        f"worst uncertainty {_percent(get(energy, 'max_uncertainty_ratio'))} of reading)"
    )


def _ranging_text(result: Mapping[str, Any]) -> str:
    metrics = result.get("metrics")
    ratio = get(metrics, "testing_vs_ranging_ratio")
    return (
        f"ranging {format_quantity(get(metrics, 'ranging_avg_watts'), 'W')}, "
        f"testing {format_quantity(get(metrics, 'avg_watts'), 'W')}; "
        f"testing/ranging = {format_number(ratio, 3)}"
    )


def _clock_text(result: Mapping[str, Any]) -> str:
    clock = result.get("clock")
    if not isinstance(clock, Mapping):
        return NA
    return (
        f"offset {format_seconds(clock.get('offset_s'), signed=True)} (director - client), "
        f"RTT {format_seconds(clock.get('rtt_s'))}, "
        f"uncertainty ±{format_seconds(clock.get('uncertainty_s'))}, "
        f"drift {format_seconds(clock.get('drift_s'), signed=True)} over the run "
        f"(tolerance {format_seconds(clock.get('tolerance_s'))})"
    )


def _meter_texts(result: Mapping[str, Any]) -> list[str]:
    meters = result.get("meters")
    if not isinstance(meters, Sequence) or isinstance(meters, str) or not meters:
        return [NA]
    texts = []
    for meter in meters:
        if not isinstance(meter, Mapping):
            continue
        channels = meter.get("channels")
        plural = "" if channels == 1 else "s"
        text = (
            f"{meter.get('name', NA)}: {meter.get('identity', NA)} "
            f"(model {meter.get('model', NA)}, spec {meter.get('spec', NA)}, "
            f"{channels if channels is not None else NA} channel{plural})"
        )
        texts.append(text + (" SIMULATED" if meter.get("simulated") is True else ""))
    return texts or [NA]


def _director_text(result: Mapping[str, Any]) -> str:
    director = result.get("director")
    if not isinstance(director, Mapping):
        return NA
    return (
        f"{director.get('address', NA)}, {director.get('software', NA)} on "
        f"{director.get('host', NA)}, session {director.get('session_id', NA)}"
    )


def _created_text(result: Mapping[str, Any]) -> str:
    versions = result.get("versions")
    parts = [
        f"{name} {get(versions, name)}"
        for name in ("python", "numpy", "loadgen", "openvino")
        if get(versions, name) is not None
    ]
    text = f"{result.get('created_utc', NA)} by wattbench {get(versions, 'wattbench') or NA}"
    return text + (f" ({', '.join(parts)})" if parts else "")


def summary_rows(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the labelled rows of the summary, headline first."""
    testing = get(result, "phases", "testing")
    performance = get(testing, "loadgen", "performance")
    perf_text = NA
    if isinstance(performance, Mapping):
        perf_text = (
            f"{format_number(performance.get('value'), 5)} {performance.get('unit', '')} "
            f"({performance.get('name', NA)}; LoadGen {get(testing, 'loadgen', 'result_validity')})"
        )
    rows = [
        ("Scenario", f"{result.get('scenario', NA)}, mode {result.get('mode', NA)}"),
        ("SUT", _sut_text(result)),
        *headline_rows(result),
        ("MLPerf-comparable", _mlperf_text(result)),
        ("Energy", format_quantity(get(result, "metrics", "energy_joules"), "J")),
    ]
    if _per_query(result):
        rows.append(("Average power", format_quantity(get(result, "metrics", "avg_watts"), "W")))
    rows += [
        ("Performance", perf_text),
        ("Window", _window_text(result)),
        ("Samples", _samples_text(get(testing, "energy"))),
        ("Ranging vs testing", _ranging_text(result)),
        ("Clock", _clock_text(result)),
        *(("Meter", text) for text in _meter_texts(result)),
        ("Director", _director_text(result)),
        ("Created", _created_text(result)),
    ]
    return rows


def phase_names(result: Mapping[str, Any]) -> list[str]:
    """Return the phases of the result: ranging and testing first, then any others."""
    phases = result.get("phases")
    if not isinstance(phases, Mapping):
        return []
    names = [name for name in _PHASE_ORDER if name in phases]
    return names + sorted(str(name) for name in phases if name not in _PHASE_ORDER)


def phase_table(result: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Return the per-phase table: the header (``""`` then phase names) and one row per item."""
    names = phase_names(result)
    phases = [get(result, "phases", name) for name in names]

    def row(label: str, render: Callable[[Any], str]) -> list[str]:
        return [label, *(render(phase) for phase in phases)]

    def performance(phase: Any) -> str:
        perf = get(phase, "loadgen", "performance")
        return f"{format_number(get(perf, 'value'), 5)} {get(perf, 'unit') or ''}".rstrip()

    def queries(phase: Any) -> str:
        loadgen = get(phase, "loadgen")
        per_query = _count(get(loadgen, "samples_per_query"))
        return f"{_count(get(loadgen, 'query_count'))} × {per_query}"

    def mlperf(phase: Any) -> str:
        energy = get(phase, "energy")
        watts = format_quantity(get(energy, "mlperf_avg_watts"), "W")
        return f"{watts} ({_count(get(energy, 'mlperf_samples'))} samples)"

    def official(phase: Any) -> str:
        flag = get(phase, "loadgen", "official_loadgen")
        return NA if flag is None else ("official" if flag else "wattbench")

    rows = [
        row("LoadGen result", lambda p: str(get(p, "loadgen", "result_validity") or NA)),
        row("Performance", performance),
        row("Queries × samples/query", queries),
        row("LoadGen", official),
        row("Window length", lambda p: format_seconds(get(p, "window", "duration_s"), 4)),
        row("Window begin (UTC)", lambda p: str(get(p, "window", "begin_utc") or NA)),
        row("Window end (UTC)", lambda p: str(get(p, "window", "end_utc") or NA)),
        row("Energy", lambda p: format_quantity(get(p, "energy", "energy_joules"), "J")),
        row("Average power", lambda p: format_quantity(get(p, "energy", "avg_watts"), "W")),
        row("MLPerf-comparable power", mlperf),
        row("Samples in window", lambda p: _count(get(p, "energy", "samples_in_window"))),
        row("Invalid samples", lambda p: _count(get(p, "energy", "invalid_samples"))),
        row("Over-range samples", lambda p: _count(get(p, "energy", "over_range_samples"))),
        row("Longest gap", lambda p: format_seconds(get(p, "energy", "max_gap_s"))),
        row("Worst uncertainty", lambda p: _percent(get(p, "energy", "max_uncertainty_ratio"))),
        row("LoadGen detail log", lambda p: str(get(p, "loadgen", "detail_log") or NA)),
    ]
    return ["", *names], rows


def file_rows(result: Mapping[str, Any], *, plot_available: bool = True) -> list[tuple[str, str]]:
    """Return ``(path, what it is)`` for the files of the result folder, relative to it."""
    rows = [
        ("result.json", "every figure, machine-readable (schema: docs/results.md)"),
        ("summary.txt", "this summary as plain text"),
        ("report.html", "this summary with the plot, the checks and the phase table"),
        ("power.png", "power over time" if plot_available else PLOT_UNAVAILABLE),
        ("power/", "the director's and the client's logs"),
    ]
    for name in phase_names(result):
        log_path = get(result, "phases", name, "loadgen", "detail_log")
        if isinstance(log_path, str) and "/" in log_path:
            folder = log_path.rsplit("/", 1)[0] + "/"
            rows.append((folder, f"the {name} phase's LoadGen logs and power log"))
    files = result.get("files")
    if isinstance(files, Mapping):
        for path, digest in sorted(files.items()):
            rows.append((str(path), f"sha256 {digest}"))
    return rows
