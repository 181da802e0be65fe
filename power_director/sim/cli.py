"""``wattbench meter simulate``: run a standalone simulated meter until Ctrl-C.

The meter CLI adds these options to its ``simulate`` subparser with
:func:`add_simulate_arguments` and calls :func:`run_simulate`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path
from typing import TextIO

from power_director.errors import SimulatorError
from power_director.sim.config import SimulatorConfig
from power_director.sim.instrument import DIALECTS
from power_director.sim.load import CpuLoad, LoadModel
from power_director.sim.profile import load_profile
from power_director.sim.simulator import DEFAULT_TCP_ADDRESS, start_simulator

__all__ = ["add_simulate_arguments", "run_simulate"]

logger = logging.getLogger(__name__)


def add_simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``simulate`` options to ``parser``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--pty", action="store_true", help="serve on a new pty pair (default); open its path"
    )
    where.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        nargs="?",
        const=DEFAULT_TCP_ADDRESS,
        help="serve LF-terminated lines on TCP (default host 127.0.0.1; port 0 = any free)",
    )
    parser.add_argument("--dialect", choices=sorted(DIALECTS), default="wt310e")
    load = parser.add_mutually_exclusive_group()
    load.add_argument("--profile", type=Path, metavar="FILE", help="scripted load profile")
    load.add_argument(
        "--cpu", action="store_true", help="power follows this host's CPU use (default)"
    )
    parser.add_argument("--idle-w", type=float, default=60.0, help="--cpu power at 0%% (W)")
    parser.add_argument("--max-w", type=float, default=200.0, help="--cpu power at 100%% (W)")
    parser.add_argument("--seed", type=int, default=None, help="noise seed (default: random)")
    parser.add_argument("--baud", type=int, default=None, help="emulate serial byte time")
    parser.add_argument("--noise-w", type=float, default=0.05, help="power noise sd (W)")
    parser.add_argument(
        "--update-interval-s",
        type=float,
        default=0.25,
        help="update interval at start and after *RST (down to 0.001; real meters: >= 0.1)",
    )
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a non-loopback --tcp address"
    )
    parser.add_argument("--duration-s", type=float, default=None, help=argparse.SUPPRESS)


def _load_from(args: argparse.Namespace) -> LoadModel:
    if args.profile is not None:
        return load_profile(args.profile)
    return CpuLoad(idle_w=args.idle_w, max_w=args.max_w)


def run_simulate(
    args: argparse.Namespace, out: TextIO | None = None, stop: threading.Event | None = None
) -> int:
    """Start the simulator, print where to connect, serve until Ctrl-C (or ``stop``).

    Returns 0 on a clean stop, 2 when the simulator cannot start (message on stderr).
    """
    out = out if out is not None else sys.stdout
    stop = stop if stop is not None else threading.Event()
    try:
        load = _load_from(args)
        config = SimulatorConfig(
            update_interval_s=args.update_interval_s, noise_w=args.noise_w, baud=args.baud
        )
        sim = start_simulator(
            dialect=args.dialect,
            transport="tcp" if args.tcp is not None else "pty",
            address=args.tcp if args.tcp is not None else DEFAULT_TCP_ADDRESS,
            load=load,
            seed=args.seed,
            config=config,
            allow_remote=args.allow_remote,
        )
    except SimulatorError as error:
        print(f"wattbench meter simulate: {error}", file=sys.stderr)
        return 2
    with sim:
        describe = getattr(load, "describe", None)
        lines = [
            f"Simulated {sim.instrument.dialect.model} on {sim.transport} {sim.address}",
            f"  connect to:  {sim.address}",
            f"  meter spec:  {sim.spec}",
            f"  VISA:        {sim.visa_resource}",
            f"  load:        {describe() if callable(describe) else type(load).__name__}",
            "Press Ctrl-C to stop.",
        ]
        print("\n".join(lines), file=out, flush=True)
        try:
            stop.wait(args.duration_s)
        except KeyboardInterrupt:
            pass
    print("simulated meter stopped", file=out, flush=True)
    return 0
