"""The meter CLI, in process."""

from __future__ import annotations

import sys
import types

import pytest

from power_director import meter_cli


def test_list(capsys):
    assert meter_cli.main(["meter", "list", "--commands"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("MODEL")
    assert "wt310e" in out and "0.1%rdg+0.05%rng" in out
    assert "(unverified)" in out
    assert "wt310e: " in out and ":NUMeric:NORMal:VALue?" in out


def test_probe_over_pty(pty_meter, capsys):
    spec = f"wt310e@serial:{pty_meter}"
    assert meter_cli.main(["meter", "probe", spec, "-n", "2", "--interval-s", "0"]) == 0
    out = capsys.readouterr().out
    assert "YOKOGAWA WT310E serial C2PTY0001 firmware F1.02" in out
    assert out.count("45.87 W") == 2
    assert "[300 V / 1 A]" in out


def test_probe_bad_port_names_it(capsys):
    assert meter_cli.main(["meter", "probe", "wt310e@serial:/dev/ttyNOPE1"]) == 2
    err = capsys.readouterr().err
    assert "wt310e@serial:/dev/ttyNOPE1" in err and "/dev/ttyNOPE1: cannot open serial port" in err


def test_probe_bad_spec(capsys):
    assert meter_cli.main(["meter", "probe", "nope@tcp:x:1"]) == 2
    assert "unknown meter 'nope'" in capsys.readouterr().err


def test_simulate_delegates(monkeypatch):
    calls = []
    fake = types.ModuleType("power_director.sim.cli")
    fake.add_simulate_arguments = lambda parser: parser.add_argument("--pty", action="store_true")
    fake.run_simulate = lambda args: calls.append(args.pty) or 0
    monkeypatch.setitem(sys.modules, "power_director.sim.cli", fake)
    assert meter_cli.main(["meter", "simulate", "--pty"]) == 0
    assert calls == [True]


def test_simulate_unavailable(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "power_director.sim.cli", None)
    assert meter_cli.main(["meter", "simulate"]) == 3
    assert "simulated meter is not available" in capsys.readouterr().err


def test_meter_requires_subcommand():
    with pytest.raises(SystemExit):
        meter_cli.main(["meter"])
