"""Byte transports to meters, chosen by a spec string.

Modules:
    base    -- :class:`Transport`: public write/query/read_line, framing, DEBUG byte log.
    serial  -- :class:`SerialTransport` (pyserial; device paths and URLs such as ``loop://``).
    visa    -- :class:`VisaTransport` (pyvisa, imported lazily; ``@py`` default, ``@sim``).
    tcp     -- :class:`TcpTransport` (raw socket, ``host:port``).

Spec strings are ``<scheme>:<address>[?key=value&...]``::

    serial:/dev/ttyUSB0?baud=9600&parity=N&term=CRLF&timeout_s=2
    serial:loop://
    visa:USB0::0x0B21::0x0025::C2XX00000V::INSTR
    visa:ASRL1::INSTR@tests/wt310e.yaml@sim      (or ?backend=tests/wt310e.yaml@sim)
    tcp:meter-host:10001

Options for every scheme: ``term`` (LF, CR, CRLF; both directions), ``read_term``,
``write_term``, ``timeout_s``. Serial and VISA: ``baud``, ``parity`` (N/E/O), ``bytesize``,
``stopbits``. Serial only: ``rtscts``, ``xonxoff``. VISA only: ``backend``.

Errors: :class:`~power_director.errors.MeterSpecError` for a malformed spec or unknown
option; :class:`~power_director.errors.TransportError` when the port cannot be opened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from power_director.errors import MeterSpecError
from power_director.transport.base import TERMINATORS, Transport

log = logging.getLogger(__name__)

__all__ = ["SCHEMES", "Transport", "open_transport", "parse_transport_spec"]

_COMMON = frozenset({"term", "read_term", "write_term", "timeout_s"})
_LINE = frozenset({"baud", "parity", "bytesize", "stopbits"})

#: Options each scheme accepts.
SCHEMES: dict[str, frozenset[str]] = {
    "serial": _COMMON | _LINE | {"rtscts", "xonxoff"},
    "visa": _COMMON | _LINE | {"backend"},
    "tcp": _COMMON,
}


def parse_transport_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """Split a transport spec into ``(scheme, address, options)``.

    Raises:
        MeterSpecError: no known scheme, empty address, or an option the scheme lacks.
    """
    scheme, sep, rest = spec.partition(":")
    if not sep or scheme not in SCHEMES:
        known = ", ".join(f"{s}:" for s in SCHEMES)
        raise MeterSpecError(f"transport spec {spec!r} must start with one of {known}")
    address, _, query = rest.partition("?")
    if not address:
        raise MeterSpecError(f"transport spec {spec!r} has no address after {scheme}:")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as exc:
        raise MeterSpecError(f"bad options {query!r} in transport spec {spec!r}") from exc
    options = dict(pairs)
    unknown = sorted(set(options) - SCHEMES[scheme])
    if unknown:
        raise MeterSpecError(
            f"unknown option(s) {', '.join(unknown)} for {scheme}: in {spec!r}; "
            f"known: {', '.join(sorted(SCHEMES[scheme]))}"
        )
    return scheme, address, options


def _terminator(name: str, spec: str) -> str:
    try:
        return TERMINATORS[name.upper()]
    except KeyError:
        raise MeterSpecError(
            f"terminator {name!r} in {spec!r} must be one of {', '.join(TERMINATORS)}"
        ) from None


def _number(options: Mapping[str, str], key: str, cast: Callable[[str], float], spec: str) -> float:
    try:
        return cast(options[key])
    except ValueError:
        raise MeterSpecError(f"option {key}={options[key]!r} in {spec!r} is not a number") from None


def _flag(value: str) -> bool:
    return value.lower() in {"1", "true", "yes", "on"}


def open_transport(spec: str, *, defaults: Mapping[str, str] | None = None) -> Transport:
    """Open the transport named by ``spec``.

    Args:
        spec: transport spec, e.g. ``serial:/dev/ttyUSB0?baud=9600``.
        defaults: option values to use where the spec gives none (a driver's defaults, such
            as its factory baud rate). Keys the scheme does not know are ignored.

    Raises:
        MeterSpecError: the spec is malformed.
        TransportError: the port or resource cannot be opened (the message names it).
    """
    scheme, address, given = parse_transport_spec(spec)
    options = {k: v for k, v in (defaults or {}).items() if k in SCHEMES[scheme]}
    options.update(given)
    term = options.get("term")
    read_term = _terminator(options.get("read_term", term or "LF"), spec)
    write_term = _terminator(options.get("write_term", term or "LF"), spec)
    timeout_s = _number(options, "timeout_s", float, spec) if "timeout_s" in options else 2.0
    line: dict[str, int | float | str] = {}
    if "baud" in options:
        line["baud"] = int(_number(options, "baud", int, spec))
    if "bytesize" in options:
        line["bytesize"] = int(_number(options, "bytesize", int, spec))
    if "stopbits" in options:
        line["stopbits"] = _number(options, "stopbits", float, spec)
    if "parity" in options:
        line["parity"] = options["parity"].upper()
        if line["parity"] not in {"N", "E", "O"}:
            raise MeterSpecError(f"parity in {spec!r} must be N, E or O")
    log.debug("open_transport %s scheme=%s address=%s options=%s", spec, scheme, address, options)
    if scheme == "serial":
        from power_director.transport.serial import SerialTransport

        return SerialTransport(
            address,
            baud=int(line.get("baud", 9600)),
            parity=str(line.get("parity", "N")),
            bytesize=int(line.get("bytesize", 8)),
            stopbits=float(line.get("stopbits", 1.0)),
            rtscts=_flag(options.get("rtscts", "0")),
            xonxoff=_flag(options.get("xonxoff", "0")),
            write_termination=write_term,
            read_termination=read_term,
            timeout_s=timeout_s,
        )
    if scheme == "visa":
        from power_director.transport.visa import DEFAULT_BACKEND, VisaTransport

        resource, at, backend = address.partition("@")
        if at:
            backend = backend if "@" in backend else f"@{backend}"
        backend = options.get("backend", backend or DEFAULT_BACKEND)
        return VisaTransport(
            resource,
            backend=backend,
            baud=int(line["baud"]) if "baud" in line else None,
            parity=str(line["parity"]) if "parity" in line else None,
            bytesize=int(line["bytesize"]) if "bytesize" in line else None,
            stopbits=float(line["stopbits"]) if "stopbits" in line else None,
            write_termination=write_term,
            read_termination=read_term,
            timeout_s=timeout_s,
        )
    from power_director.transport.tcp import TcpTransport, split_host_port

    try:
        host, port = split_host_port(address)
    except ValueError as exc:
        raise MeterSpecError(f"tcp transport spec {spec!r}: {exc}") from exc
    return TcpTransport(
        host, port, write_termination=write_term, read_termination=read_term, timeout_s=timeout_s
    )
