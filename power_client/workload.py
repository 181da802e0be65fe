"""What the power client runs in each phase: the :class:`Workload` Protocol and its result.

The client runs one workload twice (ranging, then testing) while the director measures; after
each run it needs the LoadGen detail log whose performance window lies inside the phase::

    with SutWorkload("null", "Offline") as workload:
        run = workload.run("ranging", out_dir / "ranging", progress=None)
        info = run.loadgen_run(phase_begin_ns, phase_end_ns)

Implementations, one per module: :class:`~power_client.sut_workload.SutWorkload` (our LoadGen
and a SUT from :mod:`suts`, in process) and
:class:`~power_client.command_workload.CommandWorkload` (any command that writes LoadGen logs).

Errors: :class:`~power_client.errors.WorkloadError` (the workload failed),
:class:`~power_client.errors.LoadgenLogError` (no detail log for the phase).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from power_client.loadgen_run import LoadgenRunInfo, find_detail_log

__all__ = ["ProgressSink", "Workload", "WorkloadRun"]


class ProgressSink(Protocol):
    """Receiver of live progress, called about twice a second from a helper thread.

    ``issued``/``completed`` count samples of the current LoadGen pass, or are None when the
    workload cannot tell (a command). ``elapsed_s`` is seconds since the run started.
    """

    def __call__(
        self, phase: str, issued: int | None, completed: int | None, elapsed_s: float, /
    ) -> None:
        """Show or record progress."""


@dataclass(frozen=True)
class WorkloadRun:
    """One finished run of a workload.

    ``begin_wall_ns``/``end_wall_ns`` bracket the whole run (UTC wall clock, ns since the
    epoch). ``search_paths`` are where its LoadGen logs may be. ``info`` is the run's LoadGen
    log when the workload knows it (in-process runs); for commands it is None and the caller
    uses :meth:`loadgen_run`.
    """

    phase: str
    exit_status: int
    log_dir: Path
    search_paths: tuple[Path, ...]
    begin_wall_ns: int
    end_wall_ns: int
    info: LoadgenRunInfo | None = None

    def loadgen_run(self, phase_begin_ns: int, phase_end_ns: int) -> LoadgenRunInfo:
        """Return the detail log under ``search_paths`` whose window lies inside the phase.

        Raises:
            LoadgenLogError: none does (the message lists the files and their windows).
        """
        return find_detail_log(self.search_paths, phase_begin_ns, phase_end_ns, phase=self.phase)


class Workload(Protocol):
    """Something that runs LoadGen once per call and leaves its logs in a folder."""

    def describe(self) -> dict[str, Any]:
        """Return what runs, for ``result.json`` (JSON-serialisable)."""
        ...

    def run(self, phase: str, out_dir: Path, progress: ProgressSink | None = None) -> WorkloadRun:
        """Run once for ``phase``, writing into ``out_dir`` (created if needed).

        Raises:
            WorkloadError: the workload failed (names the phase and what failed).
            KeyboardInterrupt: after the run was stopped and cleaned up.
        """
        ...

    def close(self) -> None:
        """Release what the runs kept open (a loaded model); idempotent."""
        ...
