from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from director_helpers import SECRET, DirectorConnection

from power_director.auth import (
    Authenticator,
    Secret,
    client_proof,
    director_proof,
    load_secret,
    new_nonce,
    verify_director,
    write_secret_file,
)
from power_director.errors import AuthenticationError, ConfigError
from power_director.protocol import (
    PROTOCOL_VERSION,
    Auth,
    Err,
    Hello,
    MessageStream,
    NewSession,
    Ok,
    ServerHello,
    TimeReply,
    TimeRequest,
)

WRONG = Secret(b"a different secret of enough length", "test")


def _secret_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "secret"
    path.write_bytes(content)
    path.chmod(0o600)
    return path


def test_load_secret_from_file_strips_the_newline(tmp_path: Path) -> None:
    secret = load_secret(_secret_file(tmp_path, b"0123456789abcdef0123\n"))
    assert secret.value == b"0123456789abcdef0123"
    assert "0123456789" not in repr(secret)


def test_load_secret_from_environment() -> None:
    secret = load_secret(environ={"WATTBENCH_SECRET": "x" * 20})
    assert secret.value == b"x" * 20 and "WATTBENCH_SECRET" in secret.source


@pytest.mark.parametrize(
    ("content", "words"),
    [(None, "does not exist"), (b"  \n", "is empty"), (b"short\n", "at least 16")],
)
def test_bad_secret_file_names_the_path(tmp_path: Path, content: bytes | None, words: str) -> None:
    path = tmp_path / "secret" if content is None else _secret_file(tmp_path, content)
    with pytest.raises(ConfigError, match=words) as info:
        load_secret(path)
    assert str(path) in str(info.value)


def test_missing_environment_secret_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="--secret-file FILE or set WATTBENCH_SECRET"):
        load_secret(environ={})
    with pytest.raises(ConfigError, match="environment variable WATTBENCH_SECRET holds 3 bytes"):
        load_secret(environ={"WATTBENCH_SECRET": "abc"})


def test_write_secret_file_is_private_and_loadable(tmp_path: Path) -> None:
    path = write_secret_file(tmp_path / "s")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert len(load_secret(path).value) == 64
    with pytest.raises(ConfigError, match="cannot create"):
        write_secret_file(path)


def test_mutual_proofs() -> None:
    auth = Authenticator(SECRET)
    nd, nc = new_nonce(), new_nonce()
    proof = auth.verify_client(nd, nc, client_proof(SECRET, nd, nc))
    verify_director(SECRET, nd, nc, proof)
    # The two directions differ: a client proof cannot be reflected as the director's.
    assert client_proof(SECRET, nd, nc) != director_proof(SECRET, nd, nc)
    with pytest.raises(AuthenticationError, match="director's proof"):
        verify_director(SECRET, nd, nc, client_proof(SECRET, nd, nc))
    with pytest.raises(AuthenticationError):
        verify_director(WRONG, nd, nc, proof)


def test_wrong_secret_and_replay_are_refused() -> None:
    auth = Authenticator(SECRET)
    nd, nc = new_nonce(), new_nonce()
    with pytest.raises(AuthenticationError, match="wrong proof"):
        auth.verify_client(nd, nc, client_proof(WRONG, nd, nc))
    nc2 = new_nonce()
    auth.verify_client(nd, nc2, client_proof(SECRET, nd, nc2))
    with pytest.raises(AuthenticationError, match="replay"):
        auth.verify_client(nd, nc2, client_proof(SECRET, nd, nc2))


@pytest.mark.parametrize("nonce", ["zz" * 32, "ab" * 4])
def test_malformed_nonces_are_refused(nonce: str) -> None:
    with pytest.raises(AuthenticationError, match="nonce"):
        Authenticator(SECRET).verify_client(new_nonce(), nonce, "00" * 32)


# --- over the wire ----------------------------------------------------------------------------


def _raw(address: tuple[str, int]) -> tuple[MessageStream, ServerHello]:
    stream = MessageStream(socket.create_connection(address, timeout=5))
    return stream, stream.expect(ServerHello)


def test_authenticated_client_is_served(connect) -> None:
    conn = connect()
    assert isinstance(conn.request(TimeRequest(), TimeReply), TimeReply)


def test_wrong_secret_is_refused_and_the_connection_closed(director) -> None:
    with pytest.raises(AuthenticationError, match="auth_failed"):
        DirectorConnection(director.address, WRONG)
    stream, hello = _raw(director.address)
    try:
        stream.request(Hello(PROTOCOL_VERSION), Ok)
        nc = new_nonce()
        stream.send(Auth(nc, client_proof(WRONG, hello.nonce, nc)))
        reply = stream.receive()
        assert isinstance(reply, Err) and reply.code == "auth_failed"
        assert stream.sock.recv(1) == b""  # closed by the director
    finally:
        stream.close()


def test_replayed_auth_from_another_connection_fails(director) -> None:
    first, hello = _raw(director.address)
    try:
        first.request(Hello(PROTOCOL_VERSION), Ok)
        nc = new_nonce()
        recorded = Auth(nc, client_proof(SECRET, hello.nonce, nc))
        first.send(recorded)
        assert first.receive().TYPE == "auth_ok"
    finally:
        first.close()
    second, hello2 = _raw(director.address)
    try:
        assert hello2.nonce != hello.nonce
        second.request(Hello(PROTOCOL_VERSION), Ok)
        second.send(recorded)  # an eavesdropper replays the recorded exchange
        reply = second.receive()
        assert isinstance(reply, Err) and reply.code == "auth_failed"
    finally:
        second.close()


def test_nothing_is_served_before_auth(director) -> None:
    stream, _ = _raw(director.address)
    try:
        stream.send(TimeRequest())
        reply = stream.receive()
        assert isinstance(reply, Err) and reply.code == "unauthenticated"
        assert "hello first" in reply.message
        stream.request(Hello(PROTOCOL_VERSION), Ok)
        for request in (TimeRequest(), NewSession("x")):
            stream.send(request)
            reply = stream.receive()
            assert isinstance(reply, Err) and reply.code == "unauthenticated"
            assert request.TYPE in reply.message and "authenticate first" in reply.message
    finally:
        stream.close()


def test_handshake_timeout_closes_the_connection(make_director, engines) -> None:
    director = make_director(engines, handshake_timeout_s=0.2)
    stream, _ = _raw(director.address)
    try:
        reply = stream.receive()
        assert isinstance(reply, Err) and reply.code == "unauthenticated"
        assert "in time" in reply.message
    finally:
        stream.close()
