"""An in-process director on loopback, for ``wattbench run`` (one machine, no setup).

It opens the meters (default the simulated meter, whose power follows this host's CPU load),
serves the ordinary director protocol on ``127.0.0.1`` with a fresh random secret, and keeps
its sessions in a temporary folder (the client fetches every file into the result folder). The
client then talks to it exactly as to a remote director: same protocol, same authentication,
same clock-offset check — one code path for both modes.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from power_director.auth import Secret

if TYPE_CHECKING:
    from power_director.exporter import DirectorExporter

__all__ = ["EmbeddedDirector", "embedded_director"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedDirector:
    """Where the embedded director listens and the secret to authenticate with."""

    address: str
    secret: Secret
    meters: tuple[str, ...]


@contextlib.contextmanager
def embedded_director(
    meter_specs: Sequence[str],
    *,
    data_dir: Path | None = None,
    sample_period_s: float | None = None,
    exporter: DirectorExporter | None = None,
) -> Iterator[EmbeddedDirector]:
    """Open ``meter_specs`` and serve them on a free loopback port until the block ends.

    ``exporter`` (optional) observes the samples and phases, as ``wattbench director
    --metrics`` does.

    Raises:
        PowerDirectorError: a meter cannot be opened (the message names its spec).
        OSError: no loopback port could be bound.
    """
    from power_director.cli import engine_factory, open_meters
    from power_director.config import DirectorConfig
    from power_director.server import serve

    secret = Secret(secrets.token_bytes(32), "embedded director (random, this run only)")
    with contextlib.ExitStack() as stack:
        folder = data_dir
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wattbench-")))
        opened = open_meters(list(meter_specs))
        for _, meter, _ in opened:
            stack.callback(_close_quietly, meter)
        config = DirectorConfig(
            meters=tuple(meter_specs),
            listen="127.0.0.1:0",
            data_dir=folder,
            sample_period_s=sample_period_s,
        )
        factory = engine_factory(opened, sample_period_s)
        if exporter is not None:
            from power_director.exporter import instrument_engine_factory

            exporter.describe_meters(info for _, _, info in opened)
            factory = instrument_engine_factory(
                engine_factory(opened, sample_period_s, observers=[exporter]), exporter
            )
        director = serve(
            config,
            factory,
            secret=secret,
            meters_info=[info for _, _, info in opened],
            meter_names=[name for name, _, _ in opened],
        )
        stack.callback(director.close)
        host, port = director.address
        log.info("embedded director on %s:%d, meters %s", host, port, list(meter_specs))
        yield EmbeddedDirector(f"{host}:{port}", secret, tuple(meter_specs))


def _close_quietly(meter: object) -> None:
    close = getattr(meter, "close", None)
    try:
        if callable(close):
            close()
    except Exception as exc:
        log.warning("closing meter failed: %s", exc)
