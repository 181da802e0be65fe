"""A meter's power trace as numpy arrays, read from a phase folder the director wrote.

One :class:`PowerTrace` per meter and phase: sample times on the director's UTC wall clock and
its monotonic clock, active power (the sum over the meter's channels), its uncertainty, and
validity. Sources:

* ``samples.jsonl`` (:func:`read_trace`): the director's machine-readable log (format in
  :mod:`power_director.powerlog`). Only the sample-level fields are used (``watts`` is already
  the channel sum, ``flags`` the union of the channel flags), so each sample line is decoded up
  to its ``channels`` list, which is two thirds of the line; a line where that shortcut does not
  apply is decoded whole. This keeps a 1 h, 10 Hz log (36 000 lines) at about 0.1 s.
* ``spl.txt`` (:func:`read_spl_trace`): PTDaemon-compatible lines, e.g. a folder produced by
  power-dev. Field 3 (W) is used; W <= 0 (PTDaemon writes -1 for an invalid value) marks the
  sample invalid, the uncertainty is unknown (NaN), and the time has millisecond resolution.
* A phase folder (:func:`read_phase_traces`): ``samples.jsonl`` for one meter,
  ``samples_<meter>.jsonl`` per meter with several, else ``spl.txt``.

Example::

    traces = read_phase_traces(Path("results/run_1"))
    traces[0].watts.mean()

Errors: :class:`~power_client.errors.JoinError` (naming the folder or file) when a folder has
no power log or a file holds no sample.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from power_client.errors import JoinError
from power_director.powerlog import decode_line, record_to_gap
from power_director.sampler import Gap
from power_director.samples import FLAG_OVER_RANGE
from power_director.spl import read_spl

log = logging.getLogger(__name__)

__all__ = ["PowerTrace", "read_phase_traces", "read_spl_trace", "read_trace"]

_CHANNELS_KEY = ',"channels":'
_SAMPLE_FIELDS = ("t_mono_ns", "t_wall_ns", "valid", "watts")


@dataclass(frozen=True, eq=False)
class PowerTrace:
    """One meter's samples in one phase, in file order. Units: ns, W, s.

    Attributes:
        meter: the meter's name.
        source: the file the trace was read from.
        period_s: the sampling period from the log header, s; None when not recorded.
        t_wall_ns: the director's UTC wall-clock time of each sample, ns since the epoch.
        t_mono_ns: the director's monotonic time of each sample, ns (``spl.txt``: the wall time).
        watts: active power summed over the meter's channels, W; NaN where invalid.
        watts_uncertainty: absolute uncertainty of ``watts``, W; NaN when unknown.
        valid: False for a sample the meter flagged or that could not be read.
        over_range: True for a sample with an over-range flag.
        gaps: the gap records of the log (missed updates, transport outages).
    """

    meter: str
    source: Path
    period_s: float | None
    t_wall_ns: npt.NDArray[np.int64]
    t_mono_ns: npt.NDArray[np.int64]
    watts: npt.NDArray[np.float64]
    watts_uncertainty: npt.NDArray[np.float64]
    valid: npt.NDArray[np.bool_]
    over_range: npt.NDArray[np.bool_]
    gaps: tuple[Gap, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.t_wall_ns)
        arrays = (self.t_mono_ns, self.watts, self.watts_uncertainty, self.valid, self.over_range)
        if any(len(a) != n for a in arrays):
            raise ValueError(f"{self.source}: trace arrays differ in length")

    def __len__(self) -> int:
        return len(self.t_wall_ns)


def _sample_records(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON records of ``path``; sample records may lack their ``channels``."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            cut = line.find(_CHANNELS_KEY)
            # The writer puts "channels" last, so a complete line ends "}]}" right after it.
            if cut > 0 and line.rstrip().endswith("}]}"):
                try:
                    record: dict[str, Any] = json.loads(line[:cut] + "}")
                except json.JSONDecodeError:
                    pass
                else:
                    if all(name in record for name in _SAMPLE_FIELDS):
                        yield record
                        continue
            whole = decode_line(line, path, number)
            if whole is not None:
                yield whole


def read_trace(path: str | os.PathLike[str]) -> PowerTrace:
    """Read one meter's ``samples.jsonl`` into a :class:`PowerTrace`.

    Raises:
        JoinError: the file holds no sample record.
        FileNotFoundError: the file does not exist.
    """
    source = Path(path)
    header: dict[str, Any] = {}
    gaps: list[Gap] = []
    t_wall: list[int] = []
    t_mono: list[int] = []
    watts: list[float] = []
    uncertainty: list[float] = []
    valid: list[bool] = []
    over_range: list[bool] = []
    meter = ""
    for record in _sample_records(source):
        kind = record.get("type")
        if kind == "sample":
            t_wall.append(record["t_wall_ns"])
            t_mono.append(record["t_mono_ns"])
            w = record["watts"]
            u = record.get("watts_uncertainty")
            watts.append(math.nan if w is None else w)
            uncertainty.append(math.nan if u is None else u)
            valid.append(bool(record["valid"]) and w is not None)
            over_range.append(FLAG_OVER_RANGE in record.get("flags", ()))
            meter = meter or str(record.get("meter", ""))
        elif kind == "gap":
            gaps.append(record_to_gap(record))
        elif kind == "header":
            header = record
    if not t_wall:
        raise JoinError(f"{source}: no power sample in the file (empty or only a header)")
    period = header.get("period_s")
    return PowerTrace(
        meter=str(header.get("meter") or meter or source.stem),
        source=source,
        period_s=None if period is None else float(period),
        t_wall_ns=np.array(t_wall, dtype=np.int64),
        t_mono_ns=np.array(t_mono, dtype=np.int64),
        watts=np.array(watts, dtype=np.float64),
        watts_uncertainty=np.array(uncertainty, dtype=np.float64),
        valid=np.array(valid, dtype=np.bool_),
        over_range=np.array(over_range, dtype=np.bool_),
        gaps=tuple(gaps),
    )


def read_spl_trace(path: str | os.PathLike[str], meter: str = "") -> PowerTrace:
    """Read an ``spl.txt`` file into a :class:`PowerTrace` (W uncertainty unknown).

    Args:
        path: the ``spl.txt`` file.
        meter: the name to give the trace (default: the file's stem).

    Raises:
        JoinError: the file holds no ``Time,...`` sample line.
        FileNotFoundError: the file does not exist.
    """
    source = Path(path)
    records = read_spl(source)
    if not records:
        raise JoinError(f"{source}: no 'Time,...' sample line in the file")
    t_wall = np.array([r.t_wall_ns for r in records], dtype=np.int64)
    raw = np.array([r.watts for r in records], dtype=np.float64)
    valid = raw > 0.0
    return PowerTrace(
        meter=meter or source.stem,
        source=source,
        period_s=None,
        t_wall_ns=t_wall,
        t_mono_ns=t_wall.copy(),
        watts=np.where(valid, raw, np.nan),
        watts_uncertainty=np.full(len(records), np.nan),
        valid=valid,
        over_range=np.zeros(len(records), dtype=np.bool_),
    )


def read_phase_traces(phase_dir: str | os.PathLike[str]) -> list[PowerTrace]:
    """Read every meter's trace of one phase folder (``ranging/``, ``run_1/``).

    Layouts: ``samples.jsonl`` (one meter); ``samples_<meter>.jsonl`` (several meters, sorted by
    name; the merged ``spl.txt`` beside them is not read); only ``spl.txt`` (e.g. power-dev).

    Raises:
        JoinError: the folder has no power log, or has both layouts, or a log has no sample.
    """
    folder = Path(phase_dir)
    single = folder / "samples.jsonl"
    per_meter = sorted(folder.glob("samples_*.jsonl"))
    if single.is_file() and per_meter:
        raise JoinError(
            f"{folder}: both samples.jsonl and samples_<meter>.jsonl files; "
            "cannot tell which layout is meant (remove the stray file)"
        )
    if per_meter:
        return [read_trace(p) for p in per_meter]
    if single.is_file():
        return [read_trace(single)]
    spl = folder / "spl.txt"
    if spl.is_file():
        log.info("trace.read_spl folder=%s (no samples.jsonl: uncertainty unknown)", folder)
        return [read_spl_trace(spl)]
    raise JoinError(
        f"{folder}: no power log (expected samples.jsonl, samples_<meter>.jsonl or spl.txt)"
    )
