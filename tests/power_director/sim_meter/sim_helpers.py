"""Helpers shared by the simulated-meter tests (imported as a plain module)."""

from __future__ import annotations

import serial


class FakeClock:
    """Monotonic clock the test moves by hand (seconds)."""

    def __init__(self, start_s: float = 1000.0) -> None:
        self.now_s = start_s

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


class Port:
    """A pyserial client on the simulator's pty slave, LF-terminated."""

    def __init__(self, path: str, timeout_s: float = 1.0, baud: int = 115200) -> None:
        self.serial = serial.Serial(path, baud, timeout=timeout_s)

    def write(self, line: str) -> None:
        self.serial.write(line.encode("ascii") + b"\n")

    def query(self, line: str) -> str:
        self.write(line)
        reply = self.serial.readline()
        assert reply.endswith(b"\n"), f"no reply to {line!r}: {reply!r}"
        return reply.decode("ascii").rstrip("\n")

    def values(self, line: str = ":NUM:NORM:VAL?") -> list[float]:
        return [float(v) for v in self.query(line).split(",")]

    def close(self) -> None:
        self.serial.close()
