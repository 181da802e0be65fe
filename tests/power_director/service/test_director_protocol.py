from __future__ import annotations

import io
import json
import socket
import threading

import pytest

from power_director.errors import (
    AuthenticationError,
    ConnectionClosedError,
    DirectorBusyError,
    MalformedMessageError,
    ProtocolError,
    ProtocolVersionError,
    RemoteError,
    SessionStateError,
)
from power_director.protocol import (
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    REQUEST_TYPES,
    Abort,
    Auth,
    AuthOk,
    Cleanup,
    DirectorInfo,
    Done,
    Err,
    ErrorCode,
    Fetch,
    FileHeader,
    Hello,
    InfoRequest,
    Message,
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
    decode,
    encode,
    error_from_reply,
    message_types,
)

EXAMPLES: list[Message] = [
    ServerHello(PROTOCOL_VERSION, "wattbench-director/0.1.0", "ab" * 32, "lab-pc"),
    Hello(PROTOCOL_VERSION, "wattbench-client/0.1.0"),
    Auth("cd" * 32, "ef" * 32),
    AuthOk("01" * 32),
    InfoRequest(),
    DirectorInfo("lab-pc", "wattbench-director/0.1.0", 1, ({"spec": "sim", "name": "wt310e"},)),
    TimeRequest(),
    TimeReply(1_700_000_000_123_456_789, 98_765_432_100),
    NewSession("resnet50 offline"),
    SessionCreated("2024-01-01T00-00-00Z_resnet50", "resnet50"),
    StartPhase("ranging", "run_ranging"),
    StartPhase("testing", "", volts_range=300.0, amps_range=2.0),
    PhaseStarted("testing", "m", 1, 2),
    StopPhase("testing"),
    PhaseStopped("testing", "m", 3, 4, {"samples": 10, "ranges": {"wt310e": [300.0, 1.0]}}),
    SummaryRequest(),
    SessionSummary("id", "label", "done", ({"phase": "ranging"},), ({"path": "a", "size": 1},)),
    Fetch("ranging/spl.txt"),
    FileHeader("ranging/spl.txt", 12, "00" * 32),
    Abort("workload failed"),
    Done(),
    Cleanup(),
    Ok(),
    Err("busy", "director busy"),
]


def test_every_message_type_has_an_example() -> None:
    assert {type(m) for m in EXAMPLES} == set(message_types().values())


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: m.TYPE)
def test_round_trip(message: Message) -> None:
    line = encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line)["type"] == message.TYPE
    assert decode(line) == message


def test_unicode_label_round_trips_as_utf8() -> None:
    line = encode(NewSession("mesure-é"))
    assert "é".encode() in line
    assert decode(line) == NewSession("mesure-é")


def test_defaults_may_be_omitted_and_ints_become_floats() -> None:
    assert decode(b'{"type":"new_session"}') == NewSession("")
    msg = decode(b'{"type":"start_phase","phase":"testing","volts_range":300,"amps_range":1}')
    assert msg == StartPhase("testing", "", 300.0, 1.0)
    assert isinstance(msg, StartPhase) and isinstance(msg.volts_range, float)


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        (b"not json\n", "bad_request", "not JSON"),
        (b"[1, 2]\n", "bad_request", "JSON object"),
        (b'{"label": "x"}\n', "bad_request", "'type'"),
        (b'{"type": 7}\n', "bad_request", "'type'"),
        (b'{"type": "launch_missiles"}\n', "unknown_type", "launch_missiles"),
        (b'{"type": "hello"}\n', "bad_request", "missing field 'protocol_version'"),
        (b'{"type": "hello", "protocol_version": "1"}\n', "bad_request", "'protocol_version'"),
        (b'{"type": "hello", "protocol_version": true}\n', "bad_request", "an integer"),
        (b'{"type": "hello", "protocol_version": 1, "x": 1}\n', "bad_request", "unknown field"),
        (b'{"type": "start_phase", "phase": "warmup"}\n', "bad_request", "'ranging', 'testing'"),
        (
            b'{"type": "start_phase", "phase": "testing", "volts_range": NaN}\n',
            "bad_request",
            "NaN",
        ),
        (
            b'{"type": "session_summary", "session_id": "i", "label": "l", "state": "s",'
            b' "phases": [1]}\n',
            "bad_request",
            "'phases'",
        ),
        (b'\xff\xfe{"type":"ok"}\n', "bad_request", "UTF-8"),
    ],
)
def test_malformed_lines_are_refused_with_a_code(line: bytes, code: str, words: str) -> None:
    with pytest.raises(MalformedMessageError, match=words) as info:
        decode(line)
    assert info.value.code == code


def test_oversized_line_is_refused() -> None:
    line = encode(NewSession("x" * (MAX_LINE_BYTES - 100)))
    assert len(line) <= MAX_LINE_BYTES
    big = b'{"type":"new_session","label":"' + b"x" * MAX_LINE_BYTES + b'"}\n'
    with pytest.raises(MalformedMessageError) as info:
        decode(big)
    assert info.value.code == "too_large"


def test_encode_refuses_a_message_over_the_limit() -> None:
    with pytest.raises(ProtocolError, match="line limit"):
        encode(NewSession("x" * MAX_LINE_BYTES))


def test_requests_are_the_handled_types() -> None:
    assert Ok not in REQUEST_TYPES and Err not in REQUEST_TYPES and Hello in REQUEST_TYPES


def test_nan_in_summary_is_sent_as_null() -> None:
    line = encode(PhaseStopped("ranging", "m", 1, 2, {"w": float("nan"), "t": (1, 2)}))
    assert decode(line) == PhaseStopped("ranging", "m", 1, 2, {"w": None, "t": [1, 2]})


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("version", ProtocolVersionError),
        ("auth_failed", AuthenticationError),
        ("unauthenticated", AuthenticationError),
        ("wrong_state", SessionStateError),
        ("busy", DirectorBusyError),
        ("not_found", RemoteError),
    ],
)
def test_error_replies_map_to_exceptions(code: str, cls: type[Exception]) -> None:
    exc = error_from_reply(Err(code, "because"))
    assert type(exc) is cls
    assert f"[{code}]" in str(exc) and "because" in str(exc)
    if isinstance(exc, RemoteError):
        assert exc.code == code


def test_error_codes_are_documented_values() -> None:
    assert ErrorCode("busy") is ErrorCode.BUSY
    assert Err.of(ErrorCode.TOO_LARGE, "x") == Err("too_large", "x")


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    left, right = MessageStream(a, max_line_bytes=1024), MessageStream(b, max_line_bytes=1024)
    yield left, right
    left.close()
    right.close()


def test_stream_send_receive_and_expect(pair) -> None:
    left, right = pair
    left.send(TimeRequest())
    assert right.receive() == TimeRequest()
    right.send(Err("busy", "someone else"))
    with pytest.raises(DirectorBusyError, match="someone else"):
        left.expect(TimeReply)
    right.send(Ok())
    with pytest.raises(ProtocolError, match="expected 'time_reply', got 'ok'"):
        left.expect(TimeReply)


def test_stream_refuses_an_oversized_line(pair) -> None:
    left, right = pair
    left.sock.sendall(b"x" * 2000 + b"\n")
    with pytest.raises(MalformedMessageError) as info:
        right.receive()
    assert info.value.code == "too_large"


def test_stream_reports_a_closed_peer(pair) -> None:
    left, right = pair
    left.sock.sendall(b'{"type":"ok"')
    left.sock.shutdown(socket.SHUT_WR)
    with pytest.raises(ConnectionClosedError, match="middle of a line"):
        right.receive()
    with pytest.raises(ConnectionClosedError):
        right.receive()


@pytest.mark.parametrize("size", [0, 1, 3 << 20])
def test_file_transfer_is_size_framed_and_hashed(pair, tmp_path, size: int) -> None:
    left, right = pair
    path = tmp_path / "f.bin"
    payload = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    path.write_bytes(payload)

    def send() -> None:
        with path.open("rb") as f:
            left.send_file("f.bin", f)
        left.send(Ok())

    thread = threading.Thread(target=send)
    thread.start()
    header = right.expect(FileHeader)
    out = io.BytesIO()
    right.receive_file(header, out)
    thread.join()
    assert header.size == size and out.getvalue() == payload
    assert right.receive() == Ok()  # framing intact after the raw bytes


def test_file_transfer_detects_a_hash_mismatch(pair) -> None:
    left, right = pair
    left.send(FileHeader("f", 3, "00" * 32))
    left.sock.sendall(b"abc")
    header = right.expect(FileHeader)
    with pytest.raises(ProtocolError, match="SHA-256"):
        right.receive_file(header, io.BytesIO())


def test_file_transfer_detects_a_short_body(pair) -> None:
    left, right = pair
    left.send(FileHeader("f", 10, "00" * 32))
    left.sock.sendall(b"abc")
    left.sock.shutdown(socket.SHUT_WR)
    header = right.expect(FileHeader)
    with pytest.raises(ConnectionClosedError, match="3 of 10 bytes"):
        right.receive_file(header, io.BytesIO())
