"""Real ``prometheus`` and ``prometheus-pushgateway`` processes for integration tests.

Each server runs on a free loopback port with its data in a temporary folder, is waited for on
its ``/-/ready`` endpoint and is stopped by PID (SIGTERM, then SIGKILL). :func:`require` skips
the test when a binary is missing, or fails it when ``WATTBENCH_REQUIRE_PROMETHEUS=1`` (CI).
Debian/Ubuntu: ``apt-get install prometheus prometheus-pushgateway``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

REQUIRE_ENV = "WATTBENCH_REQUIRE_PROMETHEUS"


def require(*binaries: str) -> dict[str, str]:
    """Return the paths of ``binaries``; skip (or, in CI, fail) when one is missing."""
    found = {name: shutil.which(name) for name in binaries}
    missing = sorted(name for name, path in found.items() if path is None)
    if missing:
        reason = (
            f"{', '.join(missing)} not found on PATH "
            "(apt-get install prometheus prometheus-pushgateway)"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return {name: path for name, path in found.items() if path is not None}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def http_get(url: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


class Server:
    """A server process started on 127.0.0.1:``port``, its output in ``log_path``."""

    def __init__(self, args: Sequence[str], port: int, log_path: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.url} exited early; log:\n{self.log()}")
            try:
                if http_get(self.url + "/-/ready", 1.0)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.url} not ready within {timeout_s} s; log:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self._log.close()


def start_pushgateway(binary: str, tmp: Path) -> Server:
    port = free_port()
    # Debian's build persists to /var/lib/prometheus/pushgateway.data unless told otherwise.
    server = Server(
        [
            binary,
            f"--web.listen-address=127.0.0.1:{port}",
            f"--persistence.file={tmp / 'pushgateway.data'}",
        ],
        port,
        tmp / "pushgateway.log",
    )
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


class Prometheus(Server):
    """A Prometheus scraping ``targets`` (job name -> (host:port, honor_labels))."""

    def __init__(
        self,
        binary: str,
        tmp: Path,
        targets: dict[str, tuple[str, bool]],
        scrape_interval_s: float = 0.5,
    ) -> None:
        interval_ms = round(scrape_interval_s * 1000)
        config: dict[str, Any] = {
            "global": {
                "scrape_interval": f"{interval_ms}ms",
                "scrape_timeout": f"{interval_ms * 4 // 5}ms",
                "evaluation_interval": "1s",
            },
            "scrape_configs": [
                {
                    "job_name": job,
                    "honor_labels": honor,
                    "static_configs": [{"targets": [target]}],
                }
                for job, (target, honor) in targets.items()
            ],
        }
        self.jobs = list(targets)
        config_path = tmp / "prometheus.yml"
        config_path.write_text(json.dumps(config, indent=2))  # JSON is YAML
        port = free_port()
        super().__init__(
            [
                binary,
                f"--config.file={config_path}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            port,
            tmp / "prometheus.log",
        )

    def wait_targets(self, timeout_s: float = 30.0) -> None:
        """Wait until every configured job is an active target.

        Prometheus hands static targets to its scrapers only after its discovery manager's
        first update (up to 5 s after start); before that nothing is scraped.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            answer = json.loads(http_get(self.url + "/api/v1/targets")[1])
            jobs = {t["labels"]["job"] for t in answer["data"]["activeTargets"]}
            if jobs >= set(self.jobs):
                return
            time.sleep(0.2)
        raise TimeoutError(f"targets {self.jobs} not active within {timeout_s} s:\n{self.log()}")

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Return the result vector of an instant query."""
        status, body = http_get(
            self.url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        )
        answer = json.loads(body)
        if status != 200 or answer.get("status") != "success":
            raise RuntimeError(f"query {promql!r} failed ({status}): {answer}")
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def wait_for(
        self,
        promql: str,
        accept: Callable[[list[dict[str, Any]]], bool],
        timeout_s: float = 20.0,
    ) -> list[dict[str, Any]]:
        """Query until ``accept(result)``; return that result (TimeoutError otherwise)."""
        deadline = time.monotonic() + timeout_s
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            result = self.query(promql)
            if accept(result):
                return result
            time.sleep(0.2)
        raise TimeoutError(f"{promql!r} never matched; last result {result}; log:\n{self.log()}")


def start_prometheus(
    binary: str, tmp: Path, targets: dict[str, tuple[str, bool]], scrape_interval_s: float = 0.5
) -> Prometheus:
    server = Prometheus(binary, tmp, targets, scrape_interval_s)
    try:
        server.wait_ready()
        server.wait_targets()
    except BaseException:
        server.stop()
        raise
    return server


def values(result: list[dict[str, Any]]) -> list[float]:
    """Return the sample values of an instant-query result."""
    return [float(item["value"][1]) for item in result]
