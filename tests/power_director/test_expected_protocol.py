"""The shipped expected_protocol helper fails loudly on every kind of mismatch."""

from __future__ import annotations

import pytest

from power_director.errors import TransportTimeoutError
from power_director.testing import TIMEOUT, ProtocolTransport, expected_protocol


class Echo:
    def __init__(self, transport):
        self.transport = transport


def test_happy_path_bytes_and_str():
    with expected_protocol(Echo, [(b"*IDN?", b"X,Y,Z,1"), ("*RST", None)]) as meter:
        assert meter.transport.query("*IDN?") == "X,Y,Z,1"
        meter.transport.write(b"*RST")


def test_mismatch_is_readable():
    with (
        pytest.raises(
            AssertionError,
            match=r"Written bytes b':RATE 1S' do not match expected "
            r"b':RATE 100MS' \(exchange 1 of 1",
        ),
        expected_protocol(Echo, [(":RATE 100MS", None)]) as meter,
    ):
        meter.transport.write(":RATE 1S")


def test_leftover_pairs_fail_at_exit():
    with (
        pytest.raises(AssertionError, match="Unprocessed protocol definitions remain"),
        expected_protocol(Echo, [("*RST", None)]),
    ):
        pass


def test_unread_reply_fails_at_exit():
    with (
        pytest.raises(AssertionError, match="Replies were never read"),
        expected_protocol(Echo, [("*IDN?", "X")]) as meter,
    ):
        meter.transport.write("*IDN?")


def test_extra_write_and_unexpected_read():
    transport = ProtocolTransport([])
    with pytest.raises(AssertionError, match="all 0 exchanges used"):
        transport.write("*RST")
    with pytest.raises(AssertionError, match="no reply is expected"):
        transport.read_line()


def test_read_only_exchange_and_timeout():
    transport = ProtocolTransport([(None, "late"), ("*IDN?", TIMEOUT)])
    assert transport.read_line() == "late"
    with pytest.raises(TransportTimeoutError):
        transport.query("*IDN?")
    transport.assert_done()


def test_write_when_read_expected():
    transport = ProtocolTransport([(None, "x")])
    with pytest.raises(AssertionError, match="expected a read"):
        transport.write("*RST")
