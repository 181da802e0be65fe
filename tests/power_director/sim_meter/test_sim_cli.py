"""``wattbench meter simulate`` options and runner, in-process."""

from __future__ import annotations

import argparse
import io
import threading
from pathlib import Path

import pytest
from sim_helpers import Port

from power_director.sim.cli import add_simulate_arguments, run_simulate


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wattbench meter simulate")
    add_simulate_arguments(parser)
    return parser.parse_args(argv)


def test_defaults() -> None:
    args = parse([])
    assert args.tcp is None and args.profile is None and args.dialect == "wt310e"
    assert parse(["--tcp"]).tcp == "127.0.0.1:0"


def test_pty_with_profile_prints_where_to_connect(tmp_path: Path) -> None:
    profile = tmp_path / "p.csv"
    profile.write_text("0, 75\n")
    out = io.StringIO()
    stop = threading.Event()
    args = parse(["--pty", "--profile", str(profile), "--seed", "1", "--noise-w", "0"])
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(run_simulate(args, out, stop)))
    thread.start()
    try:
        for _ in range(200):
            if "Ctrl-C" in out.getvalue():
                break
            stop.wait(0.01)
        text = out.getvalue()
        path = next(line.split()[-1] for line in text.splitlines() if "connect to:" in line)
        assert f"meter spec:  wt310e@serial:{path}" in text
        assert f"VISA:        ASRL{path}::INSTR" in text
        assert f"profile {profile}" in text
        client = Port(path)
        try:
            assert client.query("*IDN?").startswith("YOKOGAWA,WT310E")
        finally:
            client.close()
    finally:
        stop.set()
        thread.join()
    assert result == [0]
    assert out.getvalue().endswith("simulated meter stopped\n")


def test_tcp_wt210_runs_for_a_duration() -> None:
    out = io.StringIO()
    args = parse(["--tcp", "127.0.0.1:0", "--dialect", "wt210", "--duration-s", "0.05"])
    assert run_simulate(args, out) == 0
    assert "wt210@tcp:127.0.0.1:" in out.getvalue()
    assert "TCPIP0::127.0.0.1::" in out.getvalue()
    assert "CPU utilisation from /proc/stat" in out.getvalue()


def test_bad_profile_exits_2_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "p.csv"
    profile.write_text("0, 75\n1, x\n")
    assert run_simulate(parse(["--profile", str(profile)]), io.StringIO()) == 2
    assert f"{profile}:2: not a number" in capsys.readouterr().err


def test_remote_bind_needs_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_simulate(parse(["--tcp", "0.0.0.0:0"]), io.StringIO()) == 2
    assert "only loopback" in capsys.readouterr().err
