"""VISA transport over pyvisa: USBTMC, TCPIP INSTR (VXI-11/HiSLIP), TCPIP SOCKET, GPIB and ASRL.

pyvisa is imported inside :class:`VisaTransport` only, so importing this module costs nothing.
The backend is pyvisa's own spec: ``@py`` (pyvisa-py, the default), ``@sim`` (pyvisa-sim's
built-in devices) or ``path/to/devices.yaml@sim`` (a pyvisa-sim device file), ``@ivi``.

Errors: :class:`~power_director.errors.TransportError` naming the resource for any pyvisa or
backend failure; :class:`~power_director.errors.TransportTimeoutError` for VISA timeouts.
"""

from __future__ import annotations

import logging
from typing import Any

from power_director.errors import TransportError, TransportTimeoutError
from power_director.transport.base import Transport

log = logging.getLogger(__name__)

DEFAULT_BACKEND = "@py"


class VisaTransport(Transport):
    """A VISA resource as a :class:`Transport`; pyvisa does the framing.

    Args:
        resource: VISA resource string, e.g. ``USB0::0x0B21::0x0025::C2XX00000V::INSTR``.
        backend: pyvisa library spec (``@py``, ``@sim``, ``devices.yaml@sim``).
        baud: serial (ASRL) baud rate, bit/s; ignored for other interfaces.
        parity: serial parity "N", "E" or "O"; ASRL only.
        bytesize: serial data bits; ASRL only.
        stopbits: serial stop bits (1, 1.5, 2); ASRL only.
        write_termination: see :class:`Transport`.
        read_termination: see :class:`Transport`; also programmed as the VISA term char.
        timeout_s: see :class:`Transport`.
    """

    def __init__(
        self,
        resource: str,
        *,
        backend: str = DEFAULT_BACKEND,
        baud: int | None = None,
        parity: str | None = None,
        bytesize: int | None = None,
        stopbits: float | None = None,
        write_termination: str = "\n",
        read_termination: str = "\n",
        timeout_s: float = 2.0,
    ) -> None:
        super().__init__(
            resource,
            write_termination=write_termination,
            read_termination=read_termination,
            timeout_s=timeout_s,
        )
        self.backend = backend
        try:
            import pyvisa
            from pyvisa import constants
        except ImportError as exc:  # pragma: no cover - pyvisa is a dependency
            raise TransportError(resource, f"pyvisa is not installed: {exc}") from exc
        self._pyvisa: Any = pyvisa
        self._constants: Any = constants
        kwargs: dict[str, Any] = {
            "read_termination": read_termination or None,
            "write_termination": "",
            "timeout": round(timeout_s * 1000),
        }
        if resource.upper().startswith("ASRL"):
            if baud is not None:
                kwargs["baud_rate"] = baud
            if bytesize is not None:
                kwargs["data_bits"] = bytesize
            if parity is not None:
                kwargs["parity"] = {
                    "N": constants.Parity.none,
                    "E": constants.Parity.even,
                    "O": constants.Parity.odd,
                }[parity.upper()]
            if stopbits is not None:
                kwargs["stop_bits"] = {
                    1.0: constants.StopBits.one,
                    1.5: constants.StopBits.one_and_a_half,
                    2.0: constants.StopBits.two,
                }[float(stopbits)]
        try:
            self._rm: Any = pyvisa.ResourceManager(backend)
            self._inst: Any = self._rm.open_resource(resource, **kwargs)
        except Exception as exc:
            # pyvisa raises VisaIOError, ValueError, OSError, LibraryError, or backend-specific
            # errors; all mean "cannot open this resource".
            raise TransportError(
                resource, f"cannot open VISA resource with backend {backend!r}: {exc}"
            ) from exc
        log.debug("%s OPEN backend=%s", resource, backend)

    def _translate(self, exc: Exception, action: str) -> TransportError:
        timeout = self._constants.StatusCode.error_timeout
        if getattr(exc, "error_code", None) == timeout:
            return TransportTimeoutError(
                self.resource, f"{action}: no reply within {self.timeout_s:g} s"
            )
        return TransportError(self.resource, f"{action} failed: {exc}")

    def _write_bytes(self, data: bytes) -> None:
        try:
            self._inst.write_raw(data)
        except (self._pyvisa.errors.Error, OSError) as exc:
            raise self._translate(exc, "write") from exc

    def _read_bytes(self, max_bytes: int, timeout_s: float) -> bytes:
        try:
            data: bytes = self._inst.read_bytes(1)
        except (self._pyvisa.errors.Error, OSError) as exc:
            if getattr(exc, "error_code", None) == self._constants.StatusCode.error_timeout:
                return b""
            raise self._translate(exc, "read") from exc
        return data

    def _read_frame(self) -> bytes:
        if self.closed:
            raise TransportError(self.resource, "transport is closed")
        try:
            data: bytes = self._inst.read_raw()
        except (self._pyvisa.errors.Error, OSError) as exc:
            raise self._translate(exc, "read") from exc
        return data

    def _discard_input(self) -> None:
        try:
            self._inst.clear()
        except (self._pyvisa.errors.Error, OSError, NotImplementedError) as exc:
            log.debug("%s device clear failed: %s", self.resource, exc)

    def _close(self) -> None:
        try:
            self._inst.close()
        except (self._pyvisa.errors.Error, OSError) as exc:
            log.debug("%s close failed: %s", self.resource, exc)
        try:
            self._rm.close()
        except (self._pyvisa.errors.Error, OSError) as exc:
            log.debug("%s resource manager close failed: %s", self.resource, exc)
