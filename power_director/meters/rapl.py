"""Intel/AMD RAPL energy counters through the Linux powercap sysfs tree, as meter channels.

Layout (``/work/shared/reference/ecosystem.md`` §5.2; kernel ``Documentation/power/powercap``):
``<root>/intel-rapl:<n>`` (``name`` = ``package-<n>`` or ``psys``) with sub-zones
``intel-rapl:<n>:<k>`` (``core``, ``uncore``, ``dram``); each zone has ``energy_uj`` (cumulative
µJ) and ``max_energy_range_uj`` (where the counter wraps to 0). AMD Zen kernels use the same tree.

Channels default to the ``package-*`` zones (sub-zones and ``psys`` overlap them, and the
director sums channels); ``zones=`` selects others by name. Spec: ``rapl`` or
``rapl@/custom/root?zones=package-0,dram``.

Wraparound: a reading below the previous one adds ``max_energy_range_uj - previous`` + reading.
The driver must be read at least once per wrap period (minutes at high power).

Unavailable (:class:`~power_director.errors.MeterUnavailableError`): no powercap tree, no zone,
or ``energy_uj`` unreadable (root-only since CVE-2020-8694: run as root or grant read access).

Uncertainty (assumption): RAPL energy is modelled by the CPU, not measured by a calibrated
instrument; ±5 % of the reading is assumed, with no floor.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import parse_qs

from power_director.errors import MeterUnavailableError
from power_director.meters.base import MeterIdentity, PowerMeter
from power_director.meters.registry import register_source
from power_director.meters.software import Clock, CounterValue, SoftwareSource

log = logging.getLogger(__name__)

DEFAULT_ROOT = Path("/sys/class/powercap")


def rapl_delta_uj(previous: int, current: int, max_range_uj: int) -> int:
    """Return the energy between two readings of a counter wrapping at ``max_range_uj``, µJ."""
    return current - previous if current >= previous else current + (max_range_uj - previous)


class RaplSource(SoftwareSource):
    """RAPL zones read from powercap sysfs.

    Args:
        root: the powercap directory (a fake tree in tests).
        zones: zone names to read (``package-0``, ``dram``, ...); None reads every ``package-*``.
        clock: monotonic clock in ns.
        reading_pct: assumed uncertainty, % of reading.
    """

    def __init__(
        self,
        root: str | Path = DEFAULT_ROOT,
        *,
        zones: tuple[str, ...] | None = None,
        clock: Clock = time.monotonic_ns,
        reading_pct: float = 5.0,
    ) -> None:
        super().__init__("rapl", clock=clock, reading_pct=reading_pct, floor_w=0.0)
        self.root = Path(root)
        self.zones = zones
        self._paths: list[Path] = []
        self._max_uj: list[int] = []
        self._raw: list[int | None] = []
        self._total_uj: list[int] = []

    def _open_source(self) -> MeterIdentity:
        if not self.root.is_dir():
            raise MeterUnavailableError(f"RAPL unavailable: no powercap tree at {self.root}")
        found: dict[str, Path] = {}
        for zone in sorted(self.root.glob("intel-rapl:*")):
            try:
                found[(zone / "name").read_text().strip()] = zone
            except OSError as exc:
                log.debug("skipping %s: %s", zone, exc)
        names = list(self.zones) if self.zones else [n for n in found if n.startswith("package-")]
        missing = [n for n in names if n not in found]
        if not names or missing:
            raise MeterUnavailableError(
                f"RAPL unavailable: zone(s) {missing or 'package-*'} not found under "
                f"{self.root} (found: {', '.join(found) or 'none'})"
            )
        self._paths = [found[n] for n in names]
        try:
            self._max_uj = [int((p / "max_energy_range_uj").read_text()) for p in self._paths]
            self._raw = [int((p / "energy_uj").read_text()) for p in self._paths]
        except PermissionError as exc:
            raise MeterUnavailableError(
                f"RAPL unavailable: {exc.filename} is not readable (root-only since "
                "CVE-2020-8694; run as root or grant read access)"
            ) from exc
        except (OSError, ValueError) as exc:
            raise MeterUnavailableError(f"RAPL unavailable: {exc}") from exc
        self._total_uj = [0] * len(self._paths)
        self.channel_names = names
        return MeterIdentity("Linux powercap", "RAPL", str(self.root), ",".join(names))

    def _sample(self) -> list[CounterValue]:
        out = []
        for index, path in enumerate(self._paths):
            try:
                current = int((path / "energy_uj").read_text())
            except (OSError, ValueError) as exc:
                log.warning("RAPL %s unreadable: %s", path, exc)
                out.append(CounterValue())
                continue
            previous = self._raw[index]
            if previous is not None:
                self._total_uj[index] += rapl_delta_uj(previous, current, self._max_uj[index])
            self._raw[index] = current
            out.append(CounterValue(energy_j=self._total_uj[index] / 1e6))
        return out


def open_rapl(rest: str) -> PowerMeter:
    """Open RAPL from a spec's text after ``@``: ``[ROOT][?zones=a,b]``."""
    path, _, query = rest.partition("?")
    zones = parse_qs(query).get("zones", [""])[0]
    source = RaplSource(path or DEFAULT_ROOT, zones=tuple(z for z in zones.split(",") if z) or None)
    source.open()
    return source


register_source(
    "rapl", open_rapl, description="RAPL energy counters (powercap sysfs)", tested="fake sysfs"
)
