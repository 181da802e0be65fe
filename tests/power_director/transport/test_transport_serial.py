"""Serial transport on real things: pyserial ``loop://`` and a pty pair."""

from __future__ import annotations

import logging
import os
import time

import pytest

from power_director.errors import TransportError, TransportTimeoutError
from power_director.transport import open_transport
from power_director.transport.serial import SerialTransport


def test_loop_echo_frames_and_logs_bytes(caplog):
    with SerialTransport("loop://", timeout_s=0.2) as transport:
        with caplog.at_level(logging.DEBUG, logger="power_director.transport"):
            assert transport.query("*IDN?") == "*IDN?"
        assert "loop:// WRITE b'*IDN?\\n'" in caplog.text
        assert "loop:// READ b'*IDN?\\n'" in caplog.text


def test_loop_two_lines_in_one_chunk_are_buffered():
    with SerialTransport("loop://", timeout_s=0.2) as transport:
        transport.write(b"A\nB")
        assert transport.read_line() == "A"
        assert transport.read_line() == "B"


def test_loop_crlf_terminator_from_spec():
    transport = open_transport("serial:loop://?term=CRLF&timeout_s=0.2")
    try:
        transport.write("X")
        assert transport.read_raw_line() == b"X"
    finally:
        transport.close()


def test_loop_timeout_names_port():
    with SerialTransport("loop://", timeout_s=0.05) as transport:
        start = time.monotonic()
        with pytest.raises(TransportTimeoutError, match="loop://: no complete reply"):
            transport.read_line()
        assert time.monotonic() - start < 1.0


def test_missing_port_error_names_it():
    with pytest.raises(TransportError, match="/dev/ttyNOPE0: cannot open serial port"):
        SerialTransport("/dev/ttyNOPE0")


def test_pty_query(pty_meter, fake_wt310e):
    with SerialTransport(pty_meter, baud=9600, timeout_s=2) as transport:
        assert transport.query("*IDN?") == "YOKOGAWA,WT310E,C2PTY0001,F1.02"
        transport.write(":RATE 100MS")
        assert transport.query(":RATE?") == "100MS"
    assert fake_wt310e.received == ["*IDN?", ":RATE 100MS", ":RATE?"]


def test_pty_partial_reply_times_out():
    master, slave = os.openpty()
    try:
        with SerialTransport(os.ttyname(slave), timeout_s=0.1) as transport:
            os.write(master, b"230.1,0.2")
            with pytest.raises(TransportTimeoutError, match=r"got b'230.1,0.2'"):
                transport.read_line()
    finally:
        os.close(slave)
        os.close(master)


def test_write_after_close_fails():
    transport = SerialTransport("loop://", timeout_s=0.1)
    transport.close()
    transport.close()
    with pytest.raises(TransportError):
        transport.write("*IDN?")
    with pytest.raises(TransportError, match="closed"):
        transport.read_line()
