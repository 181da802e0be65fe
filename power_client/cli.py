"""``wattbench client | run | check | report``: measured runs and their result folders.

``wattbench client`` measures a workload on this machine (the SUT) with a remote
``wattbench director``; ``wattbench run`` does the same on one machine with an embedded director
(default: the simulated meter, labelled SIMULATED everywhere); ``wattbench check DIR`` runs the
validity, file-set and hash checks on a result folder; ``wattbench report DIR`` re-renders its
summary, plot and HTML report.

Exit codes: 0 the result is VALID (check: every check passed); 3 the run finished but the
result is INVALID (check: a check failed); 1 the run failed (director unreachable or refusing,
clock offset beyond tolerance, workload failure, no usable LoadGen log) — files measured so far
are kept; 2 bad options, secret or input files; 130 interrupted (files kept).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "add_check_arguments",
    "add_client_arguments",
    "add_report_arguments",
    "add_run_arguments",
    "run_all_in_one",
    "run_check",
    "run_client",
    "run_report",
]

log = logging.getLogger(__name__)

EXIT_VALID, EXIT_FAILED, EXIT_USAGE, EXIT_INVALID, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
SCENARIOS = ("SingleStream", "MultiStream", "Server", "Offline")
DEFAULT_RUN_SUT = "openvino:@CPU"
DEFAULT_RUN_METER = "sim?rate=100ms"


# --- options shared by client and run ---------------------------------------------------------


def _add_workload_arguments(p: argparse.ArgumentParser, *, default_sut: str | None) -> None:
    g = p.add_argument_group("workload (in-process LoadGen + SUT, or a command)")
    g.add_argument(
        "--sut",
        default=default_sut,
        help=f"SUT spec for the in-process LoadGen (default {default_sut or 'none'})",
    )
    g.add_argument("--scenario", default="SingleStream", choices=SCENARIOS)
    g.add_argument(
        "--workload-name",
        dest="workload_name",
        help="workload of the SUT (default: the SUT's own; digits for OpenVINO)",
    )
    g.add_argument(
        "--duration",
        type=float,
        default=20.0,
        metavar="S",
        help="LoadGen min duration per phase, seconds (default 20; MLPerf submissions use 600)",
    )
    g.add_argument("--target-qps", type=float, help="Server target / Offline expected QPS")
    g.add_argument(
        "--target-latency-ms",
        type=float,
        help="Server latency bound, and SingleStream/MultiStream expected latency, ms",
    )
    g.add_argument("--conf", type=Path, help="user.conf applied on top of mlperf.conf")
    g.add_argument(
        "--workload",
        dest="workload_command",
        metavar="CMD",
        help="run this command instead (split like a shell would, never run by a shell); it "
        "must write LoadGen logs to $WATTBENCH_OUTPUT_DIR or its working folder. "
        "Or give the command after `--`.",
    )
    g.add_argument(
        "--ranging-fraction",
        type=float,
        default=1.0,
        metavar="F",
        help="ranging runs for F x the testing duration (default 1: a full run, as MLPerf); "
        "with F < 1 a testing sample over range makes the result invalid",
    )


def _add_measurement_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("measurement")
    g.add_argument("--out", type=Path, required=True, metavar="DIR", help="new result folder")
    g.add_argument("--label", default="", help="session label (default: scenario and SUT)")
    g.add_argument(
        "--clock-tolerance-ms",
        type=float,
        default=100.0,
        help="refuse to run when |clock offset| + RTT/2 exceeds this (default 100 ms)",
    )
    g.add_argument("--min-samples", type=int, default=10, help="power samples needed (10)")
    g.add_argument("--volts-range", type=float, help="manual voltage range for testing, V")
    g.add_argument("--amps-range", type=float, help="manual current range for testing, A")
    g.add_argument(
        "--skip-ranging",
        action="store_true",
        help="no ranging phase (needs --volts-range and --amps-range)",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress lines")
    m = p.add_argument_group("monitoring (Prometheus; docs/monitoring.md)")
    m.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        help="serve live LoadGen metrics at http://HOST:PORT/metrics during the run (a bare "
        "PORT means 127.0.0.1:PORT); `run` adds its embedded director's meter metrics",
    )
    m.add_argument("--metrics-tls-cert", type=Path, metavar="FILE", help="PEM cert: serve HTTPS")
    m.add_argument("--metrics-tls-key", type=Path, metavar="FILE", help="its PEM key")
    m.add_argument(
        "--metrics-auth-file",
        type=Path,
        metavar="FILE",
        help="require HTTP basic auth on the metrics; FILE holds one line 'user:password'",
    )
    m.add_argument(
        "--pushgateway",
        metavar="URL",
        help="push the results to this Prometheus Pushgateway at the end (job wattbench, "
        "grouped by sut, scenario, meter)",
    )
    m.add_argument(
        "--pushgateway-auth-file",
        type=Path,
        metavar="FILE",
        help="basic-auth credentials for the Pushgateway, one line 'user:password'",
    )
    g.add_argument("trailing", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def add_client_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``wattbench client``."""
    p.add_argument("--director", required=True, metavar="HOST:PORT", help="the director")
    p.add_argument(
        "--secret-file",
        type=Path,
        metavar="FILE",
        help="shared secret file (default: the WATTBENCH_SECRET environment variable)",
    )
    p.add_argument(
        "--cleanup", action="store_true", help="delete the session on the director once fetched"
    )
    _add_workload_arguments(p, default_sut=None)
    _add_measurement_arguments(p)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``wattbench run``."""
    p.add_argument(
        "--meter",
        action="append",
        dest="meters",
        metavar="SPEC",
        help=f"meter spec (repeatable; default {DEFAULT_RUN_METER!r}: simulated, following "
        "this host's CPU load)",
    )
    _add_workload_arguments(p, default_sut=DEFAULT_RUN_SUT)
    _add_measurement_arguments(p)


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``wattbench check``."""
    p.add_argument("dir", type=Path, metavar="DIR", help="result folder")


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    """Options of ``wattbench report``."""
    p.add_argument("dir", type=Path, metavar="DIR", help="result folder")


# --- building the pieces ----------------------------------------------------------------------


def _command(args: argparse.Namespace) -> list[str] | None:
    trailing = list(args.trailing or [])
    if trailing and trailing[0] == "--":
        trailing = trailing[1:]
    if args.workload_command and trailing:
        raise ValueError("give the workload command either with --workload or after --, not both")
    if args.workload_command:
        argv = shlex.split(args.workload_command)
        if not argv:
            raise ValueError("--workload is empty")
        return argv
    if trailing:
        return trailing
    return None


def _build_workload(args: argparse.Namespace, live: Any = None) -> Any:
    """Return the workload for ``args`` (a command, or LoadGen + a SUT)."""
    if not 0 < args.ranging_fraction <= 1:
        raise ValueError(f"--ranging-fraction must be in (0, 1], got {args.ranging_fraction}")
    if args.duration <= 0:
        raise ValueError(f"--duration must be positive, got {args.duration}")
    argv = _command(args)
    if argv is not None:
        from power_client.command_workload import CommandWorkload

        return CommandWorkload(argv)
    if not args.sut:
        raise ValueError("no workload: give --sut SPEC (with --scenario) or --workload CMD")
    from power_client.sut_workload import SutWorkload

    duration_ms = int(args.duration * 1000)
    return SutWorkload(
        args.sut,
        args.scenario,
        workload=args.workload_name,
        duration_ms=duration_ms,
        ranging_duration_ms=int(duration_ms * args.ranging_fraction),
        target_qps=args.target_qps,
        target_latency_ms=args.target_latency_ms,
        user_conf=args.conf,
        live_metrics=live,
    )


def _options(args: argparse.Namespace) -> Any:
    from power_client.measured_run import RunOptions

    if args.skip_ranging and (args.volts_range is None or args.amps_range is None):
        raise ValueError("--skip-ranging needs both --volts-range and --amps-range")
    label = args.label or f"{args.scenario}_{_short(getattr(args, 'sut', '') or 'command')}"
    return RunOptions(
        label=label,
        clock_tolerance_s=args.clock_tolerance_ms / 1000.0,
        volts_range=args.volts_range,
        amps_range=args.amps_range,
        skip_ranging=args.skip_ranging,
        cleanup=bool(getattr(args, "cleanup", False)),
        min_samples=args.min_samples,
        extra_settings={"ranging_fraction": args.ranging_fraction},
    )


def _short(spec: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in spec)[:40]


def _progress(args: argparse.Namespace) -> Any:
    if args.no_progress:
        return None
    from power_client.progress import TerminalProgress

    return TerminalProgress(expected_s=args.duration)


def _monitoring_settings(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """Return (metrics address or None, metrics auth, Pushgateway auth).

    Raises:
        ValueError: a malformed address, a missing or malformed auth file, half a TLS pair,
            or TLS/auth options without ``--metrics``.
    """
    from power_director.metrics_http import BasicAuth, parse_metrics_address

    tls = (args.metrics_tls_cert, args.metrics_tls_key)
    if not args.metrics and (any(tls) or args.metrics_auth_file):
        raise ValueError("--metrics-tls-cert/-key and --metrics-auth-file need --metrics")
    if (tls[0] is None) != (tls[1] is None):
        raise ValueError("--metrics-tls-cert and --metrics-tls-key go together")
    if args.pushgateway_auth_file and not args.pushgateway:
        raise ValueError("--pushgateway-auth-file needs --pushgateway")
    try:
        address = parse_metrics_address(args.metrics) if args.metrics else None
        auth = BasicAuth.from_file(args.metrics_auth_file) if args.metrics_auth_file else None
        push_auth = (
            BasicAuth.from_file(args.pushgateway_auth_file) if args.pushgateway_auth_file else None
        )
    except OSError as exc:
        raise ValueError(f"cannot read {exc.filename}: {exc.strerror}") from None
    return address, auth, push_auth


def _serve_live_metrics(args: argparse.Namespace, address: Any, auth: Any) -> Any:
    """Return a started LiveMetrics serving at ``address`` (OSError: port not bindable)."""
    from power_client.live_metrics import LiveMetrics

    live = LiveMetrics()
    server = live.serve(
        address, certfile=args.metrics_tls_cert, keyfile=args.metrics_tls_key, basic_auth=auth
    )
    live.start()
    print(f"Prometheus metrics at {server.url}", file=sys.stderr, flush=True)
    return live


def _push(args: argparse.Namespace, result: Any, auth: Any, name: str) -> None:
    """Push the results; a failure is a warning (the result folder is the record)."""
    from power_client.push import PushError, push_result

    try:
        key = push_result(args.pushgateway, result, basic_auth=auth)
    except PushError as exc:
        print(f"wattbench {name}: warning: {exc}", file=sys.stderr)
        return
    print(f"results pushed to {args.pushgateway} (job wattbench, {key})", file=sys.stderr)


def _measure(
    args: argparse.Namespace, address: str, secret: Any, name: str, live: Any = None
) -> int:
    """Connect, run both phases, print the summary; return the exit code."""
    from power_client.connection import DirectorClient
    from power_client.errors import PowerClientError, ResultFolderError
    from power_client.measured_run import check_out_dir, measured_run

    try:
        check_out_dir(args.out)  # before connecting: a used --out is a bad option
        _, _, push_auth = _monitoring_settings(args)
        workload = _build_workload(args, live)
        options = _options(args)
    except (ValueError, OSError, ResultFolderError) as exc:
        print(f"wattbench {name}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    progress = _progress(args)
    try:
        with DirectorClient.connect(address, secret) as client:
            result = measured_run(
                client,
                workload,
                args.out,
                options,
                progress=progress,
                director_address=address,
            )
    except KeyboardInterrupt:
        print(
            f"\nwattbench {name}: interrupted; files measured so far are in {args.out}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except PowerClientError as exc:
        print(f"\nwattbench {name}: {exc}", file=sys.stderr)
        if args.out.exists() and any(args.out.iterdir()):
            print(f"files measured so far are in {args.out}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if progress is not None:
            progress.finish()
        close = getattr(locals().get("workload"), "close", None)
        if callable(close):
            close()
    print((args.out / "summary.txt").read_text(encoding="utf-8"), end="")
    if args.pushgateway:
        _push(args, result, push_auth, name)
    return EXIT_VALID if result.get("valid") else EXIT_INVALID


# --- commands ---------------------------------------------------------------------------------


def run_client(args: argparse.Namespace) -> int:
    """``wattbench client``."""
    from power_director.auth import load_secret
    from power_director.errors import ConfigError

    try:
        secret = load_secret(args.secret_file)
        metrics_address, metrics_auth, _ = _monitoring_settings(args)
    except (ConfigError, ValueError) as exc:
        print(f"wattbench client: {exc}", file=sys.stderr)
        return EXIT_USAGE
    live = None
    if metrics_address is not None:
        try:
            live = _serve_live_metrics(args, metrics_address, metrics_auth)
        except OSError as exc:
            print(f"wattbench client: cannot serve the metrics: {exc}", file=sys.stderr)
            return EXIT_FAILED
    try:
        return _measure(args, args.director, secret, "client", live)
    finally:
        if live is not None:
            live.close()


def run_all_in_one(args: argparse.Namespace) -> int:
    """``wattbench run``: an embedded director on loopback, then a measured run."""
    from power_client.embedded import embedded_director
    from power_director.errors import PowerDirectorError

    meters = args.meters or [DEFAULT_RUN_METER]
    try:
        metrics_address, metrics_auth, _ = _monitoring_settings(args)
    except ValueError as exc:
        print(f"wattbench run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    live = exporter = None
    if metrics_address is not None:
        from power_director.exporter import DirectorExporter

        try:
            live = _serve_live_metrics(args, metrics_address, metrics_auth)
        except OSError as exc:
            print(f"wattbench run: cannot serve the metrics: {exc}", file=sys.stderr)
            return EXIT_FAILED
        exporter = DirectorExporter(live.registry)  # one endpoint for meters and LoadGen
    try:
        with embedded_director(meters, exporter=exporter) as director:
            if any(spec.split("@")[0].split(":")[0].split("?")[0] == "sim" for spec in meters):
                print(
                    "wattbench run: SIMULATED meter (by default its power follows this host's "
                    "CPU load): the numbers show the method, not this machine's real power",
                    file=sys.stderr,
                )
            return _measure(args, director.address, director.secret, "run", live)
    except PowerDirectorError as exc:
        print(f"wattbench run: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        if live is not None:
            live.close()


def run_check(args: argparse.Namespace) -> int:
    """``wattbench check DIR``: print each check, exit 0 only when all pass."""
    from power_client.checker import check_folder
    from power_client.errors import PowerClientError

    try:
        checks = check_folder(args.dir)
    except PowerClientError as exc:
        print(f"wattbench check: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for check in checks:
        print(f"[{'x' if check.passed else ' '}] {check.name}: {check.detail}")
    failed = [c for c in checks if not c.passed]
    print(
        f"{len(checks) - len(failed)}/{len(checks)} checks passed: "
        f"{'PASS' if not failed else 'FAIL'}"
    )
    return EXIT_VALID if not failed else EXIT_INVALID


def run_report(args: argparse.Namespace) -> int:
    """``wattbench report DIR``: re-render summary.txt, power.png and report.html."""
    from power_client.errors import PowerClientError
    from power_client.report import write_report

    try:
        paths = write_report(args.dir)
    except PowerClientError as exc:
        print(f"wattbench report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print((args.dir / "summary.txt").read_text(encoding="utf-8"), end="")
    for path in paths:
        print(f"wrote {path}")
    return EXIT_VALID


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m power_client.cli`` (same as ``wattbench``)."""
    from power_client.commands import main as wattbench_main

    return wattbench_main(list(argv) if argv is not None else None)
