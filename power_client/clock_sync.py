"""The offset between this machine's wall clock and the director's, and its tolerance check.

The power trace is stamped on the director's clock and the LoadGen log on the client's, so the
two clocks must agree before a run (MLPerf power: power-dev's ``time_sync.py``). The estimate is
NTP's clock filter reduced to its core: ask the director for its time several times and keep
the exchange with the smallest round trip, whose director stamp is the best placed between the
client's send and receive times::

    offset = director_wall - (client_send + client_receive) / 2     uncertainty = rtt / 2

Unlike power-dev, nothing here sets a clock: when the offset is out of tolerance,
:func:`check_offset` says how to synchronise both machines to the same NTP server.

Example::

    with DirectorClient.connect("lab-pc:4950", secret) as client:
        offset = estimate_offset(client)
        check_offset(offset, tolerance_s=0.1)      # raises ClockSyncError

Errors: :class:`~power_client.errors.ClockSyncError` (offset plus half the round trip beyond
the tolerance, or no usable exchange); :class:`~power_client.errors.DirectorError` from the
``time`` requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from power_client.errors import ClockSyncError

__all__ = [
    "DEFAULT_EXCHANGES",
    "DEFAULT_TOLERANCE_S",
    "ClockOffset",
    "TimePeer",
    "TimeSample",
    "check_offset",
    "drift_s",
    "estimate_offset",
]

log = logging.getLogger(__name__)

#: ``time`` exchanges per estimate.
DEFAULT_EXCHANGES = 16
#: Largest accepted ``|offset| + rtt/2``, s.
DEFAULT_TOLERANCE_S = 0.1

_NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class TimeSample:
    """One ``time`` exchange: the client's wall clock around the director's two clocks, ns.

    Attributes:
        sent_wall_ns: client wall clock just before the request was sent.
        director_wall_ns: the director's UTC wall clock in its reply.
        director_mono_ns: the director's monotonic clock in its reply.
        received_wall_ns: client wall clock just after the reply arrived.
    """

    sent_wall_ns: int
    director_wall_ns: int
    director_mono_ns: int
    received_wall_ns: int

    @property
    def rtt_ns(self) -> int:
        """Return the round trip on the client's clock, ns."""
        return self.received_wall_ns - self.sent_wall_ns

    @property
    def offset_ns(self) -> int:
        """Return director wall minus the midpoint of the client's send/receive times, ns."""
        return self.director_wall_ns - (self.sent_wall_ns + self.received_wall_ns) // 2


class TimePeer(Protocol):
    """Anything that can sample the director's clocks (:class:`DirectorClient` does)."""

    def time(self, *, clock_ns: Callable[[], int] | None = None) -> TimeSample:
        """Return one exchange stamped with ``clock_ns`` (None: the peer's own clock)."""
        ...


@dataclass(frozen=True)
class ClockOffset:
    """How far the director's wall clock is ahead of the client's, from the best exchange.

    Attributes:
        offset_ns: director wall clock minus client wall clock, ns (positive: the director
            is ahead).
        rtt_ns: round trip of the exchange the offset comes from, ns.
        uncertainty_ns: half that round trip, ns; the true offset lies within
            ``offset_ns ± uncertainty_ns``.
        exchanges: how many exchanges were made.
        measured_at_wall_ns: client wall clock when the estimate was made, ns.
    """

    offset_ns: int
    rtt_ns: int
    uncertainty_ns: int
    exchanges: int
    measured_at_wall_ns: int

    @property
    def offset_s(self) -> float:
        """Return the offset, s."""
        return self.offset_ns / _NS_PER_S

    @property
    def rtt_s(self) -> float:
        """Return the round trip of the chosen exchange, s."""
        return self.rtt_ns / _NS_PER_S

    @property
    def uncertainty_s(self) -> float:
        """Return the uncertainty (half the round trip), s."""
        return self.uncertainty_ns / _NS_PER_S

    @property
    def worst_case_s(self) -> float:
        """Return ``|offset| + uncertainty``, the quantity held against the tolerance, s."""
        return (abs(self.offset_ns) + self.uncertainty_ns) / _NS_PER_S

    def to_json(self) -> dict[str, Any]:
        """Return the estimate as a JSON object (for ``client.json``)."""
        return {
            "offset_ns": self.offset_ns,
            "rtt_ns": self.rtt_ns,
            "uncertainty_ns": self.uncertainty_ns,
            "exchanges": self.exchanges,
            "measured_at_wall_ns": self.measured_at_wall_ns,
        }


def estimate_offset(
    client: TimePeer,
    *,
    exchanges: int = DEFAULT_EXCHANGES,
    clock_ns: Callable[[], int] | None = None,
) -> ClockOffset:
    """Estimate the director's clock offset from ``exchanges`` ``time`` requests.

    Args:
        client: a connected, authenticated client.
        exchanges: how many requests to make (at least 1); the smallest round trip wins.
        clock_ns: the local wall clock to compare, ns; None uses the client's own clock.

    Raises:
        ValueError: ``exchanges`` is below 1.
        ClockSyncError: every exchange had a negative round trip (the local clock stepped
            back during each one).
        DirectorError: a ``time`` request failed.
    """
    if exchanges < 1:
        raise ValueError(f"exchanges must be at least 1, got {exchanges}")
    best: TimeSample | None = None
    last_received_ns = 0
    for _ in range(exchanges):
        sample = client.time(clock_ns=clock_ns)
        last_received_ns = sample.received_wall_ns
        if sample.rtt_ns < 0:
            # The wall clock stepped back between send and receive; the exchange says nothing.
            log.warning("time exchange with a negative round trip (%d ns) ignored", sample.rtt_ns)
            continue
        if best is None or sample.rtt_ns < best.rtt_ns:
            best = sample
    if best is None:
        raise ClockSyncError(
            f"no usable time exchange out of {exchanges}: the local clock went backwards "
            f"during each one (is something stepping it?)"
        )
    offset = ClockOffset(
        offset_ns=best.offset_ns,
        rtt_ns=best.rtt_ns,
        uncertainty_ns=best.rtt_ns // 2,
        exchanges=exchanges,
        measured_at_wall_ns=last_received_ns,
    )
    log.info(
        "director clock offset %+.6f s ± %.6f s (best of %d exchanges)",
        offset.offset_s,
        offset.uncertainty_s,
        exchanges,
    )
    return offset


def check_offset(offset: ClockOffset, tolerance_s: float = DEFAULT_TOLERANCE_S) -> None:
    """Refuse an offset whose magnitude plus half the round trip exceeds ``tolerance_s``.

    Raises:
        ValueError: ``tolerance_s`` is not positive.
        ClockSyncError: out of tolerance; the message gives the numbers and how to sync.
    """
    if not tolerance_s > 0:
        raise ValueError(f"tolerance_s must be positive, got {tolerance_s}")
    if offset.worst_case_s <= tolerance_s:
        return
    ahead = "ahead of" if offset.offset_ns > 0 else "behind"
    raise ClockSyncError(
        f"the director's clock is {abs(offset.offset_s):.6f} s {ahead} this machine's "
        f"(offset {offset.offset_s:+.6f} s ± {offset.uncertainty_s:.6f} s, round trip "
        f"{offset.rtt_s:.6f} s): {offset.worst_case_s:.6f} s exceeds the tolerance of "
        f"{tolerance_s:g} s. Synchronise both machines to the same NTP server: check with "
        f"`chronyc tracking` or `timedatectl timesync-status`; step the clock with "
        f"`sudo chronyc makestep` (chrony) or `sudo ntpdate -b SERVER`; keep it synchronised "
        f"with `sudo timedatectl set-ntp true` (on Windows: `w32tm /resync`)."
    )


def drift_s(a: ClockOffset, b: ClockOffset) -> float:
    """Return how much the offset changed from ``a`` to ``b``, s (positive: director gained)."""
    return (b.offset_ns - a.offset_ns) / _NS_PER_S
