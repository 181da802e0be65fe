"""Scripted load profiles: a text file of (time, watts) points, held as steps or ramped.

File format (UTF-8 text, one point per line)::

    # wattbench load profile: t_s, watts[, step|ramp]
    t_s, watts, shape      <- optional header line
    0,    55               <- from t=0 s hold 55 W
    5,    180              <- step to 180 W at t=5 s (LoadGen phase starts)
    65,   180
    70,   60,  ramp        <- ramp linearly from 180 W at 65 s to 60 W at 70 s
    repeat                 <- optional: loop the profile with period = last t_s

* Fields are separated by commas and/or whitespace; ``#`` starts a comment; blank lines are
  ignored. ``t_s`` is seconds since the simulator started, ``watts`` the true active power.
* ``shape`` says how the power gets to this point from the previous one: ``step`` (default,
  jump at ``t_s``) or ``ramp`` (linear from the previous point). The first point's shape is
  ignored; before the first point its power holds.
* Times must be >= 0 and strictly increasing; watts must be finite and >= 0.
* After the last point its power holds, unless ``repeat`` is given (then the last point
  must be later than 0 s).

Errors raise :class:`ProfileError` naming the file and line, e.g. ``load.csv:4: ...``.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from power_director.errors import SimulatorError

__all__ = ["ProfileError", "ProfileLoad", "ProfilePoint", "load_profile", "parse_profile"]


class ProfileError(SimulatorError):
    """A load-profile file is malformed; the message names the file and line."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        super().__init__(f"{source}:{line}: {reason}")


@dataclass(frozen=True)
class ProfilePoint:
    """One point: power ``watts`` reached at ``t_s``, by a step or a ramp."""

    t_s: float
    watts: float
    ramp: bool = False


@dataclass(frozen=True)
class ProfileLoad:
    """A load following a list of points (see the module docstring for the semantics)."""

    points: tuple[ProfilePoint, ...]
    repeat: bool = False
    source: str = "<profile>"
    _times: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_times", tuple(p.t_s for p in self.points))
        if not self.points:
            raise ProfileError(self.source, 0, "profile has no points")
        if self.repeat and self.points[-1].t_s <= 0:
            raise ProfileError(self.source, 0, "'repeat' needs a last point later than 0 s")

    @property
    def duration_s(self) -> float:
        return self.points[-1].t_s

    def watts_at(self, elapsed_s: float) -> float:
        t = elapsed_s
        if self.repeat and t >= self.duration_s:
            t = math.fmod(t, self.duration_s)
        index = bisect.bisect_right(self._times, t)
        if index == 0:
            return self.points[0].watts
        if index == len(self.points):
            return self.points[-1].watts
        before, after = self.points[index - 1], self.points[index]
        if not after.ramp:
            return before.watts
        fraction = (t - before.t_s) / (after.t_s - before.t_s)
        return before.watts + (after.watts - before.watts) * fraction

    def describe(self) -> str:
        loop = ", repeating" if self.repeat else ""
        return f"profile {self.source} ({len(self.points)} points, {self.duration_s:g} s{loop})"


_SPLIT = re.compile(r"[,\s]+")


def parse_profile(text: str, source: str = "<profile>") -> ProfileLoad:
    """Parse profile text; ``source`` names it in errors."""
    points: list[ProfilePoint] = []
    repeat = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = [f for f in _SPLIT.split(line) if f]
        if [f.lower() for f in fields] == ["repeat"]:
            repeat = True
            continue
        if repeat:
            raise ProfileError(source, number, "points after 'repeat'")
        if not points and fields[0].lower() in ("t_s", "t", "time"):
            continue
        points.append(_parse_point(fields, source, number, points))
    if not points:
        raise ProfileError(source, 0, "profile has no points")
    return ProfileLoad(points=tuple(points), repeat=repeat, source=source)


def _parse_point(
    fields: list[str], source: str, number: int, previous: list[ProfilePoint]
) -> ProfilePoint:
    if len(fields) not in (2, 3):
        raise ProfileError(source, number, f"expected 't_s, watts[, step|ramp]', got {fields}")
    try:
        t_s = float(fields[0])
        watts = float(fields[1])
    except ValueError:
        raise ProfileError(source, number, f"not a number in {fields[:2]}") from None
    if not (math.isfinite(t_s) and t_s >= 0):
        raise ProfileError(source, number, f"time {fields[0]} must be a finite number >= 0")
    if not (math.isfinite(watts) and watts >= 0):
        raise ProfileError(source, number, f"watts {fields[1]} must be a finite number >= 0")
    if previous and t_s <= previous[-1].t_s:
        raise ProfileError(
            source, number, f"time {t_s:g} s is not after the previous {previous[-1].t_s:g} s"
        )
    shape = fields[2].lower() if len(fields) == 3 else "step"
    if shape not in ("step", "ramp"):
        raise ProfileError(source, number, f"shape must be 'step' or 'ramp', got {fields[2]!r}")
    return ProfilePoint(t_s=t_s, watts=watts, ramp=shape == "ramp")


def load_profile(path: Path) -> ProfileLoad:
    """Read and parse a profile file; errors name ``path`` and the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(str(path), 0, f"cannot read profile: {error}") from error
    return parse_profile(text, source=str(path))
