"""Serial transport over pyserial: device paths (``/dev/ttyUSB0``, ``/dev/pts/3``) or pyserial URLs.

pyserial URLs such as ``loop://``, ``socket://host:port`` and ``spy:///dev/ttyUSB0`` work too,
because the port is opened with :func:`serial.serial_for_url`. A pty ignores the baud rate; a
real port runs at it (9600 baud 8N1 moves about 960 bytes/s).

Errors: :class:`~power_director.errors.TransportError` naming the port for every
``serial.SerialException`` / ``OSError``; :class:`~power_director.errors.TransportTimeoutError`
when a reply does not complete in time.
"""

from __future__ import annotations

import logging

import serial

from power_director.errors import TransportError
from power_director.transport.base import Transport

log = logging.getLogger(__name__)

_PARITIES = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}
_STOPBITS = {
    1.0: serial.STOPBITS_ONE,
    1.5: serial.STOPBITS_ONE_POINT_FIVE,
    2.0: serial.STOPBITS_TWO,
}


class SerialTransport(Transport):
    """A serial port (or pyserial URL) as a :class:`Transport`.

    Args:
        port: device path or pyserial URL.
        baud: baud rate, bit/s.
        parity: "N", "E" or "O".
        bytesize: data bits (5-8).
        stopbits: 1, 1.5 or 2.
        rtscts: RTS/CTS hardware handshake.
        xonxoff: XON/XOFF software handshake.
        write_termination: see :class:`Transport`.
        read_termination: see :class:`Transport`.
        timeout_s: see :class:`Transport`.
    """

    def __init__(
        self,
        port: str,
        *,
        baud: int = 9600,
        parity: str = "N",
        bytesize: int = 8,
        stopbits: float = 1.0,
        rtscts: bool = False,
        xonxoff: bool = False,
        write_termination: str = "\n",
        read_termination: str = "\n",
        timeout_s: float = 2.0,
    ) -> None:
        super().__init__(
            port,
            write_termination=write_termination,
            read_termination=read_termination,
            timeout_s=timeout_s,
        )
        if parity.upper() not in _PARITIES:
            raise ValueError(f"parity must be one of N, E, O, not {parity!r}")
        if float(stopbits) not in _STOPBITS:
            raise ValueError(f"stopbits must be 1, 1.5 or 2, not {stopbits!r}")
        try:
            self._port = serial.serial_for_url(
                port,
                baudrate=baud,
                parity=_PARITIES[parity.upper()],
                bytesize=bytesize,
                stopbits=_STOPBITS[float(stopbits)],
                rtscts=rtscts,
                xonxoff=xonxoff,
                timeout=timeout_s,
                write_timeout=timeout_s,
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(port, f"cannot open serial port: {exc}") from exc
        log.debug(
            "%s OPEN baud=%d parity=%s bytesize=%d stopbits=%s",
            port,
            baud,
            parity,
            bytesize,
            stopbits,
        )

    def _write_bytes(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except serial.SerialTimeoutException as exc:
            raise TransportError(self.resource, f"write timed out: {exc}") from exc
        except (serial.SerialException, OSError) as exc:
            raise TransportError(self.resource, f"write failed: {exc}") from exc

    def _read_bytes(self, max_bytes: int, timeout_s: float) -> bytes:
        # The port's own timeout is timeout_s (set once, since changing it reconfigures the
        # port); the base class enforces the overall deadline across chunks.
        try:
            waiting = self._port.in_waiting
            data: bytes = self._port.read(min(max_bytes, waiting or 1))
        except (serial.SerialException, OSError) as exc:
            raise TransportError(self.resource, f"read failed: {exc}") from exc
        return data

    def _discard_input(self) -> None:
        try:
            self._port.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise TransportError(self.resource, f"cannot flush input: {exc}") from exc

    def _close(self) -> None:
        try:
            self._port.close()
        except (serial.SerialException, OSError) as exc:
            log.debug("%s close failed: %s", self.resource, exc)
