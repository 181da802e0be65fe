"""Director request round trip on loopback: ``time`` requests, p50/p99/max in microseconds.

Starts an in-process director on 127.0.0.1:0 (no meter is needed: ``time`` never touches the
engine), authenticates like a client, then times N ``time`` request/reply pairs.

Usage::

    python benchmarks/director_rtt.py [-n 20000] [--warmup 500]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

from power_director.auth import Secret, client_proof, new_nonce, verify_director
from power_director.config import DirectorConfig
from power_director.errors import PowerDirectorError
from power_director.protocol import (
    PROTOCOL_VERSION,
    Auth,
    AuthOk,
    Hello,
    MessageStream,
    Ok,
    ServerHello,
    TimeReply,
    TimeRequest,
)
from power_director.server import serve
from power_director.session import Engine


def _no_engine(folder: Path) -> Engine:
    raise PowerDirectorError("the benchmark opens no session")


def percentile(sorted_values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0-1) of ascending ``sorted_values`` (nearest rank)."""
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def measure(n: int, warmup: int) -> list[float]:
    """Return ``n`` round-trip times of ``time`` requests, microseconds."""
    secret = Secret(b"benchmark-secret-0123456789abcdef", "benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        config = DirectorConfig(listen="127.0.0.1:0", data_dir=Path(tmp))
        with serve(config, _no_engine, secret=secret) as director:
            stream = MessageStream(socket.create_connection(director.address))
            stream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                hello = stream.expect(ServerHello)
                stream.request(Hello(PROTOCOL_VERSION, "director_rtt"), Ok)
                nonce = new_nonce()
                ok = stream.request(Auth(nonce, client_proof(secret, hello.nonce, nonce)), AuthOk)
                verify_director(secret, hello.nonce, nonce, ok.mac)
                rtts: list[float] = []
                for i in range(warmup + n):
                    t0 = time.perf_counter_ns()
                    stream.request(TimeRequest(), TimeReply)
                    t1 = time.perf_counter_ns()
                    if i >= warmup:
                        rtts.append((t1 - t0) / 1000)
            finally:
                stream.close()
    return rtts


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=20000, help="timed requests (20000)")
    parser.add_argument("--warmup", type=int, default=500, help="untimed requests first (500)")
    args = parser.parse_args(argv)
    rtts = sorted(measure(args.n, args.warmup))
    print(
        f"director time-request round trip on loopback, n={len(rtts)}: "
        f"p50 {percentile(rtts, 0.50):.1f} us, p99 {percentile(rtts, 0.99):.1f} us, "
        f"mean {statistics.fmean(rtts):.1f} us, max {rtts[-1]:.1f} us"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
