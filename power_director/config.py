"""The director's settings (:class:`DirectorConfig`) and their TOML file.

A config file holds one ``[director]`` table; every key is optional and command-line flags
override it. Relative paths are taken relative to the file's folder::

    [director]
    meters = ["wt310e@serial:/dev/ttyUSB0?baud=9600"]
    listen = "127.0.0.1:4950"          # loopback by default; 0.0.0.0:4950 must be explicit
    data_dir = "sessions"
    secret_file = "secret"             # else the WATTBENCH_SECRET environment variable
    max_line_bytes = 65536

Errors: :class:`~power_director.errors.ConfigError`, naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from power_director.auth import SECRET_ENV_VAR
from power_director.errors import ConfigError
from power_director.protocol import DEFAULT_PORT, MAX_LINE_BYTES
from power_director.transport.tcp import split_host_port

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["DEFAULT_LISTEN", "DirectorConfig", "default_data_dir", "load_config", "parse_listen"]

DEFAULT_LISTEN = f"127.0.0.1:{DEFAULT_PORT}"


def default_data_dir() -> Path:
    """Return ``$XDG_DATA_HOME/wattbench/director`` (``~/.local/share/...`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "wattbench" / "director"


def parse_listen(text: str, *, where: str = "listen") -> tuple[str, int]:
    """Return ``(host, port)`` from ``HOST:PORT`` or ``[IPv6]:PORT``.

    Raises:
        ConfigError: malformed address or port out of 0-65535 (0 picks a free port).
    """
    try:
        return split_host_port(text, allow_port_zero=True)
    except ValueError:
        raise ConfigError(
            f"{where}: expected HOST:PORT (e.g. {DEFAULT_LISTEN}), got {text!r}"
        ) from None


@dataclass(frozen=True)
class DirectorConfig:
    """How the director runs.

    Attributes:
        meters: meter spec strings (see :mod:`power_director.meters.registry`).
        listen: ``HOST:PORT`` to listen on; loopback by default.
        data_dir: where session folders go.
        secret_file: file holding the shared secret; None reads ``secret_env``.
        secret_env: environment variable holding the secret when no file is given.
        max_line_bytes: longest accepted protocol line, bytes.
        handshake_timeout_s: time a client has to complete hello + auth, s.
        max_connections: concurrent connections served (more get ``busy``).
        sample_period_s: sampling period passed to the engine; None uses each meter's rate.
        allow_cleanup: whether clients may delete session folders.
    """

    meters: tuple[str, ...] = ()
    listen: str = DEFAULT_LISTEN
    data_dir: Path = field(default_factory=default_data_dir)
    secret_file: Path | None = None
    secret_env: str = SECRET_ENV_VAR
    max_line_bytes: int = MAX_LINE_BYTES
    handshake_timeout_s: float = 10.0
    max_connections: int = 8
    sample_period_s: float | None = None
    allow_cleanup: bool = True

    def __post_init__(self) -> None:
        self.validate()

    @property
    def listen_address(self) -> tuple[str, int]:
        """Return ``listen`` as ``(host, port)``."""
        return parse_listen(self.listen)

    def validate(self, where: str = "") -> None:
        """Check value ranges.

        Raises:
            ConfigError: a value is out of range; the message starts with ``where``.
        """
        prefix = f"{where}: " if where else ""
        parse_listen(self.listen, where=f"{prefix}listen")
        if self.max_line_bytes < 1024:
            raise ConfigError(f"{prefix}max_line_bytes must be >= 1024, got {self.max_line_bytes}")
        if self.handshake_timeout_s <= 0:
            raise ConfigError(f"{prefix}handshake_timeout_s must be > 0")
        if self.max_connections < 1:
            raise ConfigError(f"{prefix}max_connections must be >= 1")
        if self.sample_period_s is not None and self.sample_period_s <= 0:
            raise ConfigError(f"{prefix}sample_period_s must be > 0")

    def replace(self, **changes: Any) -> DirectorConfig:
        """Return a copy with ``changes`` (None values are ignored: "flag not given")."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


# key -> (expected description, checker, converter)
_KEYS: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "meters": ("a list of meter spec strings", list),
    "listen": ("a string HOST:PORT", str),
    "data_dir": ("a path string", str),
    "secret_file": ("a path string", str),
    "secret_env": ("an environment variable name", str),
    "max_line_bytes": ("an integer", int),
    "handshake_timeout_s": ("a number of seconds", (int, float)),
    "max_connections": ("an integer", int),
    "sample_period_s": ("a number of seconds", (int, float)),
    "allow_cleanup": ("true or false", bool),
}


def load_config(path: Path) -> DirectorConfig:
    """Read ``path`` (TOML, a ``[director]`` table) into a :class:`DirectorConfig`.

    Raises:
        ConfigError: unreadable file, invalid TOML, unknown key, or a value of the wrong type
            or range; the message names the file and the key.
    """
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: invalid TOML: {exc}") from exc
    unknown_top = sorted(set(data) - {"director"})
    if unknown_top:
        raise ConfigError(f"{path}: unknown table or key {unknown_top[0]!r} (expected [director])")
    table: Any = data.get("director", {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{path}: 'director' must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            raise ConfigError(
                f"{path}: unknown key director.{key} (known: {', '.join(sorted(_KEYS))})"
            )
        what, kind = _KEYS[key]
        if not _is_kind(value, kind):
            raise ConfigError(f"{path}: director.{key} must be {what}, got {value!r}")
        if key == "meters":
            if not all(isinstance(m, str) and m.strip() for m in value):
                raise ConfigError(f"{path}: director.meters must be {what}, got {value!r}")
            value = tuple(value)
        elif key in ("data_dir", "secret_file"):
            value = path.parent / Path(value).expanduser()
        elif kind == (int, float):
            value = float(value)
        values[key] = value
    try:
        return DirectorConfig(**values)
    except ConfigError as exc:
        raise ConfigError(f"{path}: director.{exc}") from None


def _is_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    if isinstance(value, bool) and kind is not bool:
        return False  # TOML true is not a number
    return isinstance(value, kind)
