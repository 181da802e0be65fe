"""Push a run's results to a Prometheus Pushgateway, once, at the end of the run.

A run is a batch job, so its results are pushed (not scraped): :func:`push_result` takes the
run's ``result.json`` mapping, builds a private registry holding only the results, and PUTs it
to the gateway under job ``wattbench`` and the grouping key ``sut``, ``scenario``, ``meter``.
A new push of the same group replaces the previous one; runs of other SUTs, scenarios or meters
sit side by side. Prometheus must scrape the gateway with ``honor_labels: true``.

Example::

    push_result("http://127.0.0.1:9091", result)
    # wattbench_result_samples_per_joule{job="wattbench",sut="null",scenario="Offline",meter="sim"}

Pushed gauges (a value that is absent or null in the result is not pushed):

===============================================  ========================================
``wattbench_result_samples_per_joule``           ``metrics.samples_per_joule.value``
``wattbench_result_average_power_watts``         ``metrics.avg_watts.value``
``wattbench_result_energy_joules``               ``metrics.energy_joules.value``
``wattbench_result_energy_per_query_joules``     ``metrics.energy_per_query_millijoules.value``
                                                 / 1000
``wattbench_result_valid``                       ``valid`` (1 or 0)
===============================================  ========================================

Errors: :class:`PushError` when the gateway cannot be reached or answers with an error, or the
result lacks ``scenario``, ``sut.spec`` or ``meters[0].name``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway
from prometheus_client.exposition import basic_auth_handler, default_handler

from power_client.errors import PowerClientError
from power_director.metrics_http import BasicAuth

__all__ = ["JOB", "PushError", "grouping_key", "push_result", "result_registry"]

log = logging.getLogger(__name__)

#: The ``job`` label of every pushed group.
JOB = "wattbench"

_Handler = Callable[[str, str, float | None, list[tuple[str, str]], bytes], Callable[[], None]]


class PushError(PowerClientError):
    """The results could not be pushed (names the gateway and the cause)."""


def _get(data: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            ok = isinstance(data, Sequence) and not isinstance(data, str) and len(data) > key
        else:
            ok = isinstance(data, Mapping) and key in data
        if not ok:
            return None
        data = data[key]
    return data


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def grouping_key(result: Mapping[str, Any]) -> dict[str, str]:
    """Return ``{"sut", "scenario", "meter"}`` of ``result``.

    Raises:
        PushError: one of ``sut.spec``, ``scenario``, ``meters[0].name`` is missing.
    """
    key = {
        "sut": _get(result, "sut", "spec"),
        "scenario": _get(result, "scenario"),
        "meter": _get(result, "meters", 0, "name"),
    }
    missing = [name for name, value in key.items() if not isinstance(value, str) or not value]
    if missing:
        raise PushError(
            f"the result has no {', '.join(missing)} (sut.spec, scenario, meters[0].name)"
        )
    return {name: str(value) for name, value in key.items()}


def result_registry(result: Mapping[str, Any]) -> CollectorRegistry:
    """Return a new registry holding the result gauges of ``result``."""
    registry = CollectorRegistry()
    metrics = _get(result, "metrics")
    energy_per_query_mj = _number(_get(metrics, "energy_per_query_millijoules", "value"))
    values = {
        "wattbench_result_samples_per_joule": (
            "Samples processed per joule in the run's measured window (samples/J).",
            _number(_get(metrics, "samples_per_joule", "value")),
        ),
        "wattbench_result_average_power_watts": (
            "Average power over the run's measured window.",
            _number(_get(metrics, "avg_watts", "value")),
        ),
        "wattbench_result_energy_joules": (
            "Energy over the run's measured window.",
            _number(_get(metrics, "energy_joules", "value")),
        ),
        "wattbench_result_energy_per_query_joules": (
            "Energy per query over the run's measured window.",
            None if energy_per_query_mj is None else energy_per_query_mj / 1000.0,
        ),
        "wattbench_result_valid": (
            "1 when the run is valid (LoadGen and power checks), else 0.",
            1.0 if result.get("valid") is True else 0.0,
        ),
    }
    for name, (doc, value) in values.items():
        if value is not None:
            Gauge(name, doc, registry=registry).set(value)
    return registry


def push_result(
    gateway: str,
    result: Mapping[str, Any],
    *,
    job: str = JOB,
    basic_auth: BasicAuth | None = None,
    timeout_s: float = 10.0,
) -> dict[str, str]:
    """PUT the results of ``result`` to ``gateway``; return the grouping key used.

    Args:
        gateway: the Pushgateway's URL (``http://host:9091``; ``https://`` works too).
        result: the run's ``result.json`` contents.
        job: the ``job`` label.
        basic_auth: credentials when the gateway requires HTTP basic auth.
        timeout_s: connection and response timeout, s.

    Raises:
        PushError: the gateway cannot be reached, answers with an error, or the result lacks
            a grouping-key field.
    """
    key = grouping_key(result)
    registry = result_registry(result)
    handler: _Handler = default_handler
    if basic_auth is not None:
        credentials = basic_auth

        def handler(
            url: str,
            method: str,
            timeout: float | None,
            headers: list[tuple[str, str]],
            data: bytes,
        ) -> Callable[[], None]:
            return basic_auth_handler(
                url,
                method,
                timeout,
                headers,
                data,
                username=credentials.username,
                password=credentials.password,
            )

    try:
        push_to_gateway(
            gateway,
            job=job,
            registry=registry,
            grouping_key=key,
            timeout=timeout_s,
            handler=handler,
        )
    except (OSError, ValueError) as exc:
        raise PushError(f"cannot push the results to the Pushgateway at {gateway}: {exc}") from exc
    log.info("results pushed to %s job=%s %s", gateway, job, key)
    return key
