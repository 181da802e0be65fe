"""The MLCommons submission checker's power metric, computed from the files as it does.

Source: mlcommons/inference ``tools/submission/submission_checker`` (``get_power_metric``,
``checks/power_check.py``; ``POWER_UNIT_DICT`` in ``constants.py``). Steps, kept literally so
that our figure equals theirs bit for bit:

1. ``power_begin`` and ``power_end`` are the **first** such entries of
   ``mlperf_log_detail.txt`` (``MLPerfLog.__getitem__``: lines that start with ``:::MLLOG``,
   ``json.loads`` of the rest), parsed as naive datetimes with ``%m-%d-%Y %H:%M:%S.%f``; both
   time-zone corrections are 0.
2. Every ``spl.txt`` line starting with ``Time`` is split on ``,``; field 1 is parsed the same
   way, and field 3 (W) is kept when ``power_begin < ts < power_end`` and ``W > 0``.
3. ``avg_power = sum(kept) / len(kept)``: Python's left-to-right ``sum``, unweighted, no edge
   interpolation (so not ``math.fsum``, which could differ in the last bit).
4. Offline, Server, Interactive: the metric is ``avg_power`` in ``Watts``; efficiency is
   ``performance_metric / avg_power``. SingleStream, MultiStream: the metric is
   ``avg_power * (power_end - power_begin).total_seconds() * 1000 / result_query_count`` in
   ``millijoules`` (per query; times ``samples_per_query`` for a MultiStream result inferred
   from a SingleStream run); efficiency is ``samples_per_query * 1000 / metric`` (samples/J).

The performance metric is LoadGen's per-scenario result field the checker uses
(``RESULT_FIELD_NEW``, listed in :data:`PERFORMANCE_METRIC_KEYS`): Offline
``result_samples_per_second``; Server ``result_completed_samples_per_sec`` (the throughput
actually achieved, (n - 1) / time of the last completion; v4.1 and later, while v4.0 and the
old summary-based checker used ``result_scheduled_samples_per_sec``, the Poisson rate asked
for); SingleStream and MultiStream use latencies, which their efficiency does not involve.

Errors: :class:`~power_client.errors.LoadgenLogError` (no power window in the detail log),
:class:`~power_client.errors.JoinError` (no sample in the window, the checker's "has no power
samples falling in power range"; a ``Time`` line whose timestamp does not parse).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from loadgen.settings import TestScenario
from power_client.errors import JoinError, LoadgenLogError

log = logging.getLogger(__name__)

__all__ = [
    "DATETIME_FORMAT",
    "PERFORMANCE_METRIC_KEYS",
    "POWER_UNITS",
    "MlperfAverage",
    "MlperfWindow",
    "average_power",
    "average_power_from_files",
    "mlperf_power_efficiency",
    "mlperf_power_metric",
    "parse_datetime",
    "read_power_window",
    "scenario_name",
]

#: The checker's timestamp format for ``power_begin``/``power_end`` and ``spl.txt`` field 1.
DATETIME_FORMAT = "%m-%d-%Y %H:%M:%S.%f"
#: The form PTDaemon and our director write (``11-22-2026 10:00:42.000``); anything else goes
#: through ``strptime`` itself.
_CANONICAL = re.compile(r"(\d\d)-(\d\d)-(\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{1,6})\Z")
#: ``POWER_UNIT_DICT``: the unit of the power metric per scenario.
POWER_UNITS = {
    "SingleStream": "millijoules",
    "MultiStream": "millijoules",
    "Offline": "Watts",
    "Server": "Watts",
    "Interactive": "Watts",
}
#: ``RESULT_FIELD_NEW``: the detail-log key of each scenario's performance metric.
PERFORMANCE_METRIC_KEYS = {
    "SingleStream": "early_stopping_latency_ss",
    "MultiStream": "early_stopping_latency_ms",
    "Offline": "result_samples_per_second",
    "Server": "result_completed_samples_per_sec",
    "Interactive": "result_completed_samples_per_sec",
}
_MARKER = ":::MLLOG"
_ENERGY_SCENARIOS = ("SingleStream", "MultiStream")


@dataclass(frozen=True, slots=True)
class MlperfWindow:
    """``power_begin``/``power_end`` as the checker parses them: naive datetimes (UTC)."""

    begin: dt.datetime
    end: dt.datetime

    @property
    def duration_s(self) -> float:
        """Return ``(end - begin).total_seconds()``, s."""
        return (self.end - self.begin).total_seconds()


@dataclass(frozen=True, slots=True)
class MlperfAverage:
    """The checker's average power: mean W of the kept ``spl.txt`` lines, and their count."""

    avg_watts: float
    samples: int


def scenario_name(scenario: str | TestScenario) -> str:
    """Return the scenario's name as the checker spells it; ValueError for an unknown one."""
    name = scenario.name if isinstance(scenario, TestScenario) else scenario
    if name not in POWER_UNITS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {sorted(POWER_UNITS)}")
    return name


def read_power_window(detail_log_text: str, source: str = "mlperf_log_detail.txt") -> MlperfWindow:
    """Return the first ``power_begin``/``power_end`` of a detail log's text.

    Raises:
        LoadgenLogError: an entry is missing or does not parse (naming ``source``).
    """
    first: dict[str, str] = {}
    for line in detail_log_text.splitlines():
        line = line.rstrip()
        if not line.startswith(_MARKER):
            continue
        try:
            message = json.loads(line[len(_MARKER) :])
            key = message["key"]
        except (ValueError, KeyError, TypeError):
            continue
        if key in ("power_begin", "power_end") and key not in first:
            first[key] = message["value"]
    try:
        return MlperfWindow(
            dt.datetime.strptime(first["power_begin"], DATETIME_FORMAT),
            dt.datetime.strptime(first["power_end"], DATETIME_FORMAT),
        )
    except KeyError as err:
        raise LoadgenLogError(f"{source}: no {err.args[0]} entry") from None
    except (ValueError, TypeError) as err:
        raise LoadgenLogError(f"{source}: bad power timestamp: {err}") from None


def average_power(
    spl_lines: Iterable[str], window: MlperfWindow, source: str = "spl.txt"
) -> MlperfAverage:
    """Average ``spl.txt`` W over ``window`` exactly as the checker does.

    Raises:
        JoinError: no line qualifies, or a ``Time`` line's timestamp does not parse (naming
            ``source`` and the window).
    """
    power_list: list[float] = []
    for number, line in enumerate(spl_lines, 1):
        if not line.startswith("Time"):
            continue
        fields = line.split(",")
        try:
            timestamp = parse_datetime(fields[1])
        except (IndexError, ValueError) as err:
            raise JoinError(f"{source} line {number}: bad timestamp: {err}") from None
        if window.begin < timestamp < window.end:
            value = float(fields[3])
            if value > 0:
                power_list.append(value)
    if not power_list:
        raise JoinError(
            f"{source} has no power samples falling in power range "
            f"{window.begin.strftime(DATETIME_FORMAT)} .. {window.end.strftime(DATETIME_FORMAT)}"
        )
    return MlperfAverage(sum(power_list) / len(power_list), len(power_list))


def parse_datetime(text: str) -> dt.datetime:
    """``datetime.strptime(text, DATETIME_FORMAT)``, about 5x faster for the canonical form.

    ``strptime`` dominated reading a 1 h spl.txt (0.4 s of 36k lines per phase). Text in the
    canonical zero-padded form is split by a regular expression; anything else (one-digit
    fields, stray spaces) is handed to ``strptime``, so results and errors are strptime's.
    """
    match = _CANONICAL.match(text)
    if match is None:
        return dt.datetime.strptime(text, DATETIME_FORMAT)
    month, day, year, hour, minute, second, fraction = match.groups()
    return dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour),
        int(minute),
        int(second),
        int(fraction.ljust(6, "0")),
    )


def average_power_from_files(
    spl_path: str | os.PathLike[str], detail_log_path: str | os.PathLike[str]
) -> tuple[MlperfWindow, MlperfAverage]:
    """Read the window from the detail log and average ``spl.txt`` over it (as the checker)."""
    detail = Path(detail_log_path)
    window = read_power_window(detail.read_text(encoding="utf-8"), str(detail))
    with open(spl_path, encoding="utf-8", errors="replace") as handle:
        return window, average_power(handle, window, str(spl_path))


def mlperf_power_metric(
    scenario: str | TestScenario,
    avg_watts: float,
    begin: dt.datetime,
    end: dt.datetime,
    query_count: int,
    samples_per_query: int,
    *,
    inferred_from_single_stream: bool = False,
) -> tuple[float, str]:
    """Return the checker's power metric and its unit for ``scenario``.

    Args:
        scenario: the scenario (checker spelling, or a :class:`~loadgen.settings.TestScenario`).
        avg_watts: the average power (:func:`average_power`), W.
        begin: ``power_begin`` (naive UTC).
        end: ``power_end`` (naive UTC).
        query_count: LoadGen's ``result_query_count`` (SingleStream, MultiStream).
        samples_per_query: 1 (SingleStream) or 8 (MultiStream); used for inferred results.
        inferred_from_single_stream: a MultiStream result inferred from a SingleStream run
            (the metric is multiplied by ``samples_per_query``).

    Returns:
        ``(avg_watts, "Watts")`` for Offline/Server/Interactive, ``(mJ per query,
        "millijoules")`` for SingleStream/MultiStream.
    """
    name = scenario_name(scenario)
    if name not in _ENERGY_SCENARIOS:
        return avg_watts, POWER_UNITS[name]
    power_duration = (end - begin).total_seconds()
    if name == "MultiStream" and inferred_from_single_stream:
        metric = avg_watts * power_duration * samples_per_query * 1000 / query_count
    else:
        metric = avg_watts * power_duration * 1000 / query_count
    return metric, POWER_UNITS[name]


def mlperf_power_efficiency(
    scenario: str | TestScenario,
    power_metric: float,
    performance_metric: float,
    samples_per_query: int,
) -> float:
    """Return the checker's ``avg_power_efficiency``, samples/J.

    Offline/Server/Interactive: ``performance_metric / power_metric`` (samples/s per W).
    SingleStream/MultiStream: ``samples_per_query * 1000 / power_metric`` (power_metric in mJ).
    """
    if scenario_name(scenario) in _ENERGY_SCENARIOS:
        return (samples_per_query * 1000) / power_metric
    return performance_metric / power_metric
