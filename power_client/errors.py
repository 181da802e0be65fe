"""Exceptions raised by :mod:`power_client`.

Tree (extend here; one class per failure a caller may want to handle)::

    PowerClientError
    ├── DirectorUnreachableError  no TCP connection to the director (carries the address)
    ├── DirectorError             the director refused or broke the protocol (wraps the
    │                             power_director protocol error; carries the address)
    ├── ClockSyncError            the clock offset to the director exceeds the tolerance
    ├── WorkloadError             the workload failed (exit status, missing SUT, LoadGen error)
    ├── LoadgenLogError           no usable LoadGen detail log for a phase (names files, times)
    ├── JoinError                 the power trace and the LoadGen window cannot be joined
    │                             (names the file and the times)
    └── ResultFolderError         a result folder is missing files or is malformed (names it)

Every message names what is at fault (address, file, line, times) and, where there is one, the
fix. Protocol errors from the director keep their own classes
(:mod:`power_director.errors`); the client wraps them in :class:`DirectorError` with the
original as ``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "ClockSyncError",
    "DirectorError",
    "DirectorUnreachableError",
    "JoinError",
    "LoadgenLogError",
    "PowerClientError",
    "ResultFolderError",
    "WorkloadError",
]


class PowerClientError(Exception):
    """Base class of every error raised by :mod:`power_client`."""


class DirectorUnreachableError(PowerClientError):
    """No TCP connection to the director could be made.

    Args:
        address: ``host:port`` tried.
        reason: what the operating system said.
    """

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(
            f"cannot reach the director at {address}: {reason} "
            f"(is `wattbench director` running there, and listening on that address?)"
        )


class DirectorError(PowerClientError):
    """The director refused a request or broke the protocol.

    ``code`` is the director's error code (``busy``, ``version``, ``auth_failed``...) or ``""``.
    """

    def __init__(self, address: str, message: str, code: str = "") -> None:
        self.address = address
        self.code = code
        super().__init__(f"director {address}: {message}")


class ClockSyncError(PowerClientError):
    """The clock offset to the director (plus half the round trip) exceeds the tolerance."""


class WorkloadError(PowerClientError):
    """The workload failed: non-zero exit, SUT error, LoadGen error, interruption."""


class LoadgenLogError(PowerClientError):
    """No LoadGen detail log whose power window lies inside the phase (names files and times)."""


class JoinError(PowerClientError):
    """The power trace cannot be joined to the LoadGen window (names the file and the times)."""


class ResultFolderError(PowerClientError):
    """A result folder lacks a file or holds a malformed one (names the path)."""
