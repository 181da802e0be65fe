"""Shared-secret mutual authentication: HMAC-SHA256 challenge-response.

The secret never crosses the wire. The exchange (``docs/protocol.md``, Authentication)::

    director -> client  ServerHello{nonce: N_d}                       (32 random bytes, hex)
    client   -> director Auth{client_nonce: N_c,
                              mac: HMAC(secret, N_d || N_c || "wattbench-v1")}
    director -> client  AuthOk{mac: HMAC(secret, N_c || N_d || "wattbench-v1-director")}

The two proofs use different context strings, so one side's proof can never be reflected back as
the other's. A proof is bound to the director's fresh per-connection nonce, so a recorded
``Auth`` is useless on another connection; the director also refuses a client nonce it has seen
before. Proofs are compared in constant time.

Example::

    secret = load_secret(Path("/etc/wattbench/secret"))        # or WATTBENCH_SECRET
    mac = client_proof(secret, hello.nonce, client_nonce)

Errors: :class:`~power_director.errors.ConfigError` (secret file missing, unreadable, empty or
too short; the message names the path or variable), :class:`~power_director.errors.
AuthenticationError` (a proof does not verify, a nonce is malformed or replayed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from power_director.errors import AuthenticationError, ConfigError

__all__ = [
    "MIN_SECRET_BYTES",
    "NONCE_BYTES",
    "SECRET_ENV_VAR",
    "Authenticator",
    "Secret",
    "client_proof",
    "director_proof",
    "generate_secret",
    "load_secret",
    "new_nonce",
    "verify_director",
    "write_secret_file",
]

log = logging.getLogger(__name__)

#: Environment variable holding the secret when no file is given.
SECRET_ENV_VAR = "WATTBENCH_SECRET"
#: Shortest accepted secret, bytes (after stripping surrounding whitespace).
MIN_SECRET_BYTES = 16
#: Length of each nonce, bytes (sent as hex).
NONCE_BYTES = 32
#: Context of the client's proof.
CLIENT_CONTEXT = b"wattbench-v1"
#: Context of the director's proof.
DIRECTOR_CONTEXT = b"wattbench-v1-director"


@dataclass(frozen=True)
class Secret:
    """The shared secret and where it came from (its value is never printed).

    Attributes:
        value: the secret bytes.
        source: ``"file /path"`` or ``"environment variable NAME"``.
    """

    value: bytes = field(repr=False)
    source: str


def generate_secret() -> str:
    """Return a new random secret (64 hex characters)."""
    return secrets.token_hex(32)


def write_secret_file(path: Path) -> Path:
    """Write a new random secret to ``path`` (mode 0600; refuses to overwrite); return it.

    Raises:
        ConfigError: the file exists or cannot be written.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ConfigError(f"secret file {path}: cannot create it: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(generate_secret() + "\n")
    return path


def load_secret(
    secret_file: Path | None = None,
    *,
    env_var: str = SECRET_ENV_VAR,
    environ: Mapping[str, str] | None = None,
) -> Secret:
    """Return the secret from ``secret_file``, else from the environment variable ``env_var``.

    Surrounding whitespace (a trailing newline) is stripped.

    Raises:
        ConfigError: no source, or the file is missing, unreadable, empty or shorter than
            :data:`MIN_SECRET_BYTES`; the message names the path or variable.
    """
    if secret_file is not None:
        source = f"secret file {secret_file}"
        try:
            raw = secret_file.read_bytes()
            mode = secret_file.stat().st_mode
        except FileNotFoundError:
            raise ConfigError(f"{source} does not exist") from None
        except OSError as exc:
            raise ConfigError(f"{source} cannot be read: {exc.strerror or exc}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("%s is readable by other users; chmod 600 it", source)
    else:
        env = os.environ if environ is None else environ
        source = f"environment variable {env_var}"
        if env_var not in env:
            raise ConfigError(
                f"no shared secret: give --secret-file FILE or set {env_var} "
                f"(make one with: wattbench director --generate-secret FILE)"
            )
        raw = env[env_var].encode("utf-8")
    value = raw.strip()
    if not value:
        raise ConfigError(f"{source} is empty")
    if len(value) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{source} holds {len(value)} bytes; a secret needs at least {MIN_SECRET_BYTES}"
        )
    return Secret(value, source)


def new_nonce() -> str:
    """Return a fresh random nonce, hex."""
    return secrets.token_hex(NONCE_BYTES)


def _nonce_bytes(nonce: str, who: str) -> bytes:
    try:
        raw = bytes.fromhex(nonce)
    except ValueError:
        raise AuthenticationError(f"{who} nonce is not hex") from None
    if len(raw) < NONCE_BYTES // 2:
        raise AuthenticationError(f"{who} nonce has {len(raw)} bytes; at least 16 are required")
    return raw


def client_proof(secret: Secret, director_nonce: str, client_nonce: str) -> str:
    """Return the client's proof, hex: HMAC(secret, N_d || N_c || "wattbench-v1")."""
    msg = _nonce_bytes(director_nonce, "director") + _nonce_bytes(client_nonce, "client")
    return hmac.new(secret.value, msg + CLIENT_CONTEXT, hashlib.sha256).hexdigest()


def director_proof(secret: Secret, director_nonce: str, client_nonce: str) -> str:
    """Return the director's proof, hex: HMAC(secret, N_c || N_d || "wattbench-v1-director")."""
    msg = _nonce_bytes(client_nonce, "client") + _nonce_bytes(director_nonce, "director")
    return hmac.new(secret.value, msg + DIRECTOR_CONTEXT, hashlib.sha256).hexdigest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def verify_director(secret: Secret, director_nonce: str, client_nonce: str, mac: str) -> None:
    """Check the director's proof (client side).

    Raises:
        AuthenticationError: the director does not know the secret.
    """
    if not _same(director_proof(secret, director_nonce, client_nonce), mac):
        raise AuthenticationError(
            "the director's proof does not verify: it does not hold the same secret"
        )


class Authenticator:
    """The director's side: verifies client proofs and refuses replayed client nonces.

    Args:
        secret: the shared secret.
        remember: how many recent client nonces to remember.
    """

    def __init__(self, secret: Secret, *, remember: int = 4096) -> None:
        self._secret = secret
        self._remember = remember
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def verify_client(self, director_nonce: str, client_nonce: str, mac: str) -> str:
        """Check the client's proof and return the director's proof to send back.

        Raises:
            AuthenticationError: malformed or reused nonce, or a proof that does not verify.
        """
        expected = client_proof(self._secret, director_nonce, client_nonce)
        key = client_nonce.lower()
        with self._lock:
            if key in self._seen:
                raise AuthenticationError("client nonce was used before (replay refused)")
            self._seen[key] = None
            while len(self._seen) > self._remember:
                self._seen.popitem(last=False)
        if not _same(expected, mac):
            raise AuthenticationError("wrong proof: client and director secrets differ")
        return director_proof(self._secret, director_nonce, client_nonce)
