"""Test helpers for the director service: a fake engine, a minimal synchronous client, polling."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from power_director.auth import Secret, client_proof, new_nonce, verify_director
from power_director.protocol import (
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Err,
    Fetch,
    FileHeader,
    Hello,
    Message,
    MessageStream,
    Ok,
    ServerHello,
)

M = TypeVar("M", bound=Message)

SECRET = Secret(b"correct horse battery staple 0123456789", "test")


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll ``condition`` every 20 ms; fail the test if it is not true within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


@dataclass(frozen=True)
class FakePhaseSummary:
    phase: str
    mark: str
    samples: int
    invalid_samples: int = 0
    gaps: int = 0
    max_gap_s: float = 0.0
    avg_watts: float = 100.0
    energy_joules: float = 250.0
    ranges_chosen: dict[str, tuple[float, float]] = field(default_factory=dict)
    uncertainty_ok: bool = True
    over_range_count: int = 0
    valid: bool = True
    reasons: tuple[str, ...] = ()
    nan_field: float = float("nan")


class FakeEngine:
    """Same methods as MeasurementEngine; records calls and writes small files."""

    def __init__(self, meters: list[tuple[str, Any]], data_dir: Path, *, fail_start: bool = False):
        self.meters = meters
        self.data_dir = data_dir
        self.calls: list[tuple[Any, ...]] = []
        self.phase: tuple[str, str] | None = None
        self.restored = 0
        self.closed = False
        self.fail_start = fail_start
        (data_dir / "power").mkdir(exist_ok=True)

    def start_phase(self, phase: str, mark: str, *, auto_range: bool, manual_ranges: Any = None):
        self.calls.append(("start_phase", phase, mark, auto_range, manual_ranges))
        if self.fail_start:
            from power_director.errors import MeterError

            raise MeterError("meter wt310e went silent")
        assert self.phase is None
        self.phase = (phase, mark)
        folder = self.data_dir / phase
        folder.mkdir(exist_ok=True)
        (folder / "spl.txt").write_text(f"Time,01-01-2024 00:00:00.000,Watts,100.0,Mark,{mark}\n")

    def stop_phase(self) -> FakePhaseSummary:
        self.calls.append(("stop_phase",))
        assert self.phase is not None
        phase, mark = self.phase
        self.phase = None
        ranges = {"wt310e": (300.0, 1.0)} if phase == "ranging" else {}
        return FakePhaseSummary(phase, mark, samples=42, ranges_chosen=ranges)

    def files(self) -> list[Path]:
        return sorted(p for p in self.data_dir.rglob("*") if p.is_file())

    def restore_initial_ranges(self) -> None:
        self.calls.append(("restore_initial_ranges",))
        self.restored += 1

    def close(self) -> None:
        self.calls.append(("close",))
        self.closed = True


class FakeEngineFactory:
    def __init__(self, **kwargs: Any) -> None:
        self.engines: list[FakeEngine] = []
        self.kwargs = kwargs

    def __call__(self, folder: Path) -> FakeEngine:
        engine = FakeEngine([("wt310e", None)], folder, **self.kwargs)
        self.engines.append(engine)
        return engine


class DirectorConnection:
    """A minimal synchronous client for tests (the real one lives in power_client)."""

    def __init__(
        self,
        address: tuple[str, int],
        secret: Secret | None = SECRET,
        *,
        timeout: float = 5.0,
        version: int = PROTOCOL_VERSION,
    ) -> None:
        sock = socket.create_connection(address, timeout=timeout)
        self.stream = MessageStream(sock)
        self.version = version
        try:
            self.server_hello = self.stream.expect(ServerHello)
            if secret is not None:
                self.handshake(secret)
        except BaseException:
            self.stream.close()
            raise

    def handshake(self, secret: Secret) -> None:
        self.stream.request(Hello(self.version, "tests"), Ok)
        client_nonce = new_nonce()
        mac = client_proof(secret, self.server_hello.nonce, client_nonce)
        reply = self.stream.request(Auth(client_nonce, mac), AuthOk)
        verify_director(secret, self.server_hello.nonce, client_nonce, reply.mac)

    def call(self, message: Message) -> Message:
        """Send and return whatever comes back (Err included)."""
        self.stream.send(message)
        return self.stream.receive()

    def request(self, message: Message, reply: type[M]) -> M:
        return self.stream.request(message, reply)

    def error(self, message: Message) -> Err:
        reply = self.call(message)
        assert isinstance(reply, Err), reply
        return reply

    def fetch(self, path: str) -> bytes:
        header = self.request(Fetch(path), FileHeader)
        buffer = io.BytesIO()
        self.stream.receive_file(header, buffer)
        return buffer.getvalue()

    def is_closed_by_peer(self) -> bool:
        try:
            return self.stream.sock.recv(1) == b""
        except OSError:
            return True

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> DirectorConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
