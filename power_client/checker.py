"""``wattbench check DIR``: is this result folder complete, untampered and valid?

Checks, in order (each a :class:`~power_client.validity.Check` with the numbers):

* ``files_power``, ``files_ranging``, ``files_run_1``: the MLPerf submission file set — exactly
  ``client.json client.log ptd_logs.txt server.json server.log`` in ``power/``; the three
  required logs in each phase folder and nothing but the checker's optional files;
* ``hashes``: every submission file's SHA-256 equals the one ``client.json`` recorded at the
  end of the run;
* ``client_complete``: the client finished the run (not aborted);
* ``server_agrees``: ``server.json`` (written by the director) names the same session and the
  same phase start/stop instants as ``client.json``;
* ``spl_marks``: every ``spl.txt`` line of a phase carries that phase's mark;
* ``mlperf_samples``: the MLCommons checker's own computation finds power samples in the
  testing window (its "no power samples falling in power range" error);
* every validity rule of :mod:`power_client.validity`, recomputed from the files;
* ``result_json``: ``result.json`` states the same validity and figures as the recomputation.

A failure of the analysis itself (a missing log, a window outside the trace) is reported as a
failed ``analysis`` check with its message, not as a crash.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from power_client.client_record import ClientRecord, load_client_record
from power_client.errors import PowerClientError, ResultFolderError
from power_client.hashing import sha256_file
from power_client.layout import (
    OPTIONAL_PHASE_FILES,
    PHASE_DIRS,
    REQUIRED_PHASE_FILES,
    REQUIRED_POWER_FILES,
    ResultLayout,
)
from power_client.validity import Check

__all__ = ["check_folder"]

_COMPARED_METRICS = ("avg_watts", "energy_joules", "samples_per_joule")


def _file_set(folder: Path, required: tuple[str, ...], optional: tuple[str, ...]) -> Check:
    name = f"files_{folder.name}"
    if not folder.is_dir():
        return Check(name, False, f"{folder} is missing")
    present = {p.name for p in folder.iterdir()}
    missing = sorted(set(required) - present)
    extra = sorted(present - set(required) - set(optional))
    ok = not missing and not extra
    detail = f"{folder.name}/: " + (
        "exactly the MLPerf file set"
        if ok
        else "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"not allowed by the MLPerf checker: {', '.join(extra)}" if extra else "",
            )
            if part
        )
    )
    return Check(name, ok, detail)


def _hashes(layout: ResultLayout, record: ClientRecord) -> Check:
    bad: list[str] = []
    for path in layout.submission_files():
        rel = layout.relative(path)
        if path.name == "client.json":
            continue
        expected = record.results.get(rel)
        if expected is None:
            bad.append(f"{rel} not recorded")
        elif not path.is_file():
            bad.append(f"{rel} missing")
        elif sha256_file(path) != expected:
            bad.append(f"{rel} changed since the run")
    total = len(layout.submission_files()) - 1
    if bad:
        return Check("hashes", False, "; ".join(bad))
    return Check("hashes", True, f"{total} files match the SHA-256 recorded in client.json")


def _server_agrees(layout: ResultLayout, record: ClientRecord) -> Check:
    path = layout.power_dir / "server.json"
    try:
        server = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Check("server_agrees", False, f"{path}: cannot read: {exc}")
    problems: list[str] = []
    if server.get("session_id") != record.session_id:
        problems.append(
            f"session {server.get('session_id')!r} in server.json vs {record.session_id!r}"
        )
    server_phases = {p.get("phase"): p for p in server.get("phases", [])}
    for name, phase in record.phases.items():
        s = server_phases.get(name)
        if s is None:
            problems.append(f"phase {name} absent from server.json")
            continue
        if (s.get("start_wall_ns"), s.get("stop_wall_ns")) != (
            phase.director_start_wall_ns,
            phase.director_stop_wall_ns,
        ):
            problems.append(f"phase {name} start/stop differ between server.json and client.json")
    if problems:
        return Check("server_agrees", False, "; ".join(problems))
    return Check(
        "server_agrees",
        True,
        f"server.json and client.json agree on session {record.session_id} and "
        f"{len(record.phases)} phase(s)",
    )


def _spl_marks(layout: ResultLayout, record: ClientRecord) -> Check:
    problems: list[str] = []
    lines_checked = 0
    for name, phase in record.phases.items():
        path = layout.phase_dir(name) / "spl.txt"
        if not path.is_file():
            problems.append(f"{PHASE_DIRS[name]}/spl.txt missing")
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.startswith("Time"):
                continue
            fields = line.split(",")
            lines_checked += 1
            if len(fields) < 12 or fields[10] != "Mark" or fields[11] != phase.mark:
                problems.append(
                    f"{PHASE_DIRS[name]}/spl.txt line {number}: mark is not {phase.mark}"
                )
                break
    if problems:
        return Check("spl_marks", False, "; ".join(problems))
    return Check("spl_marks", True, f"{lines_checked} spl.txt lines carry their phase's mark")


def _mlperf_samples(layout: ResultLayout, recomputed: dict[str, Any] | None) -> Check:
    """The MLCommons checker's own rule on ``run_1``: taken from the analysis when it ran
    (it computes the same figure), else computed here from the files."""
    if recomputed is not None:
        energy = recomputed["phases"]["testing"]["energy"]
        samples = int(energy["mlperf_checker_samples"])
        avg_watts = energy["mlperf_checker_avg_watts"]["value"]
    else:
        from power_client.mlperf_power import average_power_from_files

        folder = layout.phase_dir("testing")
        try:
            _, average = average_power_from_files(
                folder / "spl.txt", folder / "mlperf_log_detail.txt"
            )
        except (PowerClientError, OSError, ValueError) as exc:
            return Check(
                "mlperf_samples", False, f"the MLCommons checker's computation fails: {exc}"
            )
        samples, avg_watts = average.samples, average.avg_watts
    ok = samples > 0
    return Check(
        "mlperf_samples",
        ok,
        f"the MLCommons checker's rule finds {samples} samples in run_1's window"
        + (f" (mean {avg_watts:.3f} W)" if ok else ": it would reject the result"),
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def _result_json(layout: ResultLayout, recomputed: dict[str, Any]) -> Check:
    path = layout.result_json
    try:
        stated = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Check("result_json", False, f"{path} is missing")
    except (OSError, ValueError) as exc:
        return Check("result_json", False, f"{path}: cannot read: {exc}")
    problems: list[str] = []
    if stated.get("valid") != recomputed["valid"]:
        problems.append(f"valid is {stated.get('valid')} but recomputes to {recomputed['valid']}")
    for key in _COMPARED_METRICS:
        a = (stated.get("metrics", {}).get(key) or {}).get("value")
        b = recomputed["metrics"][key]["value"]
        if not _same(a, b):
            problems.append(f"metrics.{key} is {a} but recomputes to {b}")
    if problems:
        return Check("result_json", False, "; ".join(problems))
    return Check("result_json", True, "result.json matches the figures recomputed from the files")


def check_folder(root: Path) -> list[Check]:
    """Return every check of the result folder ``root``.

    Raises:
        ResultFolderError: ``root`` is not a folder, or has no readable ``power/client.json``.
    """
    if not root.is_dir():
        raise ResultFolderError(f"{root}: not a folder")
    layout = ResultLayout(root)
    record = load_client_record(layout.client_json)
    checks = [_file_set(layout.power_dir, REQUIRED_POWER_FILES, ())]
    for phase in ("ranging", "testing"):
        checks.append(
            _file_set(layout.phase_dir(phase), REQUIRED_PHASE_FILES, OPTIONAL_PHASE_FILES)
        )
    checks.append(_hashes(layout, record))
    checks.append(
        Check(
            "client_complete",
            record.state == "complete",
            "the client completed the run"
            if record.state == "complete"
            else f"the run ended {record.state}: {record.error or 'no reason recorded'}",
        )
    )
    checks.append(_server_agrees(layout, record))
    checks.append(_spl_marks(layout, record))
    from power_client.analysis import analyze

    try:
        recomputed = analyze(root)
    except PowerClientError as exc:
        checks.append(_mlperf_samples(layout, None))
        checks.append(Check("analysis", False, str(exc)))
        return checks
    checks.append(_mlperf_samples(layout, recomputed))
    checks.extend(Check(c["name"], c["passed"], c["detail"]) for c in recomputed["checks"])
    checks.append(_result_json(layout, recomputed))
    return checks
