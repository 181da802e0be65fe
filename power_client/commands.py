"""The ``wattbench`` console script: one subcommand per role, dispatched lazily.

Each subcommand lives in the package that owns it and is imported only when used, so
``wattbench bench`` never imports the director and ``wattbench meter list`` never imports
OpenVINO. ``-v``/``-vv`` raise the log level to INFO/DEBUG (logging is configured only here).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable

# name -> (module, add-arguments function, run function, help)
_COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "bench": ("suts.bench", "add_arguments", "run", "run LoadGen against a SUT"),
}
_OPTIONAL_COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "director": ("power_director.cli", "add_arguments", "run", "run the power director service"),
    "client": (
        "power_client.cli",
        "add_client_arguments",
        "run_client",
        "measured run against a director",
    ),
    "run": (
        "power_client.cli",
        "add_run_arguments",
        "run_all_in_one",
        "measured run on this machine",
    ),
    "check": ("power_client.cli", "add_check_arguments", "run_check", "check a result folder"),
    "report": (
        "power_client.cli",
        "add_report_arguments",
        "run_report",
        "re-render a result folder",
    ),
}


def _available() -> dict[str, tuple[str, str, str, str]]:
    found = dict(_COMMANDS)
    for name, entry in _OPTIONAL_COMMANDS.items():
        try:
            mod = importlib.util.find_spec(entry[0])
        except ModuleNotFoundError:
            mod = None
        if mod is not None:
            found[name] = entry
    return found


def build_parser() -> tuple[
    argparse.ArgumentParser, dict[str, Callable[[argparse.Namespace], int]]
]:
    """Return the parser and the run function of each subcommand."""
    p = argparse.ArgumentParser(
        prog="wattbench", description="Power-measured inference benchmarks."
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="-v INFO, -vv DEBUG")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    runners: dict[str, Callable[[argparse.Namespace], int]] = {}
    for name, (module, add, run, help_text) in _available().items():
        mod = importlib.import_module(module)
        sp = sub.add_parser(name, help=help_text, description=mod.__doc__)
        getattr(mod, add)(sp)
        runners[name] = getattr(mod, run)
    if importlib.util.find_spec("power_director.meter_cli") is not None:
        # a command group: its subcommands set args.handler
        importlib.import_module("power_director.meter_cli").add_meter_parser(sub)
    return p, runners


def main(argv: list[str] | None = None) -> int:
    """Run ``wattbench``; return the exit code."""
    parser, runners = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = getattr(args, "handler", None) or runners[args.command]
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
