"""One measurement session: its state machine, its folder on disk, its phases and files.

States and the requests that move between them (``TRANSITIONS``; anything else raises
:class:`~power_director.errors.SessionStateError` naming the state and the request)::

    IDLE --new_session--> SESSION_OPEN --start_ranging--> RANGING --stop_ranging--> RANGED
    RANGED --start_testing--> TESTING --stop_testing--> TESTED --done--> DONE
    SESSION_OPEN --start_testing (manual ranges only)--> TESTING
    any open state --abort (or client disconnect)--> ABORTED
    DONE | ABORTED --cleanup--> CLEANED

``summary`` and ``fetch`` leave the state as it is and are allowed where the table lists them.
Each session owns ``<data_dir>/<UTC timestamp>_<sanitised label>/``; it keeps ``session.log``
(its events) and, once finished, ``summary.json``, next to the measurement engine's files.
Sessions stay on disk unless cleaned up.

Errors: :class:`~power_director.errors.SessionStateError` (illegal transition),
:class:`FileAccessError` (fetch of a file outside the session or absent).
"""

from __future__ import annotations

import enum
import json
import logging
import re
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from power_director.errors import FileAccessError, SessionStateError
from power_director.protocol import Phase, SessionSummary, to_jsonable
from power_director.ranging import RangeSetting

__all__ = [
    "TRANSITIONS",
    "Engine",
    "EngineFactory",
    "FileAccessError",
    "MeasurementSession",
    "Request",
    "SessionState",
    "create_session",
    "next_state",
    "sanitize_label",
]

log = logging.getLogger(__name__)

MARK_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_LABEL_CHARS = 64


class SessionState(enum.Enum):
    """Where a session is in its life."""

    IDLE = "idle"  # no session yet
    SESSION_OPEN = "session_open"  # created, no phase run
    RANGING = "ranging"  # ranging phase sampling (meters on auto range)
    RANGED = "ranged"  # ranging stopped; fixed ranges chosen
    TESTING = "testing"  # testing phase sampling (fixed ranges)
    TESTED = "tested"  # testing stopped
    DONE = "done"  # closed normally; ranges restored; files final
    ABORTED = "aborted"  # ended early (abort request, client gone, engine failure)
    CLEANED = "cleaned"  # folder deleted


class Request(enum.Enum):
    """The requests the state machine judges."""

    NEW_SESSION = "new_session"
    START_RANGING = "start_ranging"
    STOP_RANGING = "stop_ranging"
    START_TESTING = "start_testing"
    STOP_TESTING = "stop_testing"
    SUMMARY = "summary"
    FETCH = "fetch"
    DONE = "done"
    ABORT = "abort"
    CLEANUP = "cleanup"


S, R = SessionState, Request
_OPEN_STATES = (S.SESSION_OPEN, S.RANGING, S.RANGED, S.TESTING, S.TESTED)

#: (state, request) -> next state. A pair absent from the table is an illegal request.
TRANSITIONS: Mapping[tuple[SessionState, Request], SessionState] = {
    (S.IDLE, R.NEW_SESSION): S.SESSION_OPEN,
    (S.SESSION_OPEN, R.START_RANGING): S.RANGING,
    (S.SESSION_OPEN, R.START_TESTING): S.TESTING,  # only with manual ranges (server checks)
    (S.RANGING, R.STOP_RANGING): S.RANGED,
    (S.RANGED, R.START_TESTING): S.TESTING,
    (S.TESTING, R.STOP_TESTING): S.TESTED,
    (S.TESTED, R.DONE): S.DONE,
    **{(s, R.ABORT): S.ABORTED for s in _OPEN_STATES},
    (S.DONE, R.CLEANUP): S.CLEANED,
    (S.ABORTED, R.CLEANUP): S.CLEANED,
    **{(s, R.SUMMARY): s for s in (*_OPEN_STATES, S.DONE, S.ABORTED, S.CLEANED)},
    **{(s, R.FETCH): s for s in (S.SESSION_OPEN, S.RANGED, S.TESTED, S.DONE, S.ABORTED)},
}
del S, R


def next_state(state: SessionState, request: Request) -> SessionState:
    """Return the state after ``request`` in ``state``.

    Raises:
        SessionStateError: the request is not allowed in ``state``; the message names both
            and lists what is allowed.
    """
    try:
        return TRANSITIONS[(state, request)]
    except KeyError:
        allowed = sorted(r.value for (s, r) in TRANSITIONS if s is state)
        raise SessionStateError(
            f"{request.value} is not allowed in session state {state.value}"
            f" (allowed: {', '.join(allowed) or 'nothing'})"
        ) from None


class Engine(Protocol):
    """What a session needs of :class:`power_director.measurement.MeasurementEngine`."""

    def start_phase(
        self, phase: str, mark: str, *, auto_range: bool, manual_ranges: Any = None
    ) -> None:
        """Start sampling ``phase`` tagged ``mark``."""

    def stop_phase(self) -> Any:
        """Stop sampling; return the phase summary (a dataclass)."""

    def files(self) -> list[Path]:
        """Return the session files it wrote."""

    def restore_initial_ranges(self) -> None:
        """Put the meters back on the ranges they had before the session."""

    def close(self) -> None:
        """Stop everything and flush the files (the meters stay open)."""


#: Builds the engine of one session, given the session folder.
EngineFactory = Callable[[Path], Engine]


def sanitize_label(label: str) -> str:
    """Return ``label`` reduced to ``[A-Za-z0-9_-]`` (others become ``_``), at most 64 chars."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", label).strip("_")[:MAX_LABEL_CHARS]
    return cleaned or "session"


@dataclass(frozen=True)
class PhaseRecord:
    """One phase's boundaries (director clocks, ns) and its engine summary."""

    phase: str
    mark: str
    start_wall_ns: int
    start_mono_ns: int
    stop_wall_ns: int | None = None
    stop_mono_ns: int | None = None
    summary: Mapping[str, Any] | None = None


class MeasurementSession:
    """A session's state, engine and folder. Not thread-safe: one connection drives it.

    Args:
        session_id: the folder name, ``<UTC timestamp>_<label>``.
        label: the sanitised label.
        folder: the session folder (exists).
        engine: the session's measurement engine.
        wall_ns: UTC wall clock, ns.
        mono_ns: monotonic clock, ns.
        meter_names: names the engine knows the meters by (for manual ranges).
    """

    def __init__(
        self,
        session_id: str,
        label: str,
        folder: Path,
        engine: Engine,
        *,
        wall_ns: Callable[[], int] = time.time_ns,
        mono_ns: Callable[[], int] = time.monotonic_ns,
        meter_names: Sequence[str] = (),
    ) -> None:
        self.session_id = session_id
        self.label = label
        self.folder = folder
        self.engine = engine
        self.state = SessionState.SESSION_OPEN
        self.phases: list[PhaseRecord] = []
        self.reason = ""
        self._wall_ns = wall_ns
        self._mono_ns = mono_ns
        self._meter_names = tuple(meter_names)
        self._engine_closed = False
        self._event("session.new id=%s label=%s", session_id, label)

    @property
    def active(self) -> bool:
        """Return whether the session still holds the meters (not done, aborted, cleaned)."""
        return self.state in _OPEN_STATES

    @property
    def running_phase(self) -> str | None:
        """Return the phase being sampled, if any."""
        if self.state is SessionState.RANGING:
            return "ranging"
        if self.state is SessionState.TESTING:
            return "testing"
        return None

    def check(self, request: Request) -> SessionState:
        """Return the state ``request`` would lead to (raises SessionStateError)."""
        return next_state(self.state, request)

    def start_phase(
        self,
        phase: Phase,
        mark: str = "",
        *,
        volts_range: float | None = None,
        amps_range: float | None = None,
    ) -> PhaseRecord:
        """Start sampling ``phase``; return its start times.

        Raises:
            SessionStateError: not allowed now (testing without ranging needs manual ranges).
            ValueError: a malformed mark or range.
            PowerDirectorError: the engine failed to start (the state does not change).
        """
        request = Request.START_RANGING if phase == "ranging" else Request.START_TESTING
        target = self.check(request)
        manual = volts_range is not None or amps_range is not None
        if phase == "ranging" and manual:
            raise ValueError("manual ranges apply to the testing phase only")
        if any(v is not None and not v > 0 for v in (volts_range, amps_range)):
            raise ValueError("manual ranges must be > 0")
        opening = self.state is SessionState.SESSION_OPEN
        if opening and phase == "testing" and (volts_range is None or amps_range is None):
            raise SessionStateError(
                "start_testing in session state session_open needs manual ranges "
                "(volts_range and amps_range); run the ranging phase first otherwise"
            )
        mark = mark or f"{self.session_id}_{phase}"
        if not MARK_RE.fullmatch(mark):
            raise ValueError(f"mark {mark!r} must be 1-64 characters of [A-Za-z0-9_.-]")
        manual_ranges = (
            {name: RangeSetting(volts_range, amps_range) for name in self._meter_names}
            if manual
            else None
        )
        self.engine.start_phase(
            phase, mark, auto_range=phase == "ranging", manual_ranges=manual_ranges
        )
        record = PhaseRecord(phase, mark, self._wall_ns(), self._mono_ns())
        self.phases.append(record)
        self.state = target
        self._event(
            "phase.start name=%s session=%s mark=%s t_wall=%.6f",
            phase,
            self.session_id,
            mark,
            record.start_wall_ns / 1e9,
        )
        return record

    def stop_phase(self, phase: Phase) -> PhaseRecord:
        """Stop the running ``phase``; return its record with the engine's summary.

        Raises:
            SessionStateError: ``phase`` is not running.
            PowerDirectorError: the engine failed (the session is then aborted).
        """
        request = Request.STOP_RANGING if phase == "ranging" else Request.STOP_TESTING
        target = self.check(request)
        try:
            summary = self.engine.stop_phase()
        except Exception as exc:
            self.abort(f"stopping the {phase} phase failed: {exc}", stop_engine_phase=False)
            raise
        record = self.phases[-1]
        record = PhaseRecord(
            record.phase,
            record.mark,
            record.start_wall_ns,
            record.start_mono_ns,
            self._wall_ns(),
            self._mono_ns(),
            _as_mapping(summary),
        )
        self.phases[-1] = record
        self.state = target
        self._event(
            "phase.stop name=%s session=%s mark=%s t_wall=%.6f",
            phase,
            self.session_id,
            record.mark,
            (record.stop_wall_ns or 0) / 1e9,
        )
        return record

    def done(self) -> SessionSummary:
        """Finish a tested session: restore ranges, close the engine, write summary.json."""
        target = self.check(Request.DONE)
        try:
            self.engine.restore_initial_ranges()
        finally:
            self._close_engine()
        self.state = target
        self._event("session.done id=%s", self.session_id)
        return self._write_summary()

    def abort(self, reason: str, *, stop_engine_phase: bool = True) -> SessionSummary:
        """End the session early: stop a running phase, restore ranges, write summary.json.

        Never raises for engine failures (they are logged): aborting must always finish.
        """
        target = self.check(Request.ABORT)
        if self.running_phase is not None and stop_engine_phase:
            try:
                summary = self.engine.stop_phase()
                last = self.phases[-1]
                self.phases[-1] = PhaseRecord(
                    last.phase,
                    last.mark,
                    last.start_wall_ns,
                    last.start_mono_ns,
                    self._wall_ns(),
                    self._mono_ns(),
                    _as_mapping(summary),
                )
            except Exception:
                log.exception("session %s: stopping the phase on abort failed", self.session_id)
        try:
            self.engine.restore_initial_ranges()
        except Exception:
            log.exception("session %s: restoring the initial ranges failed", self.session_id)
        try:
            self._close_engine()
        except Exception:
            log.exception("session %s: closing the engine failed", self.session_id)
        self.state = target
        self.reason = reason
        self._event(
            "session.aborted id=%s reason=%s", self.session_id, reason, level=logging.WARNING
        )
        return self._write_summary()

    def cleanup(self) -> None:
        """Delete the session folder (done or aborted sessions only)."""
        target = self.check(Request.CLEANUP)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.state = target
        log.info("session.cleanup id=%s folder=%s", self.session_id, self.folder)

    def summary(self) -> SessionSummary:
        """Return the session summary (state, phases, files)."""
        self.check(Request.SUMMARY)
        return self._summary()

    def resolve_file(self, relpath: str) -> Path:
        """Return the session file named ``relpath`` (relative to the session folder).

        Raises:
            SessionStateError: fetching is not allowed now (a phase is running).
            FileAccessError: ``forbidden`` for absolute paths, ``..``, or anything (symlinks
                included) resolving outside the folder; ``not_found`` for absent or
                non-regular files.
        """
        self.check(Request.FETCH)
        pure = PurePosixPath(relpath)
        if not relpath or "\\" in relpath or "\x00" in relpath:
            raise FileAccessError("forbidden", f"path {relpath!r} is not a relative POSIX path")
        if pure.is_absolute() or ".." in pure.parts:
            raise FileAccessError(
                "forbidden", f"path {relpath!r} must be relative to the session, without '..'"
            )
        root = self.folder.resolve()
        candidate = root.joinpath(*pure.parts)
        resolved = candidate.resolve()
        if not resolved.is_relative_to(root):
            raise FileAccessError("forbidden", f"path {relpath!r} leads outside the session folder")
        if not resolved.is_file():
            raise FileAccessError("not_found", f"no file {relpath!r} in session {self.session_id}")
        return resolved

    def list_files(self) -> list[dict[str, Any]]:
        """Return ``{"path", "size"}`` for each regular file of the session (not symlinks)."""
        if not self.folder.is_dir():
            return []
        out = []
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                out.append(
                    {"path": path.relative_to(self.folder).as_posix(), "size": path.stat().st_size}
                )
        return out

    def _summary(self) -> SessionSummary:
        phases = tuple(to_jsonable(_phase_dict(p)) for p in self.phases)
        return SessionSummary(
            self.session_id,
            self.label,
            self.state.value,
            phases,
            tuple(self.list_files()),
            self.reason,
        )

    def _write_summary(self) -> SessionSummary:
        path = self.folder / "summary.json"
        body = to_jsonable(self._summary())
        path.write_text(json.dumps(body, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        return self._summary()

    def _close_engine(self) -> None:
        if not self._engine_closed:
            self._engine_closed = True
            self.engine.close()

    def _event(self, fmt: str, *args: Any, level: int = logging.INFO) -> None:
        log.log(level, fmt, *args)
        stamp = datetime.fromtimestamp(self._wall_ns() / 1e9, tz=timezone.utc)
        when = stamp.isoformat(timespec="microseconds")
        line = f"{when} {logging.getLevelName(level)} {fmt % args}\n"
        try:
            with (self.folder / "session.log").open("a", encoding="utf-8") as f:
                f.write(line)
        except OSError as exc:
            log.error("session %s: cannot write session.log: %s", self.session_id, exc)


def _as_mapping(summary: Any) -> Mapping[str, Any]:
    data = to_jsonable(summary)
    return data if isinstance(data, dict) else {"value": data}


def _phase_dict(record: PhaseRecord) -> dict[str, Any]:
    return {
        "phase": record.phase,
        "mark": record.mark,
        "start_wall_ns": record.start_wall_ns,
        "start_mono_ns": record.start_mono_ns,
        "stop_wall_ns": record.stop_wall_ns,
        "stop_mono_ns": record.stop_mono_ns,
        "summary": record.summary,
    }


def create_session(
    data_dir: Path,
    label: str,
    engine_factory: EngineFactory,
    *,
    wall_ns: Callable[[], int] = time.time_ns,
    mono_ns: Callable[[], int] = time.monotonic_ns,
    meter_names: Sequence[str] = (),
) -> MeasurementSession:
    """Create the session folder ``<data_dir>/<UTC timestamp>_<label>`` and its engine.

    Raises:
        OSError: the folder cannot be created.
        Exception: whatever ``engine_factory`` raises (the empty folder is removed).
    """
    clean = sanitize_label(label)
    stamp = datetime.fromtimestamp(wall_ns() / 1e9, tz=timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    data_dir.mkdir(parents=True, exist_ok=True)
    base = f"{stamp}_{clean}"
    session_id, n = base, 1
    while True:
        folder = data_dir / session_id
        try:
            folder.mkdir()
            break
        except FileExistsError:
            n += 1
            session_id = f"{base}_{n}"
    try:
        engine = engine_factory(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return MeasurementSession(
        session_id,
        clean,
        folder,
        engine,
        wall_ns=wall_ns,
        mono_ns=mono_ns,
        meter_names=meter_names,
    )
