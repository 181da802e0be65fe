"""Run any command that writes MLPerf LoadGen logs (ours or an official ``mlperf_loadgen`` harness).

The command runs once per phase, never through a shell, with:

* working folder: the phase's output folder, or the ``cwd`` given (shared by both phases);
* environment: the client's, plus ``extra_env``, ``WATTBENCH_PHASE`` (``ranging``/``testing``)
  and ``WATTBENCH_OUTPUT_DIR`` (the phase's output folder, absolute; a harness may write its
  LoadGen logs there);
* stdout and stderr merged and copied to ``<out_dir>/workload.log`` and to this module's
  logger at INFO.

A relative program path (``./harness.sh``) is resolved against the client's working folder
before the command starts; other relative arguments are relative to the command's working
folder. After the run the caller looks for the detail log with
:meth:`~power_client.workload.WorkloadRun.loadgen_run` (output folder, then ``cwd``)::

    workload = CommandWorkload(["python", "/opt/harness/main.py", "--scenario", "Offline"])
    run = workload.run("testing", out / "testing")
    info = run.loadgen_run(phase_begin_ns, phase_end_ns)

Errors: :class:`~power_client.errors.WorkloadError` for a program that cannot be started
(naming it), a missing ``cwd``, and an exit status outside ``ok_exit_codes`` (with the status
and the last lines of output). Ctrl-C sends SIGINT to the command, waits up to
``interrupt_grace_s`` (then kills it) and re-raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import collections
import logging
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from power_client.errors import WorkloadError
from power_client.workload import ProgressSink, WorkloadRun

log = logging.getLogger(__name__)

PHASE_ENV = "WATTBENCH_PHASE"
OUTPUT_DIR_ENV = "WATTBENCH_OUTPUT_DIR"
LOG_NAME = "workload.log"
_DRAIN_S = 5.0  # how long to wait for the output pipe to close after the command exited


class CommandWorkload:
    """A command run once per phase.

    Args:
        command: argv list, or a string split with :func:`shlex.split`.
        cwd: working folder for every phase (must exist); None: each phase's output folder.
        extra_env: variables added to the client's environment.
        ok_exit_codes: exit statuses that count as success (``wattbench bench`` exits 3 for
            an INVALID run; add 3 to accept those).
        tail_lines: how many output lines a :class:`WorkloadError` quotes.
        progress_interval_s: how often the progress sink is called.
        interrupt_grace_s: after Ctrl-C, how long the command may take to exit before it is
            killed.

    Raises:
        WorkloadError: the command is empty.
    """

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        cwd: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
        ok_exit_codes: Collection[int] = (0,),
        tail_lines: int = 20,
        progress_interval_s: float = 0.5,
        interrupt_grace_s: float = 10.0,
    ) -> None:
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise WorkloadError("the workload command is empty")
        self.argv = argv
        self.cwd = cwd
        self.extra_env = dict(extra_env or {})
        self.ok_exit_codes = frozenset(ok_exit_codes)
        self._tail_lines = tail_lines
        self._progress_interval_s = progress_interval_s
        self._interrupt_grace_s = interrupt_grace_s

    def describe(self) -> dict[str, Any]:
        """Return the command line, working folder and added environment."""
        return {
            "kind": "command",
            "command": list(self.argv),
            "command_line": shlex.join(self.argv),
            "cwd": None if self.cwd is None else str(self.cwd),
            "extra_env": dict(self.extra_env),
        }

    def run(self, phase: str, out_dir: Path, progress: ProgressSink | None = None) -> WorkloadRun:
        """Run the command for ``phase``; its output goes to ``<out_dir>/workload.log``.

        Raises:
            WorkloadError: it cannot start, or exits with a status outside ``ok_exit_codes``.
            KeyboardInterrupt: after the command was stopped.
        """
        out_dir = out_dir.absolute()
        out_dir.mkdir(parents=True, exist_ok=True)
        cwd = out_dir if self.cwd is None else self.cwd.absolute()
        if not cwd.is_dir():
            raise WorkloadError(f"{phase} phase: working folder {cwd} does not exist")
        argv = [_resolve_program(self.argv[0]), *self.argv[1:]]
        env = {**os.environ, **self.extra_env, PHASE_ENV: phase, OUTPUT_DIR_ENV: str(out_dir)}
        log_path = out_dir / LOG_NAME
        log.info("%s phase: running %s in %s", phase, shlex.join(argv), cwd)
        log_file = log_path.open("w", encoding="utf-8")
        begin_ns = time.time_ns()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        except OSError as e:
            log_file.close()
            raise WorkloadError(
                f"{phase} phase: cannot start {argv[0]!r}: {e.strerror or e} "
                f"(is it installed and on PATH, and executable?)"
            ) from e
        assert proc.stdout is not None
        tee = _Tee(proc.stdout, log_file, phase, self._tail_lines)
        tee.start()
        try:
            status = self._wait(proc, phase, progress)
        except KeyboardInterrupt:
            self._stop(proc, phase)
            raise
        finally:
            end_ns = time.time_ns()
            tee.join(_DRAIN_S)
            if tee.is_alive():
                log.warning(
                    "%s phase: the output of %s is still open after it exited "
                    "(a background process?); not waiting for it",
                    phase,
                    argv[0],
                )
        if status not in self.ok_exit_codes:
            tail = (
                "; last lines:\n" + "\n".join(f"  {x}" for x in tee.tail)
                if tee.tail
                else "; it printed nothing"
            )
            raise WorkloadError(
                f"{phase} phase: {shlex.join(argv)} {_describe_status(status)} "
                f"(output in {log_path}){tail}"
            )
        paths = (out_dir,) if cwd == out_dir else (out_dir, cwd)
        return WorkloadRun(
            phase=phase,
            exit_status=status,
            log_dir=out_dir,
            search_paths=paths,
            begin_wall_ns=begin_ns,
            end_wall_ns=end_ns,
        )

    def close(self) -> None:
        """Nothing stays open between runs."""

    def _wait(self, proc: subprocess.Popen[bytes], phase: str, sink: ProgressSink | None) -> int:
        start_s = time.monotonic()
        while True:
            try:
                return proc.wait(timeout=self._progress_interval_s)
            except subprocess.TimeoutExpired:
                if sink is None:
                    continue
                try:
                    sink(phase, None, None, time.monotonic() - start_s)
                except Exception:
                    log.exception("progress sink %r failed", sink)

    def _stop(self, proc: subprocess.Popen[bytes], phase: str) -> None:
        log.warning("%s phase interrupted; stopping %s (pid %d)", phase, self.argv[0], proc.pid)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # lets a LoadGen harness flush its logs
            try:
                proc.wait(timeout=self._interrupt_grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class _Tee(threading.Thread):
    """Copies output lines to ``sink`` and the logger, keeps the last few; closes both ends."""

    def __init__(self, source: IO[bytes], sink: IO[str], phase: str, tail_lines: int) -> None:
        super().__init__(name=f"workload-output-{phase}", daemon=True)
        self._source, self._file, self._phase = source, sink, phase
        self.tail: collections.deque[str] = collections.deque(maxlen=tail_lines)

    def run(self) -> None:
        with self._source, self._file:
            for raw in self._source:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                self._file.write(line + "\n")
                self._file.flush()
                self.tail.append(line)
                log.info("[%s] %s", self._phase, line)


def _resolve_program(program: str) -> str:
    if os.sep in program and not os.path.isabs(program):
        return os.path.abspath(program)
    return program


def _describe_status(status: int) -> str:
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        return f"was killed by {name}"
    return f"exited with status {status}"
