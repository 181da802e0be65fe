from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from director_helpers import FakeEngineFactory

from power_director.errors import MeterError, SessionStateError
from power_director.ranging import RangeSetting
from power_director.session import (
    TRANSITIONS,
    FileAccessError,
    MeasurementSession,
    Request,
    SessionState,
    create_session,
    next_state,
    sanitize_label,
)

ILLEGAL = [(s, r) for s in SessionState for r in Request if (s, r) not in TRANSITIONS]
WALL = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z


@pytest.mark.parametrize(("state", "request_"), ILLEGAL, ids=lambda x: x.value)
def test_every_illegal_transition_raises_naming_state_and_request(
    state: SessionState, request_: Request
) -> None:
    with pytest.raises(SessionStateError) as info:
        next_state(state, request_)
    assert request_.value in str(info.value) and state.value in str(info.value)


def test_the_happy_path_and_abort_paths() -> None:
    path = [
        (SessionState.IDLE, Request.NEW_SESSION, SessionState.SESSION_OPEN),
        (SessionState.SESSION_OPEN, Request.START_RANGING, SessionState.RANGING),
        (SessionState.RANGING, Request.STOP_RANGING, SessionState.RANGED),
        (SessionState.RANGED, Request.START_TESTING, SessionState.TESTING),
        (SessionState.TESTING, Request.STOP_TESTING, SessionState.TESTED),
        (SessionState.TESTED, Request.DONE, SessionState.DONE),
        (SessionState.DONE, Request.CLEANUP, SessionState.CLEANED),
    ]
    for state, request, target in path:
        assert next_state(state, request) is target
    for state in (SessionState.RANGING, SessionState.TESTING, SessionState.RANGED):
        assert next_state(state, Request.ABORT) is SessionState.ABORTED
    assert next_state(SessionState.TESTING, Request.SUMMARY) is SessionState.TESTING
    assert len(ILLEGAL) > 60  # the table is strict


@pytest.mark.parametrize(
    ("label", "clean"),
    [
        ("resnet50 offline", "resnet50_offline"),
        ("../../etc", "etc"),
        ("", "session"),
        ("a/b\\c:d", "a_b_c_d"),
        ("x" * 100, "x" * 64),
        ("ok-name_1", "ok-name_1"),
    ],
)
def test_sanitize_label(label: str, clean: str) -> None:
    assert sanitize_label(label) == clean


@pytest.fixture
def engines() -> FakeEngineFactory:
    return FakeEngineFactory()


@pytest.fixture
def session(tmp_path: Path, engines: FakeEngineFactory) -> MeasurementSession:
    return create_session(
        tmp_path / "data", "my run/1", engines, wall_ns=lambda: WALL, meter_names=["wt310e"]
    )


def test_session_folder_is_named_by_utc_time_and_label(
    session: MeasurementSession, tmp_path: Path, engines: FakeEngineFactory
) -> None:
    assert session.session_id == "2024-01-01T00-00-00Z_my_run_1"
    assert session.folder == tmp_path / "data" / session.session_id
    again = create_session(tmp_path / "data", "my run/1", engines, wall_ns=lambda: WALL)
    assert again.session_id == "2024-01-01T00-00-00Z_my_run_1_2"


def test_failed_engine_factory_leaves_no_folder(tmp_path: Path) -> None:
    def broken(folder: Path):
        raise MeterError("meter gone")

    with pytest.raises(MeterError):
        create_session(tmp_path, "x", broken)
    assert list(tmp_path.iterdir()) == []


def test_full_session_writes_log_and_summary(
    session: MeasurementSession, engines: FakeEngineFactory
) -> None:
    session.start_phase("ranging")
    session.stop_phase("ranging")
    session.start_phase("testing", "my.mark")
    record = session.stop_phase("testing")
    assert record.summary is not None and record.summary["samples"] == 42
    assert record.summary["nan_field"] is None
    summary = session.done()
    assert summary.state == "done" and len(summary.phases) == 2
    assert summary.phases[0]["mark"] == f"{session.session_id}_ranging"
    assert summary.phases[0]["summary"]["ranges_chosen"] == {"wt310e": [300.0, 1.0]}
    engine = engines.engines[0]
    assert engine.restored == 1 and engine.closed
    assert engine.calls[0] == (
        "start_phase",
        "ranging",
        f"{session.session_id}_ranging",
        True,
        None,
    )
    assert engine.calls[2][3] is False  # testing runs on fixed ranges
    on_disk = json.loads((session.folder / "summary.json").read_text())
    assert on_disk["state"] == "done"
    log_text = (session.folder / "session.log").read_text()
    assert "phase.start name=ranging" in log_text and "phase.stop name=testing" in log_text
    paths = {f["path"] for f in session.list_files()}
    assert {"ranging/spl.txt", "testing/spl.txt", "session.log", "summary.json"} <= paths


def test_testing_without_ranging_needs_manual_ranges(
    session: MeasurementSession, engines: FakeEngineFactory
) -> None:
    with pytest.raises(SessionStateError, match="needs manual ranges"):
        session.start_phase("testing")
    with pytest.raises(SessionStateError, match="needs manual ranges"):
        session.start_phase("testing", volts_range=300.0)
    with pytest.raises(ValueError, match="> 0"):
        session.start_phase("testing", volts_range=300.0, amps_range=-1.0)
    with pytest.raises(ValueError, match="testing phase only"):
        session.start_phase("ranging", volts_range=300.0, amps_range=1.0)
    session.start_phase("testing", volts_range=300.0, amps_range=2.0)
    assert engines.engines[0].calls[-1][4] == {"wt310e": RangeSetting(300.0, 2.0)}
    assert session.state is SessionState.TESTING


@pytest.mark.parametrize("mark", ["a,b", "x" * 65, "new\nline", "é"])
def test_bad_marks_are_refused(session: MeasurementSession, mark: str) -> None:
    with pytest.raises(ValueError, match="mark"):
        session.start_phase("ranging", mark)
    assert session.state is SessionState.SESSION_OPEN


def test_engine_failure_on_start_keeps_the_state(tmp_path: Path) -> None:
    session = create_session(tmp_path, "x", FakeEngineFactory(fail_start=True))
    with pytest.raises(MeterError, match="silent"):
        session.start_phase("ranging")
    assert session.state is SessionState.SESSION_OPEN and session.phases == []


def test_abort_mid_phase_stops_it_and_restores_ranges(
    session: MeasurementSession, engines: FakeEngineFactory
) -> None:
    session.start_phase("ranging")
    summary = session.abort("client gone")
    engine = engines.engines[0]
    assert [c[0] for c in engine.calls] == [
        "start_phase",
        "stop_phase",
        "restore_initial_ranges",
        "close",
    ]
    assert summary.state == "aborted" and summary.reason == "client gone"
    assert summary.phases[0]["summary"]["samples"] == 42
    assert not session.active


def test_cleanup_removes_the_folder(session: MeasurementSession) -> None:
    with pytest.raises(SessionStateError, match="cleanup is not allowed in session state"):
        session.cleanup()
    session.abort("x")
    session.cleanup()
    assert not session.folder.exists() and session.state is SessionState.CLEANED


@pytest.fixture
def fetchable(session: MeasurementSession, tmp_path: Path) -> MeasurementSession:
    session.start_phase("ranging")
    session.stop_phase("ranging")
    (tmp_path / "outside.txt").write_text("secret")
    os.symlink(tmp_path / "outside.txt", session.folder / "escape.txt")
    os.symlink(session.folder / "ranging" / "spl.txt", session.folder / "inside.txt")
    os.symlink(tmp_path, session.folder / "up")
    return session


def test_fetch_resolves_files_inside_the_session(fetchable: MeasurementSession) -> None:
    assert fetchable.resolve_file("ranging/spl.txt").read_text().startswith("Time,")
    assert fetchable.resolve_file("inside.txt").name == "spl.txt"  # a symlink kept inside is fine
    assert "escape.txt" not in {f["path"] for f in fetchable.list_files()}


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("../outside.txt", "forbidden"),
        ("ranging/../../outside.txt", "forbidden"),
        ("/etc/passwd", "forbidden"),
        ("escape.txt", "forbidden"),
        ("up/outside.txt", "forbidden"),
        ("..\\outside.txt", "forbidden"),
        ("", "forbidden"),
        ("ranging", "not_found"),
        ("nope.txt", "not_found"),
    ],
)
def test_fetch_refuses_paths_outside_or_absent(
    fetchable: MeasurementSession, path: str, code: str
) -> None:
    with pytest.raises(FileAccessError) as info:
        fetchable.resolve_file(path)
    assert info.value.code == code


def test_fetch_is_refused_during_a_phase(session: MeasurementSession) -> None:
    session.start_phase("ranging")
    with pytest.raises(SessionStateError, match="fetch is not allowed in session state ranging"):
        session.resolve_file("ranging/spl.txt")
