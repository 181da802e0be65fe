"""Completion bookkeeping for one pass: the only LoadGen code a SUT thread runs.

:meth:`Recorder.complete` is the ``complete`` callable handed to SUTs. It takes one timestamp
for the whole batch on entry (as the official ``QuerySamplesComplete``), stores it per response
id, and rejects unknown or repeated ids without raising into the SUT: they are counted and
reported as errors, and the run is marked INVALID. It is thread-safe (one lock per batch, not
per sample) and never logs on the hot path; payloads are copied only for ids selected for the
accuracy log.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from loadgen.interfaces import QuerySampleResponse

log = logging.getLogger(__name__)

_MAX_REPORTED_BAD_IDS = 20


class Recorder:
    """Per-sample completion times of one pass, indexed by response id (1-based).

    Args:
        total_samples: samples that may be issued in this pass.
        now_ns: monotonic clock.
        capture: which ids' payloads to keep: ``True`` for all, a per-id list of flags, or
            ``None`` for none.
    """

    def __init__(
        self,
        total_samples: int,
        now_ns: Callable[[], int],
        capture: bool | list[bool] | None = None,
    ) -> None:
        self.complete_ns: list[int] = [0] * (total_samples + 1)
        self.issued = 0  # ids 1..issued are valid; the issuer raises it before each issue
        self.completed = 0
        self.bad_ids: list[str] = []
        self.bad_count = 0
        self.payloads: dict[int, bytes] = {}
        self.closed = False
        self._now = now_ns
        self._capture_all = capture is True
        self._capture = capture if isinstance(capture, list) else None
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._wait_for = -1

    def complete(self, responses: Sequence[QuerySampleResponse]) -> None:
        """Record ``responses`` as completed now; callable from any thread."""
        t = self._now()
        cns = self.complete_ns
        with self._lock:
            if self.closed:
                self._reject_late(len(responses))
                return
            issued = self.issued
            ok = 0
            for r in responses:
                i = r.id
                try:
                    valid = 0 < i <= issued and not cns[i]
                except TypeError:
                    valid = False
                if not valid:
                    self._reject(i, issued)
                    continue
                cns[i] = t
                ok += 1
                if self._capture_all or (self._capture is not None and self._capture[i]):
                    self.payloads[i] = r.payload()
            self.completed += ok
            if 0 <= self._wait_for <= self.completed:
                self._event.set()

    def _reject(self, rid: object, issued: int) -> None:
        self.bad_count += 1
        if len(self.bad_ids) < _MAX_REPORTED_BAD_IDS:
            if isinstance(rid, int) and 0 < rid <= issued:
                self.bad_ids.append(f"response id {rid} completed twice")
            else:
                self.bad_ids.append(f"unknown response id {rid!r}")

    def _reject_late(self, count: int) -> None:
        self.bad_count += count
        if len(self.bad_ids) < _MAX_REPORTED_BAD_IDS:
            self.bad_ids.append(f"{count} response(s) completed after the pass had ended")

    def wait_completed(self, target: int, timeout_s: float) -> bool:
        """Block until ``target`` samples are complete; False if ``timeout_s`` passes first.

        The timeout restarts whenever progress is made, so it bounds a stall, not a pass.
        """
        while True:
            with self._lock:
                if self.completed >= target:
                    self._wait_for = -1
                    return True
                before = self.completed
                self._wait_for = target
                self._event.clear()
            if not self._event.wait(timeout_s) and self.completed == before:
                with self._lock:
                    self._wait_for = -1
                    return self.completed >= target

    def close(self) -> None:
        """Refuse completions from now on (they are counted as late)."""
        with self._lock:
            self.closed = True
