"""Shared pieces of the end-to-end tests: a real director with simulated meters, the CLI."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from power_client.commands import main
from power_director.auth import Secret
from power_director.cli import engine_factory, open_meters
from power_director.config import DirectorConfig
from power_director.meters.base import PowerMeter
from power_director.server import RunningDirector, serve

SECRET_TEXT = "end-to-end test secret 0123456789abcdef"

#: The simulated WT310E on a pty: a constant 150 W (so the figures are predictable whatever
#: else loads this machine), 10 updates per second, seeded noise.
CONSTANT_METER = "sim?load=constant&watts=150&rate=100ms&seed=1"
CONSTANT_WATTS = 150.0

#: Every file a complete measured run leaves in its result folder.
FULL_FOLDER = (
    "power/client.json",
    "power/client.log",
    "power/server.json",
    "power/server.log",
    "power/ptd_logs.txt",
    *(
        f"{phase}/{name}"
        for phase in ("ranging", "run_1")
        for name in ("mlperf_log_detail.txt", "mlperf_log_summary.txt", "spl.txt")
    ),
    "raw/ranging/samples.jsonl",
    "raw/run_1/samples.jsonl",
    "result.json",
    "summary.txt",
    "report.html",
    "power.png",
)

#: The lines ``wattbench check`` prints for a good folder, in order.
CHECK_NAMES = (
    "files_power",
    "files_ranging",
    "files_run_1",
    "hashes",
    "client_complete",
    "server_agrees",
    "spl_marks",
    "mlperf_samples",
    "loadgen_valid",
    "window_in_phase_ranging",
    "window_in_phase_testing",
    "clock_offset",
    "samples_in_window",
    "max_gap",
    "invalid_samples",
    "over_range",
    "uncertainty",
    "testing_vs_ranging",
    "director_phase",
    "result_json",
)


@dataclass(frozen=True)
class Director:
    """A real director serving on loopback, and the meters it opened."""

    address: str
    running: RunningDirector
    meters: Sequence[tuple[str, PowerMeter, dict[str, Any]]]

    def session_states(self) -> dict[str, str]:
        """Return each session's state, from the ``summary.json`` in the director's folder."""
        return {
            path.parent.name: read_json(path)["state"]
            for path in self.running.config.data_dir.glob("*/summary.json")
        }


@contextlib.contextmanager
def real_director(
    specs: Sequence[str], data_dir: Path, secret: str = SECRET_TEXT
) -> Iterator[Director]:
    """Open ``specs`` as ``wattbench director`` does and serve them on 127.0.0.1."""
    opened = open_meters(list(specs))
    try:
        running = serve(
            DirectorConfig(meters=tuple(specs), listen="127.0.0.1:0", data_dir=data_dir),
            engine_factory(opened, None),
            secret=Secret(secret.encode(), "test"),
            meters_info=[info for _, _, info in opened],
            meter_names=[name for name, _, _ in opened],
        )
        try:
            host, port = running.address
            yield Director(f"{host}:{port}", running, opened)
        finally:
            running.close()
    finally:
        for _, meter, _ in opened:
            meter.close()


def write_secret(path: Path, text: str = SECRET_TEXT) -> Path:
    """Write a secret file readable only by its owner; return its path."""
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@dataclass(frozen=True)
class Outcome:
    """What one ``wattbench`` command returned and printed."""

    code: int
    out: str
    err: str

    def __repr__(self) -> str:
        # The summary's head (verdict and failed checks) and stderr, for assertion messages.
        head = "\n".join(self.out.splitlines()[:8])
        return f"Outcome(code={self.code}, out head:\n{head}\nerr: {self.err[-2000:]})"


def wattbench(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> Outcome:
    """Run ``wattbench ARGV`` in this process; return its exit code, stdout and stderr."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def missing_files(out: Path, names: Sequence[str] = FULL_FOLDER) -> list[str]:
    """Return the names (relative to ``out``) that are not non-empty files there."""
    return [n for n in names if not (out / n).is_file() or (out / n).stat().st_size == 0]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def check_lines(stdout: str) -> dict[str, bool]:
    """Parse ``wattbench check`` output (``[x] name: detail``) into name -> passed."""
    lines: dict[str, bool] = {}
    for line in stdout.splitlines():
        if line.startswith(("[x] ", "[ ] ")):
            name = line[4:].split(":", 1)[0]
            lines[name] = line.startswith("[x]")
    return lines
