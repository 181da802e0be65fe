from __future__ import annotations

import hashlib
import logging
import os
import socket
import time

import pytest
from director_helpers import SECRET, DirectorConnection, FakeEngineFactory

from power_director.errors import ProtocolVersionError
from power_director.protocol import (
    PROTOCOL_VERSION,
    Abort,
    Cleanup,
    DirectorInfo,
    Done,
    Err,
    Fetch,
    FileHeader,
    Hello,
    InfoRequest,
    MessageStream,
    NewSession,
    Ok,
    PhaseStarted,
    PhaseStopped,
    ServerHello,
    SessionCreated,
    SessionSummary,
    StartPhase,
    StopPhase,
    SummaryRequest,
    TimeReply,
    TimeRequest,
)


def _wait_for(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def test_full_happy_path_over_a_real_socket(director, connect, engines, caplog) -> None:
    caplog.set_level(logging.INFO, logger="power_director")
    conn = connect()
    assert conn.server_hello.protocol_version == PROTOCOL_VERSION
    info = conn.request(InfoRequest(), DirectorInfo)
    assert info.meters[0]["name"] == "wt310e"
    before = time.time_ns()
    t = conn.request(TimeRequest(), TimeReply)
    assert before <= t.wall_ns <= time.time_ns() and t.mono_ns > 0

    created = conn.request(NewSession("resnet50 offline"), SessionCreated)
    assert created.label == "resnet50_offline" and created.session_id.endswith("_resnet50_offline")
    started = conn.request(StartPhase("ranging", "r1"), PhaseStarted)
    assert started.mark == "r1" and started.wall_ns > 0
    stopped = conn.request(StopPhase("ranging"), PhaseStopped)
    assert stopped.summary["samples"] == 42 and stopped.wall_ns >= started.wall_ns
    assert stopped.summary["ranges_chosen"] == {"wt310e": [300.0, 1.0]}
    conn.request(StartPhase("testing"), PhaseStarted)
    conn.request(StopPhase("testing"), PhaseStopped)
    summary = conn.request(SummaryRequest(), SessionSummary)
    assert summary.state == "tested"
    done = conn.request(Done(), SessionSummary)
    assert done.state == "done" and [p["phase"] for p in done.phases] == ["ranging", "testing"]

    folder = director.config.data_dir / created.session_id
    for entry in done.files:
        data = conn.fetch(entry["path"])
        assert data == (folder / entry["path"]).read_bytes() and len(data) == entry["size"]
    header = conn.request(Fetch("summary.json"), FileHeader)
    body = conn.stream._reader.read(header.size)
    assert hashlib.sha256(body).hexdigest() == header.sha256
    assert engines.engines[0].restored == 1 and engines.engines[0].closed
    assert director.active_session is None
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("phase.start name=ranging") for m in messages)
    assert any(m.startswith("phase.stop name=testing") for m in messages)
    conn.request(Cleanup(), Ok)
    assert not folder.exists()


def test_second_client_gets_busy(connect) -> None:
    first, second = connect(), connect()
    first.request(NewSession("a"), SessionCreated)
    err = second.error(NewSession("b"))
    assert err.code == "busy" and "one session at a time" in err.message
    assert "_a" in err.message
    # The second client is still served otherwise (e.g. time), and gets the slot once free.
    second.request(TimeRequest(), TimeReply)
    first.request(Abort("done early"), SessionSummary)
    second.request(NewSession("b"), SessionCreated)


def test_client_disconnect_mid_phase_aborts_and_restores(director, connect, engines) -> None:
    conn = connect()
    created = conn.request(NewSession("x"), SessionCreated)
    conn.request(StartPhase("ranging"), PhaseStarted)
    conn.close()
    _wait_for(lambda: director.active_session is None and engines.engines[0].closed)
    engine = engines.engines[0]
    assert [c[0] for c in engine.calls] == [
        "start_phase",
        "stop_phase",
        "restore_initial_ranges",
        "close",
    ]
    folder = director.config.data_dir / created.session_id
    summary = (folder / "summary.json").read_text()
    assert '"state": "aborted"' in summary and "disconnected during ranging" in summary
    # The director is free again.
    other = connect()
    other.request(NewSession("y"), SessionCreated)


def test_director_close_aborts_the_active_session(director, engines) -> None:
    conn = DirectorConnection(director.address)
    try:
        conn.request(NewSession("x"), SessionCreated)
        conn.request(StartPhase("ranging"), PhaseStarted)
        director.close()
        assert engines.engines[0].restored == 1 and engines.engines[0].closed
        assert conn.is_closed_by_peer()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "path", ["../outside.txt", "/etc/passwd", "escape.txt", "ranging/../../outside.txt"]
)
def test_fetch_path_traversal_is_refused(director, connect, path: str) -> None:
    conn = connect()
    created = conn.request(NewSession("x"), SessionCreated)
    conn.request(StartPhase("ranging"), PhaseStarted)
    conn.request(StopPhase("ranging"), PhaseStopped)
    data_dir = director.config.data_dir
    (data_dir / "outside.txt").write_text("not yours")
    os.symlink(data_dir / "outside.txt", data_dir / created.session_id / "escape.txt")
    err = conn.error(Fetch(path))
    assert err.code == "forbidden"
    assert conn.fetch("ranging/spl.txt").startswith(b"Time,")  # connection still usable


def test_fetch_missing_file_and_no_session(connect) -> None:
    conn = connect()

    err = conn.error(Fetch("x"))
    assert err.code == "wrong_state" and "no session" in err.message
    conn.request(NewSession("x"), SessionCreated)
    assert conn.error(Fetch("nope.txt")).code == "not_found"


def test_wrong_state_names_state_and_request(connect) -> None:
    conn = connect()
    conn.request(NewSession("x"), SessionCreated)
    err = conn.error(StopPhase("testing"))
    assert err.code == "wrong_state"
    assert "stop_testing" in err.message and "session_open" in err.message
    err = conn.error(Done())
    assert err.code == "wrong_state" and "done is not allowed" in err.message
    conn.request(StartPhase("ranging"), PhaseStarted)
    err = conn.error(StopPhase("testing"))
    assert "running phase is ranging" in err.message
    err = conn.error(NewSession("again"))
    assert err.code == "wrong_state" and "still ranging" in err.message


def test_bad_values_get_bad_request(connect) -> None:
    conn = connect()
    conn.request(NewSession("x"), SessionCreated)
    err = conn.error(StartPhase("ranging", "bad,mark"))
    assert err.code == "bad_request" and "mark" in err.message


def test_engine_failure_is_reported_as_meter_error(make_director) -> None:
    director = make_director(FakeEngineFactory(fail_start=True))
    with DirectorConnection(director.address) as conn:
        conn.request(NewSession("x"), SessionCreated)
        err = conn.error(StartPhase("ranging"))
        assert err.code == "meter" and "went silent" in err.message


def test_unknown_message_and_reply_types_are_refused(connect) -> None:
    conn = connect()
    conn.stream.sock.sendall(b'{"type":"set_ntp"}\n')
    reply = conn.stream.receive()
    assert isinstance(reply, Err) and reply.code == "unknown_type" and "set_ntp" in reply.message
    err = conn.error(Ok())
    assert err.code == "unknown_type" and "reply, not a request" in err.message
    conn.stream.sock.sendall(b"garbage\n")
    reply = conn.stream.receive()
    assert isinstance(reply, Err) and reply.code == "bad_request"
    conn.request(TimeRequest(), TimeReply)  # still connected


def test_wrong_version_is_refused_and_closed(director) -> None:
    with pytest.raises(ProtocolVersionError, match="director speaks protocol version 1, client 99"):
        DirectorConnection(director.address, version=99)
    stream = MessageStream(socket.create_connection(director.address, timeout=5))
    try:
        stream.expect(ServerHello)
        stream.send(Hello(99, "future"))
        reply = stream.receive()
        assert isinstance(reply, Err) and reply.code == "version"
        assert stream.sock.recv(1) == b""
    finally:
        stream.close()


def test_oversized_line_is_refused_and_closed(make_director, engines) -> None:
    director = make_director(engines, max_line_bytes=1024)
    with DirectorConnection(director.address) as conn:
        conn.stream.sock.sendall(b'{"type":"new_session","label":"' + b"x" * 5000 + b'"}\n')
        reply = conn.stream.receive()
        assert isinstance(reply, Err) and reply.code == "too_large"
        assert conn.is_closed_by_peer()


def test_too_many_connections_get_busy(make_director, engines) -> None:
    director = make_director(engines, max_connections=1)
    with DirectorConnection(director.address):
        stream = MessageStream(socket.create_connection(director.address, timeout=5))
        try:
            reply = stream.receive()
            assert isinstance(reply, Err) and reply.code == "busy"
        finally:
            stream.close()


def test_cleanup_can_be_disabled(make_director, engines) -> None:
    director = make_director(engines, allow_cleanup=False)
    with DirectorConnection(director.address, SECRET) as conn:
        created = conn.request(NewSession("x"), SessionCreated)
        conn.request(Abort(), SessionSummary)
        assert conn.error(Cleanup()).code == "forbidden"
        assert (director.config.data_dir / created.session_id).is_dir()
