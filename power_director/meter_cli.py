"""The ``wattbench meter`` subcommands: ``list``, ``probe SPEC`` and ``simulate``.

The top-level CLI calls :func:`add_meter_parser` with its subparsers and then runs
``args.handler(args)``, which returns the exit code. ``simulate`` delegates to
``power_director.sim.cli`` (``add_simulate_arguments(parser)`` / ``run_simulate(args)``),
imported only when the parser is built or the command runs. :func:`main` runs the group on its
own (``python -m power_director.meter_cli list``), which the tests use.

Exit codes: 0 success; 2 a meter or spec error (the message names the spec and port); 3 the
simulator is not available.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from power_director.errors import PowerDirectorError
from power_director.meters.registry import MeterInfo, list_meters, open_meter
from power_director.meters.uncertainty import ACCURACY

log = logging.getLogger(__name__)

_SIM_CLI = "power_director.sim.cli"


def add_meter_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``meter`` command group to ``subparsers`` (from ``add_subparsers()``)."""
    meter = subparsers.add_parser("meter", help="list, probe or simulate power meters")
    commands = meter.add_subparsers(dest="meter_command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="show the supported meter models")
    listing.add_argument("--commands", action="store_true", help="also list every command used")
    listing.set_defaults(handler=run_list)

    probe = commands.add_parser("probe", help="identify a meter and print a few readings")
    probe.add_argument("spec", help="meter spec, e.g. wt310e@serial:/dev/ttyUSB0?baud=9600")
    probe.add_argument("-n", "--count", type=int, default=3, help="readings to print (3)")
    probe.add_argument(
        "--interval-s", type=float, default=None, help="pause between readings, s (update rate)"
    )
    probe.set_defaults(handler=run_probe)

    simulate = commands.add_parser("simulate", help="run a simulated WT310E/WT210 meter")
    try:
        sim_cli = importlib.import_module(_SIM_CLI)
    except ImportError as exc:
        log.debug("simulator CLI unavailable: %s", exc)
    else:
        sim_cli.add_simulate_arguments(simulate)
    simulate.set_defaults(handler=run_simulate)
    parser: argparse.ArgumentParser = meter
    return parser


def _accuracy_text(name: str) -> str:
    spec = ACCURACY.get(name)
    if spec is None:
        return "-"
    band = spec.band(50.0)
    text = f"{band.reading_pct:g}%rdg+{band.range_pct:g}%rng" if band else "-"
    return text if spec.verified else f"{text} (unverified)"


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        out.write("\n")


def run_list(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the supported models: name, interfaces, accuracy at 50 Hz, how tested."""
    out = out or sys.stdout
    infos: list[MeterInfo] = list_meters()
    rows = [["MODEL", "INTERFACES", "ACCURACY (50 Hz)", "TESTED", "DESCRIPTION"]]
    for info in infos:
        rows.append(
            [
                info.name,
                ",".join(info.interfaces),
                _accuracy_text(info.name),
                info.tested,
                info.description,
            ]
        )
    _table(rows, out)
    if getattr(args, "commands", False):
        for info in infos:
            if info.commands:
                out.write(f"\n{info.name}: {' '.join(info.commands)}\n")
    return 0


def _format_reading(index: int, reading: Any) -> str:
    if not reading.valid:
        return f"  ch{index}: INVALID ({', '.join(sorted(reading.flags))})"
    text = (
        f"  ch{index}: {reading.volts:.4g} V  {reading.amps:.4g} A  {reading.watts:.4g} W  "
        f"PF {reading.power_factor:.4g}"
    )
    if reading.watts_uncertainty == reading.watts_uncertainty:  # not NaN
        text += f"  ±{reading.watts_uncertainty:.3g} W"
    if reading.volts_range is not None and reading.amps_range is not None:
        text += f"  [{reading.volts_range:g} V / {reading.amps_range:g} A]"
    return text


def run_probe(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Identify the meter named by ``args.spec`` and print ``args.count`` readings."""
    out = out or sys.stdout
    try:
        meter = open_meter(args.spec)
    except PowerDirectorError as exc:
        print(f"error: cannot open meter {args.spec}: {exc}", file=sys.stderr)
        return 2
    try:
        identity = meter.identify()
        out.write(
            f"{identity.manufacturer} {identity.model} serial {identity.serial} "
            f"firmware {identity.firmware}\n"
        )
        interval = args.interval_s
        if interval is None:
            interval = meter.update_interval_s if meter.update_interval_s > 0 else 0.25
        for n in range(args.count):
            if n:
                time.sleep(interval)
            out.write(f"reading {n + 1}:\n")
            for index, reading in enumerate(meter.read(), start=1):
                out.write(_format_reading(index, reading) + "\n")
    except PowerDirectorError as exc:
        print(f"error: meter {args.spec}: {exc}", file=sys.stderr)
        return 2
    finally:
        meter.close()
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """Run the simulated meter (``power_director.sim.cli.run_simulate``)."""
    try:
        sim_cli = importlib.import_module(_SIM_CLI)
    except ImportError as exc:
        print(f"error: the simulated meter is not available ({exc})", file=sys.stderr)
        return 3
    result: int = sim_cli.run_simulate(args)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``meter`` command group on its own; return the exit code."""
    parser = argparse.ArgumentParser(prog="wattbench")
    add_meter_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
