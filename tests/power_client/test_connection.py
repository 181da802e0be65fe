"""DirectorClient over real loopback sockets: the real director server, and scripted fakes."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from power_client.connection import (
    DEFAULT_SOFTWARE,
    DirectorClient,
    format_address,
    parse_address,
)
from power_client.errors import DirectorError, DirectorUnreachableError
from power_client.transcript import CONNECT
from power_director.auth import Secret, director_proof, new_nonce
from power_director.config import DirectorConfig
from power_director.errors import (
    ConnectionClosedError,
    DirectorBusyError,
    ProtocolError,
    RemoteError,
    SessionStateError,
)
from power_director.measurement import MeasurementEngine
from power_director.meters.registry import open_meter
from power_director.protocol import (
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    DirectorInfo,
    Fetch,
    FileHeader,
    Hello,
    InfoRequest,
    MessageStream,
    Ok,
    ServerHello,
)
from power_director.server import RunningDirector, serve
from power_director.sim.load import ConstantLoad
from power_director.sim.simulator import start_simulator
from tests.power_director.service.director_helpers import SECRET, FakeEngineFactory

WRONG_SECRET = Secret(b"a different secret of enough length", "secret file /tmp/other")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def make_director(tmp_path: Path) -> Iterator[Callable[..., RunningDirector]]:
    started: list[RunningDirector] = []

    def make(factory: Any = None, **config: Any) -> RunningDirector:
        cfg = DirectorConfig(listen="127.0.0.1:0", data_dir=tmp_path / "data", **config)
        director = serve(
            cfg,
            factory if factory is not None else FakeEngineFactory(),
            secret=SECRET,
            meter_names=["wt310e"],
            meters_info=[{"spec": "fake", "name": "wt310e"}],
        )
        started.append(director)
        return director

    yield make
    for director in started:
        director.close()


@pytest.fixture
def director(make_director: Callable[..., RunningDirector]) -> RunningDirector:
    return make_director()


@pytest.fixture
def connect(director: RunningDirector) -> Iterator[Callable[..., DirectorClient]]:
    clients: list[DirectorClient] = []

    def make(**kwargs: Any) -> DirectorClient:
        client = DirectorClient.connect(director.address, SECRET, timeout_s=5.0, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def _director_file(tmp_path: Path, session_id: str, relpath: str) -> bytes:
    return (tmp_path / "data" / session_id / relpath).read_bytes()


class ScriptedDirector:
    """A one-connection fake director: ``script(stream)`` plays the director's side.

    After the script, it records every line the client still sends until it hangs up
    (``after``), and whether it did hang up (``client_closed``).
    """

    def __init__(self, script: Callable[[MessageStream], None]) -> None:
        self.script = script
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address: tuple[str, int] = self.listener.getsockname()[:2]
        self.after: list[bytes] = []
        self.client_closed = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(5.0)
        stream = MessageStream(conn)
        try:
            self.script(stream)
            while True:
                self.after.append(stream.receive_line())
        except ConnectionClosedError:
            self.client_closed = True
        except BaseException as exc:
            self.error = exc
        finally:
            stream.close()

    def join(self) -> None:
        self.thread.join(10)
        self.listener.close()
        assert self.error is None, self.error


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[MessageStream], None]], ScriptedDirector]]:
    fakes: list[ScriptedDirector] = []

    def make(script: Callable[[MessageStream], None]) -> ScriptedDirector:
        fake = ScriptedDirector(script)
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        fake.listener.close()


def _honest_handshake(stream: MessageStream) -> None:
    nonce = new_nonce()
    stream.send(ServerHello(PROTOCOL_VERSION, "fake-director/1", nonce, "fake"))
    stream.expect(Hello)
    stream.send(Ok())
    auth = stream.expect(Auth)
    stream.send(AuthOk(director_proof(SECRET, nonce, auth.client_nonce)))


# --- addresses and unreachable directors ------------------------------------------------------


def test_parse_address_forms() -> None:
    assert parse_address("lab-pc") == ("lab-pc", 4950)
    assert parse_address("lab-pc:4951") == ("lab-pc", 4951)
    assert parse_address("[::1]:4952") == ("::1", 4952)
    assert parse_address(("10.0.0.2", 4953)) == ("10.0.0.2", 4953)
    assert format_address("::1", 4952) == "[::1]:4952"


def test_refused_connection_names_host_and_port() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(DirectorUnreachableError) as info:
        DirectorClient.connect(f"127.0.0.1:{port}", SECRET, timeout_s=2.0)
    assert info.value.address == f"127.0.0.1:{port}"
    assert f"127.0.0.1:{port}" in str(info.value) and "refused" in str(info.value)


def test_unknown_host_is_unreachable() -> None:
    def factory(address: tuple[str, int], timeout_s: float) -> socket.socket:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(DirectorUnreachableError) as info:
        DirectorClient.connect("no-such-host.invalid:4950", SECRET, socket_factory=factory)
    message = str(info.value)
    assert "no-such-host.invalid:4950" in message
    assert "cannot resolve host 'no-such-host.invalid'" in message


def test_connect_timeout_is_unreachable() -> None:
    def factory(address: tuple[str, int], timeout_s: float) -> socket.socket:
        raise TimeoutError("timed out")

    with pytest.raises(DirectorUnreachableError) as info:
        DirectorClient.connect("10.9.9.9:4950", SECRET, timeout_s=0.5, socket_factory=factory)
    assert "10.9.9.9:4950" in str(info.value) and "no answer within 0.5 s" in str(info.value)


def test_malformed_address_is_unreachable() -> None:
    with pytest.raises(DirectorUnreachableError, match="malformed address"):
        DirectorClient.connect("lab-pc:http", SECRET)


# --- handshake ---------------------------------------------------------------------------------


def test_connect_authenticates_and_records_the_handshake(connect) -> None:
    client = connect()
    assert client.server_hello.protocol_version == PROTOCOL_VERSION
    assert [e.request_type for e in client.transcript] == [CONNECT, "hello", "auth"]
    connect_exchange, hello, auth = client.transcript
    assert connect_exchange.reply_type == "server_hello"
    assert hello.request == {"protocol_version": PROTOCOL_VERSION, "software": DEFAULT_SOFTWARE}
    assert DEFAULT_SOFTWARE.startswith("wattbench-client/")
    assert auth.reply_type == "auth_ok"
    assert auth.sent_wall_ns <= (auth.replied_wall_ns or 0)


def test_wrong_secret_says_the_secrets_differ_and_where_ours_comes_from(director) -> None:
    with pytest.raises(DirectorError) as info:
        DirectorClient.connect(director.address, WRONG_SECRET, timeout_s=5.0)
    assert info.value.code == "auth_failed"
    assert "differs from the director's" in str(info.value)
    assert "secret file /tmp/other" in str(info.value)
    assert isinstance(info.value.__cause__, ProtocolError)


def test_version_mismatch_is_reported_before_anything_is_sent(scripted) -> None:
    fake = scripted(
        lambda s: s.send(ServerHello(99, "wattbench-director/9.0", new_nonce(), "future"))
    )
    with pytest.raises(DirectorError) as info:
        DirectorClient.connect(fake.address, SECRET, timeout_s=5.0)
    fake.join()
    assert info.value.code == "version"
    assert "protocol version 99" in str(info.value)
    assert f"this client {PROTOCOL_VERSION}" in str(info.value)
    assert fake.after == [] and fake.client_closed


def test_version_mismatch_with_fields_this_version_does_not_know(scripted) -> None:
    line = {
        "type": "server_hello",
        "protocol_version": 2,
        "software": "wattbench-director/2.0",
        "nonce": new_nonce(),
        "director": "future",
        "cipher": "x25519",
    }
    fake = scripted(lambda s: s.sock.sendall(json.dumps(line).encode() + b"\n"))
    with pytest.raises(DirectorError) as info:
        DirectorClient.connect(fake.address, SECRET, timeout_s=5.0)
    fake.join()
    assert info.value.code == "version" and "protocol version 2" in str(info.value)
    assert fake.after == []


def test_impostor_director_is_refused_and_hung_up_on(scripted) -> None:
    def impostor(stream: MessageStream) -> None:
        stream.send(ServerHello(PROTOCOL_VERSION, "evil/1", new_nonce(), "evil"))
        stream.expect(Hello)
        stream.send(Ok())
        stream.expect(Auth)
        stream.send(AuthOk("00" * 32))

    fake = scripted(impostor)
    with pytest.raises(DirectorError) as info:
        DirectorClient.connect(fake.address, SECRET, timeout_s=5.0)
    fake.join()
    assert info.value.code == "auth_failed"
    assert "impostor" in str(info.value) and "failed to prove" in str(info.value)
    assert fake.after == [] and fake.client_closed


def test_too_many_connections_is_busy(make_director) -> None:
    director = make_director(max_connections=1)
    with (
        DirectorClient.connect(director.address, SECRET, timeout_s=5.0),
        pytest.raises(DirectorError) as info,
    ):
        DirectorClient.connect(director.address, SECRET, timeout_s=5.0)
    assert info.value.code == "busy"
    assert isinstance(info.value.__cause__, DirectorBusyError)


# --- requests and director errors ----------------------------------------------------------


def test_session_with_fake_engine_and_fetch_of_every_file(connect, tmp_path) -> None:
    client = connect()
    info = client.info()
    assert isinstance(info, DirectorInfo) and info.meters == ({"spec": "fake", "name": "wt310e"},)
    created = client.new_session("resnet50 offline")
    assert created.label == "resnet50_offline"
    started = client.start_phase("ranging")
    assert started.mark == f"{created.session_id}_ranging"
    assert client.stop_phase("ranging").summary["samples"] == 42
    client.start_phase("testing", mark="run-1")
    assert client.stop_phase("testing").mark == "run-1"
    summary = client.done()
    assert summary.state == "done"

    out = tmp_path / "out"
    fetched = client.fetch_session_files(summary, out, {"summary.json": "power/server.json"})
    listed = {f["path"] for f in summary.files}
    assert set(fetched) == listed and "ranging/spl.txt" in listed
    assert fetched["summary.json"] == out / "power" / "server.json"
    for remote, local in fetched.items():
        assert local.read_bytes() == _director_file(tmp_path, created.session_id, remote)
    assert not list(out.rglob(".*.part"))

    types = [e.request_type for e in client.transcript]
    assert types[3:] == [
        "info",
        "new_session",
        "start_phase",
        "stop_phase",
        "start_phase",
        "stop_phase",
        "done",
        *["fetch"] * len(listed),
    ]
    json.dumps([e.to_json() for e in client.transcript])  # all JSON-serialisable


def test_director_error_keeps_code_message_and_cause(connect) -> None:
    client = connect()
    with pytest.raises(DirectorError) as info:
        client.start_phase("ranging")
    assert info.value.code == "wrong_state"
    assert "start_phase refused [wrong_state]" in str(info.value)
    assert "no session" in str(info.value)
    assert isinstance(info.value.__cause__, SessionStateError)
    last = client.transcript[-1]
    assert last.reply_type == "error" and last.reply["code"] == "wrong_state"
    assert client.info().protocol_version == PROTOCOL_VERSION  # connection still usable


def test_second_client_gets_busy(connect) -> None:
    first, second = connect(), connect()
    first.new_session("a")
    with pytest.raises(DirectorError) as info:
        second.new_session("b")
    assert info.value.code == "busy"
    assert isinstance(info.value.__cause__, DirectorBusyError)


def test_meter_failure_maps_to_code_meter(make_director) -> None:
    director = make_director(FakeEngineFactory(fail_start=True))
    with DirectorClient.connect(director.address, SECRET, timeout_s=5.0) as client:
        client.new_session()
        with pytest.raises(DirectorError) as info:
            client.start_phase("ranging")
    assert info.value.code == "meter"
    assert "went silent" in str(info.value)
    assert isinstance(info.value.__cause__, RemoteError)


def test_fetch_of_absent_file_leaves_nothing(connect, tmp_path) -> None:
    client = connect()
    client.new_session()
    out = tmp_path / "out"
    with pytest.raises(DirectorError) as info:
        client.fetch("nope.txt", out / "nope.txt")
    assert info.value.code == "not_found"
    assert list(out.iterdir()) == []


def test_fetch_with_wrong_hash_leaves_nothing_and_keeps_the_connection(scripted, tmp_path):
    def director(stream: MessageStream) -> None:
        _honest_handshake(stream)
        fetch = stream.expect(Fetch)
        stream.send(FileHeader(fetch.path, 5, "0" * 64))
        stream.sock.sendall(b"hello")
        stream.expect(InfoRequest)
        stream.send(DirectorInfo("fake", "fake-director/1", PROTOCOL_VERSION))

    fake = scripted(director)
    out = tmp_path / "out"
    with DirectorClient.connect(fake.address, SECRET, timeout_s=5.0) as client:
        with pytest.raises(DirectorError, match="SHA-256") as info:
            client.fetch("run_1/spl.txt", out / "spl.txt")
        assert info.value.code == ""
        assert list(out.iterdir()) == []
        assert client.info().director == "fake"
    fake.join()


def test_abort_and_cleanup(connect, tmp_path) -> None:
    client = connect()
    created = client.new_session("x")
    client.start_phase("ranging")
    aborted = client.abort("operator interrupt")
    assert aborted.state == "aborted" and aborted.reason == "operator interrupt"
    assert (tmp_path / "data" / created.session_id).is_dir()
    client.cleanup()
    assert not (tmp_path / "data" / created.session_id).exists()


def test_idle_connection_outlives_the_reply_timeout(connect) -> None:
    client = connect(reply_timeout_s=0.2)
    sock = client._open_stream().sock
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert sock.gettimeout() == 0.2
    client.new_session()
    client.start_phase("ranging")
    time.sleep(0.5)  # the "workload": no request pending
    assert client.stop_phase("ranging").phase == "ranging"


def test_missing_reply_times_out_and_closes(scripted) -> None:
    def silent(stream: MessageStream) -> None:
        _honest_handshake(stream)
        stream.expect(InfoRequest)

    fake = scripted(silent)
    client = DirectorClient.connect(fake.address, SECRET, timeout_s=5.0, reply_timeout_s=0.2)
    with pytest.raises(DirectorError, match=r"no reply to info within 0\.2 s"):
        client.info()
    assert client.closed
    assert client.transcript[-1].reply_type is None
    with pytest.raises(DirectorError, match="closed"):
        client.info()
    fake.join()
    assert fake.client_closed


def test_director_disconnect_is_a_director_error(scripted) -> None:
    def hang_up(stream: MessageStream) -> None:
        _honest_handshake(stream)
        stream.expect(InfoRequest)
        stream.sock.shutdown(socket.SHUT_RDWR)

    fake = scripted(hang_up)
    with (
        DirectorClient.connect(fake.address, SECRET, timeout_s=5.0) as client,
        pytest.raises(DirectorError, match="info failed") as info,
    ):
        client.info()
    assert isinstance(info.value.__cause__, ConnectionClosedError)
    fake.join()


# --- the real measurement engine ---------------------------------------------------------------


def test_full_session_with_real_engine_and_simulated_meter(tmp_path: Path) -> None:
    with start_simulator("wt310e", transport="pty", load=ConstantLoad(120.0)) as sim:
        meter = open_meter(sim.spec)
        try:

            def factory(folder: Path) -> MeasurementEngine:
                return MeasurementEngine([("wt310e", meter)], folder, sample_period_s=0.05)

            config = DirectorConfig(listen="127.0.0.1:0", data_dir=tmp_path / "data")
            with (
                serve(config, factory, secret=SECRET, meter_names=["wt310e"]) as director,
                DirectorClient.connect(director.address, SECRET, timeout_s=5.0) as client,
            ):
                created = client.new_session("sim run")
                for phase in ("ranging", "testing"):
                    client.start_phase(phase)
                    time.sleep(0.6)
                    stopped = client.stop_phase(phase)
                    assert stopped.summary["samples"] > 0, stopped.summary
                    assert stopped.summary["avg_watts"] == pytest.approx(120.0, rel=0.05)
                summary = client.done()
                fetched = client.fetch_session_files(summary, tmp_path / "out")
        finally:
            meter.close()

    assert summary.state == "done"
    assert {"ranging/spl.txt", "run_1/spl.txt", "summary.json", "session.log"} <= set(fetched)
    for remote, local in fetched.items():
        assert local.read_bytes() == _director_file(tmp_path, created.session_id, remote), remote
    assert fetched["run_1/spl.txt"].read_text().startswith("Time,")
