"""``power.png``: power over time in each phase, with the LoadGen window shaded.

One panel per phase (ranging above testing). The x axis is seconds since the phase started
(the director's phase bounds, ``phase_bounds_utc``); the LoadGen window is shaded, the window's
average power drawn across it, and invalid samples marked with red crosses along the bottom.
With several meters each has its own line. The title names the scenario, the SUT and the
verdict, and starts with "SIMULATED METER" when a meter was simulated.

matplotlib is optional: it is imported only inside :func:`render_plot`, which returns None
(and logs why) without it. The figure is a plain ``Figure`` on the Agg canvas: no pyplot
state, no change to ``rcParams``. Long traces are thinned to a min/max envelope for drawing
only (:func:`envelope`); the numbers in ``result.json`` never come from here.

The samples are read with :func:`power_client.trace.read_phase_traces` from each phase's folder
under ``raw/`` (``samples.jsonl``), else from the phase folder itself (``samples.jsonl`` or
``spl.txt``); see :mod:`power_client.layout`. A phase without a power log gets an empty panel.
"""

from __future__ import annotations

import calendar
import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from power_client.errors import JoinError
from power_client.layout import PHASE_DIRS
from power_client.result_view import (
    PLOT_UNAVAILABLE,
    format_quantity,
    get,
    is_simulated,
    phase_names,
    title,
    verdict,
)
from power_client.trace import PowerTrace, read_phase_traces

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["envelope", "parse_utc_ns", "phase_traces", "render_plot"]

log = logging.getLogger(__name__)

#: Above this many points a trace is drawn as its min/max envelope (the PNG is 1000 px wide).
MAX_DRAWN_POINTS = 8000

_ISO = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\s*(Z|UTC|[+-]\d\d:?\d\d)?$"
)
_LOADGEN = re.compile(r"(\d\d)-(\d\d)-(\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$")


def parse_utc_ns(text: Any) -> int | None:
    """Return a UTC time string as ns since the epoch; None when it is not one.

    Accepts ISO 8601 (``2026-11-22T10:00:01.123456Z``, with ``Z``, ``+hh:mm`` or no zone,
    which is taken as UTC) and LoadGen's ``11-22-2026 10:00:01.123``.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if match := _ISO.match(text):
        year, month, day, hour, minute, second, fraction, zone = match.groups()
    elif match := _LOADGEN.match(text):
        month, day, year, hour, minute, second, fraction = match.groups()
        zone = None
    else:
        return None
    try:
        seconds = calendar.timegm(
            (int(year), int(month), int(day), int(hour), int(minute), int(second), 0, 0, 0)
        )
    except ValueError:
        return None
    if zone and zone not in ("Z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    nanos = int((fraction or "0").ljust(9, "0"))
    return seconds * 1_000_000_000 + nanos


def phase_traces(result_dir: Path, result: Mapping[str, Any], phase: str) -> list[PowerTrace]:
    """Return the power traces of ``phase``; empty when its folder has no power log.

    Tries ``raw/<folder>/`` before ``<folder>/`` (``samples.jsonl`` has validity and
    uncertainty, ``spl.txt`` does not), where ``<folder>`` is that of the phase's LoadGen detail
    log, else the standard one (``ranging``, ``run_1``).
    """
    folders: list[str] = []
    detail_log = get(result, "phases", phase, "loadgen", "detail_log")
    if isinstance(detail_log, str) and "/" in detail_log:
        folders.append(str(PurePosixPath(detail_log).parent))
    if phase in PHASE_DIRS:
        folders.append(PHASE_DIRS[phase])
    for folder in dict.fromkeys(folders):
        for base in (result_dir / "raw" / folder, result_dir / folder):
            if not base.is_dir():
                continue
            try:
                return read_phase_traces(base)
            except JoinError as exc:
                log.debug("plot: no trace in %s: %s", base, exc)
            except (OSError, KeyError, TypeError, ValueError) as exc:
                # A damaged power log must not cost the report: the panel stays empty.
                log.warning("plot: cannot read the power log in %s: %r", base, exc)
    log.warning("plot: no power log found for the %s phase in %s", phase, result_dir)
    return []


def envelope(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], max_points: int = MAX_DRAWN_POINTS
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Thin a line to at most ``max_points`` points keeping each bucket's minimum and maximum.

    ``y`` must have no NaN. For drawing only: peaks stay visible, averages are not preserved.
    """
    n = len(y)
    if n <= max_points:
        return x, y
    buckets = max_points // 2
    size = -(-n // buckets)
    pad = buckets * size - n
    xs = np.concatenate([x, np.repeat(x[-1:], pad)]).reshape(buckets, size)
    ys = np.concatenate([y, np.repeat(y[-1:], pad)]).reshape(buckets, size)
    low, high = ys.argmin(axis=1), ys.argmax(axis=1)
    columns = np.stack([np.minimum(low, high), np.maximum(low, high)], axis=1)
    rows = np.arange(buckets)[:, None]
    return xs[rows, columns].ravel(), ys[rows, columns].ravel()


def _phase_start_ns(phase: Any, traces: list[PowerTrace]) -> int | None:
    start = parse_utc_ns(get(phase, "phase_bounds_utc", 0))
    if start is not None:
        return start
    firsts = [int(trace.t_wall_ns[0]) for trace in traces if len(trace.t_wall_ns)]
    if firsts:
        return min(firsts)
    return parse_utc_ns(get(phase, "window", "begin_utc"))


def _draw_phase(ax: Axes, name: str, phase: Any, traces: list[PowerTrace], source: str) -> None:
    start_ns = _phase_start_ns(phase, traces)
    ax.set_title(f"{name} phase ({source})", fontsize="medium", loc="left")
    ax.set_ylabel("power (W)")
    ax.set_xlabel("time since the phase started (s)")
    ax.grid(alpha=0.3)
    if start_ns is None or not traces:
        ax.text(0.5, 0.5, "no power samples found", transform=ax.transAxes, ha="center")
    if start_ns is None:
        return
    for trace in traces:
        x = (trace.t_wall_ns - start_ns) / 1e9
        valid = trace.valid & np.isfinite(trace.watts)
        label = trace.meter if len(traces) > 1 else "power"
        line_x, line_y = envelope(x[valid], trace.watts[valid])
        ax.plot(line_x, line_y, linewidth=0.8, label=label)
        invalid = int((~valid).sum())
        if invalid:
            ax.plot(
                x[~valid],
                np.full(invalid, 0.03),
                "x",
                color="red",
                markersize=5,
                transform=ax.get_xaxis_transform(),
                label=f"invalid sample ({invalid})",
            )
    begin = parse_utc_ns(get(phase, "window", "begin_utc"))
    end = parse_utc_ns(get(phase, "window", "end_utc"))
    if begin is not None and end is not None:
        left, right = (begin - start_ns) / 1e9, (end - start_ns) / 1e9
        ax.axvspan(left, right, color="tab:green", alpha=0.15, label="LoadGen window")
        average = get(phase, "energy", "avg_watts")
        value = get(average, "value")
        if isinstance(value, int | float):
            ax.hlines(
                value,
                left,
                right,
                colors="tab:green",
                linestyles="--",
                linewidth=1.0,
                label=f"window average {format_quantity(average, 'W')}",
            )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize="small")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def render_plot(
    result_dir: Path,
    result: Mapping[str, Any],
    out: Path,
    *,
    traces: Mapping[str, Sequence[PowerTrace]] | None = None,
) -> Path | None:
    """Draw ``power.png`` for the result folder ``result_dir`` into ``out``.

    ``traces`` (per phase name) are the power traces already read by the caller (the
    analysis); phases absent from it are read from the folder.

    Returns:
        ``out``; None when matplotlib is not installed (logged at WARNING).
    """
    try:
        import matplotlib  # noqa: F401  (None in sys.modules must stop us here)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        log.warning("%s (%s): %s not drawn", PLOT_UNAVAILABLE, exc, out)
        return None
    names = phase_names(result) or ["testing"]
    figure = Figure(figsize=(10, 0.8 + 3.2 * len(names)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        given = (traces or {}).get(name)
        phase = list(given) if given is not None else phase_traces(result_dir, result, name)
        source = ", ".join(_relative(trace.source, result_dir) for trace in phase)
        _draw_phase(ax, name, get(result, "phases", name), phase, source or "no samples file")
    heading = f"{title(result)} · {verdict(result)}"
    if is_simulated(result):
        figure.suptitle(f"SIMULATED METER · {heading}", color="firebrick", fontweight="bold")
    else:
        figure.suptitle(heading)
    partial = out.with_name(out.name + ".partial")
    figure.savefig(partial, format="png")
    os.replace(partial, out)
    log.info("wrote %s", out)
    return out
