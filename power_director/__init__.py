"""wattbench power director: owns the wattmeters, samples them, serves the measurement protocol.

Modules:
    errors       the PowerDirectorError tree
    samples      ChannelReading / Sample value types (units in field names)
    transport    serial (pyserial), VISA (pyvisa, @py / @sim), raw TCP; bytes logged at DEBUG
    meters       PowerMeter protocol, registry (``open_meter(spec)``), drivers, uncertainty
    sim          the simulated WT310E / WT210 meter on a pty or TCP socket
    testing      ``expected_protocol`` for exact-bytes driver tests
    meter_cli    ``wattbench meter list|probe|simulate``

Heavy or optional libraries (pyvisa, pynvml, amdsmi) are imported only by the backend that needs
them, so importing this package is cheap.
"""

from __future__ import annotations

import logging

from power_director.errors import MeterError, PowerDirectorError, TransportError
from power_director.meters.registry import list_meters, open_meter
from power_director.samples import ChannelReading, Sample

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ChannelReading",
    "MeterError",
    "PowerDirectorError",
    "Sample",
    "TransportError",
    "list_meters",
    "open_meter",
]
