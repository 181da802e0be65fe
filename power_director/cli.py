"""``wattbench director``: open the meters, then serve clients until Ctrl-C.

Example::

    wattbench director --meter wt310e@serial:/dev/ttyUSB0 --data-dir /srv/wattbench \\
        --secret-file /etc/wattbench/secret           # listens on 127.0.0.1:4950

The meters are opened (and identified) before listening, so an absent or silent meter is
reported at start, naming its spec and port, with a non-zero exit. Exit codes: 0 after Ctrl-C,
1 when a meter or the listening socket fails, 2 for invalid options, config or secret.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from power_director.auth import load_secret, write_secret_file
from power_director.config import DEFAULT_LISTEN, DirectorConfig, load_config
from power_director.errors import ConfigError, MeterError, PowerDirectorError
from power_director.meters.base import PowerMeter
from power_director.metrics_http import BasicAuth, parse_metrics_address
from power_director.reconnect import ReconnectingMeter, reconnect_meter
from power_director.sampler import SampleSink
from power_director.server import RunningDirector, serve
from power_director.session import Engine, EngineFactory

__all__ = ["add_arguments", "build_config", "engine_factory", "main", "open_meters", "run"]

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the director's options to ``parser``."""
    parser.add_argument(
        "--meter",
        action="append",
        metavar="SPEC",
        dest="meters",
        help="meter spec, e.g. wt310e@serial:/dev/ttyUSB0 (repeat for several meters)",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help=f"address to listen on (default {DEFAULT_LISTEN}; 0.0.0.0:4950 for all interfaces)",
    )
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where session folders go")
    parser.add_argument(
        "--secret-file",
        type=Path,
        metavar="FILE",
        help="shared secret file (default: the WATTBENCH_SECRET environment variable)",
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="director TOML config file")
    parser.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (a bare PORT means "
        "127.0.0.1:PORT); off by default",
    )
    parser.add_argument(
        "--metrics-tls-cert", type=Path, metavar="FILE", help="PEM certificate: serve HTTPS"
    )
    parser.add_argument("--metrics-tls-key", type=Path, metavar="FILE", help="its PEM key")
    parser.add_argument(
        "--metrics-auth-file",
        type=Path,
        metavar="FILE",
        help="require HTTP basic auth on the metrics; FILE holds one line 'user:password'",
    )
    parser.add_argument(
        "--generate-secret",
        type=Path,
        metavar="FILE",
        help="write a new random secret to FILE (mode 0600) and exit",
    )


def build_config(args: argparse.Namespace) -> DirectorConfig:
    """Return the config file's settings (if any) overridden by the flags given.

    Raises:
        ConfigError: invalid file or flag.
    """
    base = load_config(args.config) if args.config else DirectorConfig()
    return base.replace(
        meters=tuple(args.meters) if args.meters else None,
        listen=args.listen,
        data_dir=args.data_dir,
        secret_file=args.secret_file,
    )


def open_meters(specs: Sequence[str]) -> list[tuple[str, PowerMeter, dict[str, Any]]]:
    """Open every meter; return ``(name, meter, info)`` for each.

    Each meter is a :class:`~power_director.reconnect.ReconnectingMeter`: after a transport
    error the engine built by :func:`engine_factory` reopens it from its spec.

    Raises:
        MeterError: a meter cannot be opened (the message names the spec and the cause);
            the ones already open are closed again.
    """
    from power_director.meters.registry import open_meter

    opened: list[tuple[str, PowerMeter, dict[str, Any]]] = []
    try:
        for index, spec in enumerate(specs, 1):
            try:
                meter: PowerMeter = ReconnectingMeter(spec, open_meter(spec))
                identity = meter.identify()
            except PowerDirectorError as exc:
                raise MeterError(f"cannot open meter {spec!r}: {exc}") from exc
            model = meter.name or "meter"
            name = f"{model}_{index}" if len(specs) > 1 else model
            info = {
                "spec": spec,
                "name": name,
                "model": meter.name,
                "identity": f"{identity.manufacturer},{identity.model},{identity.serial},"
                f"{identity.firmware}",
                "channels": meter.channel_count,
                "update_interval_s": meter.update_interval_s,
                "simulated": bool(getattr(meter, "simulated", False)),
            }
            log.info("meter %s open: %s", spec, info["identity"])
            opened.append((name, meter, info))
    except BaseException:
        for _, meter, _ in opened:
            _close_quietly(meter)
        raise
    return opened


def _close_quietly(meter: PowerMeter) -> None:
    try:
        meter.close()
    except Exception as exc:
        log.warning("closing meter %s failed: %s", meter.name, exc)


def engine_factory(
    opened: Sequence[tuple[str, PowerMeter, dict[str, Any]]],
    sample_period_s: float | None,
    *,
    observers: Sequence[SampleSink] = (),
) -> EngineFactory:
    """Return the session engine factory for meters from :func:`open_meters`.

    Each session's :class:`~power_director.measurement.MeasurementEngine` reopens a meter from
    its spec after a transport error (:func:`~power_director.reconnect.reconnect_meter`);
    ``observers`` receive every sample and gap (e.g. the Prometheus exporter).
    """
    from power_director.measurement import MeasurementEngine

    meters = [(name, meter) for name, meter, _ in opened]

    def factory(folder: Path) -> Engine:
        engine: Engine = MeasurementEngine(
            meters,
            folder,
            sample_period_s=sample_period_s,
            reconnect=reconnect_meter,
            observers=observers,
        )
        return engine

    return factory


def _metrics_settings(args: argparse.Namespace) -> tuple[tuple[str, int], BasicAuth | None] | None:
    """Return the ``--metrics`` address and credentials; None without ``--metrics``.

    Raises:
        ConfigError: malformed address, unreadable auth file, or half a TLS pair.
    """
    tls = (args.metrics_tls_cert, args.metrics_tls_key)
    if not args.metrics:
        if any(tls) or args.metrics_auth_file:
            raise ConfigError("--metrics-tls-cert/-key and --metrics-auth-file need --metrics")
        return None
    if (tls[0] is None) != (tls[1] is None):
        raise ConfigError("--metrics-tls-cert and --metrics-tls-key go together")
    try:
        address = parse_metrics_address(args.metrics)
        auth = BasicAuth.from_file(args.metrics_auth_file) if args.metrics_auth_file else None
    except (ValueError, OSError) as exc:
        raise ConfigError(f"--metrics: {exc}") from None
    return address, auth


def run(
    args: argparse.Namespace,
    *,
    stop: threading.Event | None = None,
    on_ready: Callable[[RunningDirector], None] | None = None,
) -> int:
    """Run the director for parsed ``args``; return the exit code.

    ``stop`` (set it to stop) and ``on_ready`` exist for in-process tests. Without ``stop``, in
    the main thread, Ctrl-C and SIGTERM (``systemctl stop``, ``kill``) stop the director the
    same way: sessions closed, every meter's initial state restored, exit code 0. (Python's
    default SIGTERM action would end the process without running any ``finally`` and leave the
    meters in the last phase's ranges.) The handler is installed before anything is opened, so a
    SIGTERM during start-up stops the director as soon as it is up.
    """
    if stop is not None or threading.current_thread() is not threading.main_thread():
        return _run(args, stop or threading.Event(), on_ready)
    sigterm = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: sigterm.set())
    try:
        return _run(args, sigterm, on_ready)
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _run(
    args: argparse.Namespace,
    stop: threading.Event,
    on_ready: Callable[[RunningDirector], None] | None,
) -> int:
    if args.generate_secret:
        try:
            write_secret_file(args.generate_secret)
        except ConfigError as exc:
            print(f"wattbench director: {exc}", file=sys.stderr)
            return 2
        print(f"wrote a new secret to {args.generate_secret}")
        return 0
    try:
        config = build_config(args)
        secret = load_secret(config.secret_file, env_var=config.secret_env)
        metrics = _metrics_settings(args)
    except ConfigError as exc:
        print(f"wattbench director: {exc}", file=sys.stderr)
        return 2
    if not config.meters:
        print(
            "wattbench director: no meter given: use --meter SPEC (e.g. --meter "
            "wt310e@serial:/dev/ttyUSB0) or 'meters' in the config file",
            file=sys.stderr,
        )
        return 2
    try:
        opened = open_meters(config.meters)
    except PowerDirectorError as exc:
        print(f"wattbench director: {exc}", file=sys.stderr)
        return 1
    exporter = None
    try:
        try:
            factory = engine_factory(opened, config.sample_period_s)
            if metrics is not None:
                from power_director.exporter import DirectorExporter, instrument_engine_factory

                exporter = DirectorExporter()
                exporter.describe_meters(info for _, _, info in opened)
                factory = instrument_engine_factory(
                    engine_factory(opened, config.sample_period_s, observers=[exporter]),
                    exporter,
                )
                server = exporter.serve(
                    metrics[0],
                    certfile=args.metrics_tls_cert,
                    keyfile=args.metrics_tls_key,
                    basic_auth=metrics[1],
                )
                print(f"wattbench director: Prometheus metrics at {server.url}", flush=True)
            director = serve(
                config,
                factory,
                secret=secret,
                meters_info=[info for _, _, info in opened],
                meter_names=[n for n, _, _ in opened],
            )
        except (ImportError, OSError) as exc:
            print(f"wattbench director: cannot start: {exc}", file=sys.stderr)
            return 1
        with director:
            host, port = director.address
            print(
                f"wattbench director listening on {host}:{port} "
                f"(meters: {', '.join(config.meters)}; sessions in {config.data_dir}); "
                f"Ctrl-C or SIGTERM stops",
                flush=True,
            )
            if on_ready is not None:
                on_ready(director)
            try:
                stop.wait()
            except KeyboardInterrupt:
                pass
            print("stopping", file=sys.stderr)
    finally:
        if exporter is not None:
            exporter.close()
        for _, meter, _ in opened:
            _close_quietly(meter)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``wattbench director`` with ``argv``; return the exit code."""
    parser = argparse.ArgumentParser(prog="wattbench director", description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="count", default=0, help="-v INFO, -vv DEBUG")
    add_arguments(parser)
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(args)
