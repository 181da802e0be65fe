"""Serve a Prometheus registry over HTTP(S) on loopback by default, with optional basic auth.

Both exporters (the director's :mod:`power_director.exporter` and the client's
:mod:`power_client.live_metrics`) serve their own :class:`~prometheus_client.CollectorRegistry`
through :func:`serve_metrics`. It is prometheus_client's ``start_http_server`` (the same WSGI app
and threading server) plus what that lacks: HTTP basic auth, a loopback default and a handle to
stop the server.

Example::

    server = serve_metrics(registry, parse_metrics_address("9464"))   # 127.0.0.1:9464
    server.url                                                       # "http://127.0.0.1:9464/metrics"
    server.close()

TLS: give ``certfile`` and ``keyfile`` (PEM). Basic auth: a :class:`BasicAuth`, usually read with
:meth:`BasicAuth.from_file` from a ``user:password`` file so the password is not on the command
line; a request without the right credentials gets 401. Use both together: basic auth over
plain HTTP sends the password in clear.

Errors: ``ValueError`` for a malformed address or auth file; ``OSError`` when the port cannot be
bound or the certificate cannot be loaded.
"""

from __future__ import annotations

import base64
import hmac
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from power_director.transport.tcp import split_host_port

__all__ = ["DEFAULT_HOST", "BasicAuth", "MetricsServer", "parse_metrics_address", "serve_metrics"]

log = logging.getLogger(__name__)

#: Exporters bind here unless told otherwise (prometheus_client's default is 0.0.0.0).
DEFAULT_HOST = "127.0.0.1"

_StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_App = Callable[[dict[str, Any], _StartResponse], Iterable[bytes]]


def parse_metrics_address(text: str) -> tuple[str, int]:
    """Return ``(host, port)`` from ``PORT``, ``HOST:PORT`` or ``[IPv6]:PORT``.

    A bare port means ``127.0.0.1:PORT``; port 0 picks a free port.

    Raises:
        ValueError: malformed address or port out of range.
    """
    text = text.strip()
    if text.isdigit():
        text = f"{DEFAULT_HOST}:{text}"
    return split_host_port(text, default_host=DEFAULT_HOST, allow_port_zero=True)


@dataclass(frozen=True)
class BasicAuth:
    """HTTP basic-auth credentials the metrics endpoint requires."""

    username: str
    password: str

    def __post_init__(self) -> None:
        if not self.username or ":" in self.username or not self.password:
            raise ValueError("basic auth needs a user name without ':' and a non-empty password")

    @classmethod
    def from_file(cls, path: Path) -> BasicAuth:
        """Read ``user:password`` from the first line of ``path``.

        Raises:
            ValueError: the file has no ``user:password`` line.
            OSError: the file cannot be read.
        """
        line = Path(path).read_text(encoding="utf-8").splitlines()[:1]
        user, sep, password = (line[0] if line else "").partition(":")
        if not sep:
            raise ValueError(f"{path}: expected one line 'user:password'")
        return cls(user.strip(), password.strip())

    def header_matches(self, header: str | None) -> bool:
        """Return True when an ``Authorization`` header carries these credentials."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            given = base64.b64decode(header[6:].strip(), validate=True)
        except ValueError:
            return False
        expected = f"{self.username}:{self.password}".encode()
        return hmac.compare_digest(given, expected)


def _require_auth(app: _App, auth: BasicAuth) -> _App:
    def guarded(environ: dict[str, Any], start_response: _StartResponse) -> Iterable[bytes]:
        if auth.header_matches(environ.get("HTTP_AUTHORIZATION")):
            return app(environ, start_response)
        start_response(
            "401 Unauthorized",
            [("WWW-Authenticate", 'Basic realm="wattbench"'), ("Content-Type", "text/plain")],
        )
        return [b"401 Unauthorized\n"]

    return guarded


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics http %s: %s", self.address_string(), format % args)


class MetricsServer:
    """A running metrics endpoint; :meth:`close` (or ``with``) stops it.

    Attributes:
        host: the address bound.
        port: the port bound (the real one when 0 was asked for).
        url: where Prometheus scrapes, e.g. ``http://127.0.0.1:9464/metrics``.
    """

    def __init__(self, httpd: ThreadingWSGIServer, thread: threading.Thread, tls: bool) -> None:
        self._httpd = httpd
        self._thread = thread
        self.host: str = httpd.server_address[0]  # type: ignore[assignment]
        self.port: int = httpd.server_address[1]
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{'https' if tls else 'http'}://{shown}:{self.port}/metrics"

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(5.0)
        self._httpd.server_close()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve_metrics(
    registry: CollectorRegistry,
    address: tuple[str, int] = (DEFAULT_HOST, 0),
    *,
    certfile: str | Path | None = None,
    keyfile: str | Path | None = None,
    basic_auth: BasicAuth | None = None,
) -> MetricsServer:
    """Serve ``registry`` at ``http(s)://HOST:PORT/metrics`` from a daemon thread.

    Raises:
        ValueError: only one of ``certfile`` and ``keyfile`` given.
        OSError: the address cannot be bound or the certificate not loaded.
    """
    if (certfile is None) != (keyfile is None):
        raise ValueError("TLS needs both certfile and keyfile")
    host, port = address

    class _Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    app: _App = make_wsgi_app(registry)
    if basic_auth is not None:
        app = _require_auth(app, basic_auth)
    httpd = make_server(host, port, app, _Server, handler_class=_QuietHandler)
    tls = certfile is not None
    if certfile is not None and keyfile is not None:
        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(str(certfile), str(keyfile))
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        except BaseException:
            httpd.server_close()
            raise
    thread = threading.Thread(target=httpd.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    server = MetricsServer(httpd, thread, tls)
    log.info("metrics served at %s%s", server.url, " (basic auth)" if basic_auth else "")
    return server
