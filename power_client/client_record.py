"""``power/client.json``: what the client did and saw, for the analysis and the checker.

The client writes it once the session is over (also after a failure, with ``state`` and
``error`` saying what happened). It holds everything the analysis needs beyond the files
themselves: the director and meters, every clock check, each phase's bounds on both clocks,
the workload, the settings, the transcript of every protocol exchange (as power-dev's
``messages``) and the SHA-256 of every submission file (``results``, checked by
``wattbench check``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from power_client.errors import ResultFolderError

__all__ = ["CLIENT_FORMAT", "ClientRecord", "ClockCheck", "PhaseRecord", "load_client_record"]

CLIENT_FORMAT = "wattbench-client"
CLIENT_VERSION = 1


@dataclass(frozen=True)
class ClockCheck:
    """One clock-offset estimate: offset = director wall - client wall, ns."""

    when: str
    offset_ns: int
    rtt_ns: int
    measured_at_wall_ns: int

    def to_json(self) -> dict[str, Any]:
        return {
            "when": self.when,
            "offset_ns": self.offset_ns,
            "rtt_ns": self.rtt_ns,
            "measured_at_wall_ns": self.measured_at_wall_ns,
        }


@dataclass(frozen=True)
class PhaseRecord:
    """One phase as the client saw it.

    ``client_*`` times are the client's wall clock (ns): ``client_start_ns`` when the
    ``start_phase`` reply arrived, ``client_stop_ns`` just before ``stop_phase`` was sent.
    ``director_*`` are the director's replies (its wall and monotonic clocks).
    """

    phase: str
    mark: str
    client_start_ns: int
    client_stop_ns: int
    director_start_wall_ns: int
    director_start_mono_ns: int
    director_stop_wall_ns: int
    director_stop_mono_ns: int
    workload_exit: int = 0
    director_summary: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "mark": self.mark,
            "client_start_ns": self.client_start_ns,
            "client_stop_ns": self.client_stop_ns,
            "director_start_wall_ns": self.director_start_wall_ns,
            "director_start_mono_ns": self.director_start_mono_ns,
            "director_stop_wall_ns": self.director_stop_wall_ns,
            "director_stop_mono_ns": self.director_stop_mono_ns,
            "workload_exit": self.workload_exit,
            "director_summary": dict(self.director_summary),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PhaseRecord:
        return cls(
            phase=str(data["phase"]),
            mark=str(data["mark"]),
            client_start_ns=int(data["client_start_ns"]),
            client_stop_ns=int(data["client_stop_ns"]),
            director_start_wall_ns=int(data["director_start_wall_ns"]),
            director_start_mono_ns=int(data["director_start_mono_ns"]),
            director_stop_wall_ns=int(data["director_stop_wall_ns"]),
            director_stop_mono_ns=int(data["director_stop_mono_ns"]),
            workload_exit=int(data.get("workload_exit", 0)),
            director_summary=dict(data.get("director_summary") or {}),
        )


@dataclass(frozen=True)
class ClientRecord:
    """The content of ``client.json``."""

    state: str
    session_id: str
    director: Mapping[str, Any]
    meters: Sequence[Mapping[str, Any]]
    workload: Mapping[str, Any]
    settings: Mapping[str, Any]
    clock_checks: Sequence[ClockCheck]
    phases: Mapping[str, PhaseRecord]
    messages: Sequence[Mapping[str, Any]] = ()
    results: Mapping[str, str] = field(default_factory=dict)
    error: str = ""
    software: str = ""
    created_utc: str = field(
        default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    )

    @property
    def simulated(self) -> bool:
        """True when any meter of the run is a simulated one."""
        return any(bool(m.get("simulated")) for m in self.meters)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": CLIENT_FORMAT,
            "version": CLIENT_VERSION,
            "software": self.software,
            "created_utc": self.created_utc,
            "timezone": time.timezone,
            "state": self.state,
            "error": self.error,
            "session_id": self.session_id,
            "director": dict(self.director),
            "meters": [dict(m) for m in self.meters],
            "workload": dict(self.workload),
            "settings": dict(self.settings),
            "clock_checks": [c.to_json() for c in self.clock_checks],
            "phases": {name: p.to_json() for name, p in self.phases.items()},
            "results": dict(self.results),
            "messages": [dict(m) for m in self.messages],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)


def load_client_record(path: Path) -> ClientRecord:
    """Read ``client.json``.

    Raises:
        ResultFolderError: absent, not JSON, another format or version, or a missing field
            (the message names the file and the field).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultFolderError(f"{path}: missing (not a wattbench result folder?)") from None
    except (OSError, ValueError) as exc:
        raise ResultFolderError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != CLIENT_FORMAT:
        raise ResultFolderError(
            f"{path}: not a wattbench client record (format != {CLIENT_FORMAT})"
        )
    if data.get("version") != CLIENT_VERSION:
        raise ResultFolderError(
            f"{path}: client record version {data.get('version')!r}; this wattbench reads "
            f"version {CLIENT_VERSION}"
        )
    try:
        return ClientRecord(
            state=str(data["state"]),
            error=str(data.get("error", "")),
            software=str(data.get("software", "")),
            created_utc=str(data.get("created_utc", "")),
            session_id=str(data["session_id"]),
            director=dict(data["director"]),
            meters=[dict(m) for m in data["meters"]],
            workload=dict(data["workload"]),
            settings=dict(data["settings"]),
            clock_checks=[
                ClockCheck(
                    str(c["when"]),
                    int(c["offset_ns"]),
                    int(c["rtt_ns"]),
                    int(c["measured_at_wall_ns"]),
                )
                for c in data["clock_checks"]
            ],
            phases={k: PhaseRecord.from_json(v) for k, v in data["phases"].items()},
            messages=[dict(m) for m in data.get("messages", [])],
            results={str(k): str(v) for k, v in data.get("results", {}).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultFolderError(f"{path}: malformed client record: missing or bad {exc}") from exc
