"""Where every file of a result folder goes.

The folder is an MLPerf submission ``performance/`` directory plus wattbench's own files::

    DIR/result.json  summary.txt  power.png  report.html      wattbench's result and report
    DIR/power/       client.json client.log server.json server.log ptd_logs.txt
    DIR/ranging/     mlperf_log_detail.txt mlperf_log_summary.txt spl.txt
    DIR/run_1/       mlperf_log_detail.txt mlperf_log_summary.txt spl.txt
    DIR/raw/ranging/ samples.jsonl director_summary.json workload.log loadgen/...
    DIR/raw/run_1/   the same for the testing phase

``power/``, ``ranging/`` and ``run_1/`` hold exactly the files the MLPerf submission checker
requires (its file-set check is a strict symmetric difference), so they can be copied into a
submission as they are. Everything richer (the machine-readable power log with uncertainties,
the director's phase summaries, the workload's own output) lives under ``raw/``.

``power/server.json`` is the director's session ``summary.json``, ``power/server.log`` its
session log, and ``power/ptd_logs.txt`` — the name the checker requires — holds the director's
per-phase meter summaries (there is no PTDaemon).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["PHASES", "PHASE_DIRS", "REQUIRED_PHASE_FILES", "REQUIRED_POWER_FILES", "ResultLayout"]

#: Phases in run order.
PHASES: tuple[str, ...] = ("ranging", "testing")
#: Folder of each phase (power-dev's names).
PHASE_DIRS: Mapping[str, str] = {"ranging": "ranging", "testing": "run_1"}
#: The files the MLPerf submission checker requires in ``power/``.
REQUIRED_POWER_FILES: tuple[str, ...] = (
    "client.json",
    "client.log",
    "ptd_logs.txt",
    "server.json",
    "server.log",
)
#: The files it requires in ``ranging/`` and ``run_1/``.
REQUIRED_PHASE_FILES: tuple[str, ...] = (
    "mlperf_log_detail.txt",
    "mlperf_log_summary.txt",
    "spl.txt",
)
#: Optional files the checker tolerates in a phase folder.
OPTIONAL_PHASE_FILES: tuple[str, ...] = (
    "mlperf_log_accuracy.json",
    "mlperf_log_trace.json",
    "results.json",
    ".gitkeep",
)


@dataclass(frozen=True)
class ResultLayout:
    """Paths inside one result folder ``root``."""

    root: Path

    @property
    def result_json(self) -> Path:
        return self.root / "result.json"

    @property
    def summary_txt(self) -> Path:
        return self.root / "summary.txt"

    @property
    def power_dir(self) -> Path:
        return self.root / "power"

    @property
    def client_json(self) -> Path:
        return self.power_dir / "client.json"

    @property
    def client_log(self) -> Path:
        return self.power_dir / "client.log"

    def phase_dir(self, phase: str) -> Path:
        """``ranging/`` or ``run_1/``."""
        return self.root / PHASE_DIRS[phase]

    def raw_dir(self, phase: str) -> Path:
        """``raw/ranging/`` or ``raw/run_1/``."""
        return self.root / "raw" / PHASE_DIRS[phase]

    def loadgen_dir(self, phase: str) -> Path:
        """Where the phase's workload writes its LoadGen logs."""
        return self.raw_dir(phase) / "loadgen"

    def director_destination(self, relpath: str) -> Path:
        """Return where a director session file (``run_1/spl.txt``...) is stored here."""
        parts = PurePosixPath(relpath).parts
        if relpath == "session.log":
            return self.power_dir / "server.log"
        if relpath == "summary.json":
            return self.power_dir / "server.json"
        if len(parts) == 2 and parts[0] in PHASE_DIRS.values():
            folder, name = parts
            if name == "spl.txt":
                return self.root / folder / name
            if name == "summary.json":
                return self.root / "raw" / folder / "director_summary.json"
            return self.root / "raw" / folder / name
        return self.root / "raw" / "director" / Path(*parts)

    def submission_files(self) -> list[Path]:
        """Every file the MLPerf checker requires, in a stable order."""
        files = [self.power_dir / name for name in REQUIRED_POWER_FILES]
        for phase in PHASES:
            files.extend(self.phase_dir(phase) / name for name in REQUIRED_PHASE_FILES)
        return files

    def relative(self, path: Path) -> str:
        """Return ``path`` relative to the root, with ``/`` separators."""
        return path.relative_to(self.root).as_posix()
