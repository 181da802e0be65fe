"""Pushing a run's results to a Pushgateway: the group, the gauges, auth and errors."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from power_client.push import JOB, PushError, grouping_key, push_result, result_registry
from power_director.metrics_http import BasicAuth


def result(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "scenario": "Offline",
        "valid": True,
        "sut": {"spec": "null", "workload": "digits"},
        "meters": [{"name": "sim-wt310e", "simulated": True}, {"name": "second"}],
        "metrics": {
            "samples_per_joule": {"value": 2.41, "uncertainty": 0.01, "unit": "samples/J"},
            "avg_watts": {"value": 120.5, "uncertainty": 0.3, "unit": "W"},
            "energy_joules": {"value": 361.5, "uncertainty": 1.0, "unit": "J"},
            "energy_per_query_millijoules": {"value": 14.7, "uncertainty": 0.1, "unit": "mJ"},
        },
    }
    base.update(over)
    return base


def gauges(registry) -> dict[str, float]:
    text = generate_latest(registry).decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


class Gateway(BaseHTTPRequestHandler):
    """Records every request; answers with the server's ``status``."""

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.server.requests.append(  # type: ignore[attr-defined]
            (self.command, self.path, dict(self.headers), self.rfile.read(length).decode())
        )
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    server.requests = []  # type: ignore[attr-defined]
    server.status = 202  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def url(server: HTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_result_gauges_are_in_base_units():
    assert gauges(result_registry(result())) == {
        "wattbench_result_samples_per_joule": 2.41,
        "wattbench_result_average_power_watts": 120.5,
        "wattbench_result_energy_joules": 361.5,
        "wattbench_result_energy_per_query_joules": pytest.approx(0.0147),
        "wattbench_result_valid": 1.0,
    }


def test_missing_or_null_values_are_not_pushed_and_invalid_is_zero():
    metrics = {
        "samples_per_joule": {"value": None},
        "avg_watts": {"value": float("nan")},
        "energy_per_query_millijoules": {"value": True},
    }
    assert gauges(result_registry(result(metrics=metrics, valid=False))) == {
        "wattbench_result_valid": 0.0
    }
    assert gauges(result_registry({"valid": "yes"})) == {"wattbench_result_valid": 0.0}


def test_grouping_key_is_sut_scenario_and_first_meter():
    assert grouping_key(result()) == {"sut": "null", "scenario": "Offline", "meter": "sim-wt310e"}


@pytest.mark.parametrize(
    ("over", "missing"),
    [
        ({"sut": {}}, "sut"),
        ({"scenario": ""}, "scenario"),
        ({"meters": []}, "meter"),
        ({"meters": "sim"}, "meter"),
        ({"sut": None, "meters": [{}]}, "sut, meter"),
    ],
)
def test_grouping_key_fields_are_required(over, missing):
    with pytest.raises(PushError, match=f"the result has no {missing} "):
        grouping_key(result(**over))


def test_push_puts_the_group_under_job_wattbench(gateway):
    key = push_result(url(gateway), result(sut={"spec": "openvino?model=resnet50/int8"}))
    assert key == {
        "sut": "openvino?model=resnet50/int8",
        "scenario": "Offline",
        "meter": "sim-wt310e",
    }
    [(method, path, headers, body)] = gateway.requests  # type: ignore[attr-defined]
    assert method == "PUT"
    # a value holding "/" is sent base64-encoded (the Pushgateway's "@base64" suffix)
    encoded = base64.urlsafe_b64encode(b"openvino?model=resnet50/int8").decode()
    assert path == f"/metrics/job/{JOB}/meter/sim-wt310e/scenario/Offline/sut@base64/{encoded}"
    assert "Authorization" not in headers
    assert "wattbench_result_samples_per_joule 2.41" in body
    assert "wattbench_result_valid 1.0" in body


def test_push_sends_basic_auth(gateway):
    push_result(url(gateway), result(), basic_auth=BasicAuth("pusher", "pw"))
    [(_, _, headers, _)] = gateway.requests  # type: ignore[attr-defined]
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"pusher:pw").decode()


def test_a_gateway_error_is_a_push_error(gateway):
    gateway.status = 500  # type: ignore[attr-defined]
    with pytest.raises(PushError, match=r"cannot push the results to the Pushgateway at http://"):
        push_result(url(gateway), result())


def test_an_unreachable_gateway_is_a_push_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PushError, match=f"127.0.0.1:{port}"):
        push_result(f"http://127.0.0.1:{port}", result(), timeout_s=2)
