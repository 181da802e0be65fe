from __future__ import annotations

import argparse
import threading
from pathlib import Path

import pytest
from director_helpers import DirectorConnection

from power_director import __main__ as package_main
from power_director import cli
from power_director.auth import load_secret
from power_director.config import DirectorConfig, load_config, parse_listen
from power_director.errors import ConfigError
from power_director.protocol import DirectorInfo, InfoRequest, TimeReply, TimeRequest
from power_director.server import RunningDirector


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "director.toml"
    path.write_text(text)
    return path


def test_defaults_listen_on_loopback() -> None:
    config = DirectorConfig()
    assert config.listen_address == ("127.0.0.1", 4950)
    assert config.max_line_bytes == 64 * 1024


def test_load_config_resolves_paths_relative_to_the_file(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        '[director]\nmeters = ["sim"]\nlisten = "[::1]:5000"\ndata_dir = "sessions"\n'
        'secret_file = "secret"\nhandshake_timeout_s = 3\nallow_cleanup = false\n',
    )
    config = load_config(path)
    assert config.meters == ("sim",)
    assert config.listen_address == ("::1", 5000)
    assert config.data_dir == tmp_path / "sessions"
    assert config.secret_file == tmp_path / "secret"
    assert config.handshake_timeout_s == 3.0 and config.allow_cleanup is False


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[director\n", "invalid TOML"),
        ("[director]\nmeter = ['sim']\n", "unknown key director.meter"),
        ("[other]\n", "unknown table or key 'other'"),
        ("[director]\nmeters = 'sim'\n", "director.meters must be a list"),
        ("[director]\nmeters = ['']\n", "director.meters must be a list"),
        ("[director]\nlisten = 'localhost'\n", "director.listen: expected HOST:PORT"),
        ("[director]\nlisten = 4950\n", "director.listen must be a string"),
        ("[director]\nmax_line_bytes = true\n", "director.max_line_bytes must be an integer"),
        ("[director]\nmax_line_bytes = 10\n", "director.max_line_bytes must be >= 1024"),
        ("[director]\nhandshake_timeout_s = 0\n", "director.handshake_timeout_s must be > 0"),
        ("director = 3\n", "'director' must be a table"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, text: str, words: str) -> None:
    path = _toml(tmp_path, text)
    with pytest.raises(ConfigError, match=words) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml does not exist"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize("text", ["4950", ":4950", "host:", "host:99999", "host:port"])
def test_bad_listen_addresses(text: str) -> None:
    with pytest.raises(ConfigError, match="HOST:PORT"):
        parse_listen(text)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[director]\nmeters = ["a"]\nlisten = "127.0.0.1:1"\n')
    config = cli.build_config(_args("--config", str(path), "--meter", "b", "--meter", "c"))
    assert config.meters == ("b", "c") and config.listen == "127.0.0.1:1"
    config = cli.build_config(_args("--config", str(path), "--listen", "0.0.0.0:4950"))
    assert config.meters == ("a",) and config.listen == "0.0.0.0:4950"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret"
    path.write_text("correct horse battery staple 0123456789\n")
    path.chmod(0o600)
    return path


def test_cli_bad_meter_spec_exits_non_zero_naming_it(tmp_path, secret_file, capsys) -> None:
    code = cli.main(
        [
            "--meter",
            "nosuchmeter@serial:/dev/null",
            "--data-dir",
            str(tmp_path / "d"),
            "--secret-file",
            str(secret_file),
            "--listen",
            "127.0.0.1:0",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "nosuchmeter@serial:/dev/null" in err and "unknown meter" in err


def test_cli_absent_port_is_named_before_listening(tmp_path, secret_file, capsys) -> None:
    code = cli.main(
        [
            "--meter",
            "wt310e@serial:/dev/ttyWATTBENCH_NONE",
            "--data-dir",
            str(tmp_path),
            "--secret-file",
            str(secret_file),
            "--listen",
            "127.0.0.1:0",
        ]
    )
    captured = capsys.readouterr()
    assert code == 1 and "/dev/ttyWATTBENCH_NONE" in captured.err
    assert "listening" not in captured.out


def test_cli_without_secret_or_meter(tmp_path, secret_file, capsys, monkeypatch) -> None:
    monkeypatch.delenv("WATTBENCH_SECRET", raising=False)
    assert cli.main(["--meter", "sim", "--data-dir", str(tmp_path)]) == 2
    assert "WATTBENCH_SECRET" in capsys.readouterr().err
    assert cli.main(["--secret-file", str(secret_file)]) == 2
    assert "no meter given" in capsys.readouterr().err
    assert cli.main(["--secret-file", str(tmp_path / "missing")]) == 2
    assert str(tmp_path / "missing") in capsys.readouterr().err


def test_cli_generate_secret(tmp_path, capsys) -> None:
    target = tmp_path / "new-secret"
    assert cli.main(["--generate-secret", str(target)]) == 0
    assert len(load_secret(target).value) == 64
    assert cli.main(["--generate-secret", str(target)]) == 2


def test_python_m_power_director_dispatches(tmp_path, capsys) -> None:
    assert (
        package_main.main(
            [
                "director",
                "--meter",
                "x@y",
                "--data-dir",
                str(tmp_path),
                "--secret-file",
                str(tmp_path / "s"),
            ]
        )
        == 2
    )
    assert "secret file" in capsys.readouterr().err
    assert package_main.main(["meter", "list"]) == 0
    assert "wt310e" in capsys.readouterr().out.lower()


def test_cli_runs_with_a_simulated_meter_until_stopped(tmp_path, secret_file, capsys) -> None:
    pytest.importorskip("power_director.measurement")
    from power_director.sim.load import ConstantLoad
    from power_director.sim.simulator import start_simulator

    with start_simulator("wt310e", transport="pty", load=ConstantLoad(120.0)) as sim:
        stop = threading.Event()
        ready: list[RunningDirector] = []
        args = _args(
            "--meter",
            sim.spec,
            "--data-dir",
            str(tmp_path / "d"),
            "--secret-file",
            str(secret_file),
            "--listen",
            "127.0.0.1:0",
        )
        result: list[int] = []
        thread = threading.Thread(
            target=lambda: result.append(cli.run(args, stop=stop, on_ready=ready.append))
        )
        thread.start()
        try:
            for _ in range(500):
                if ready or result:
                    break
                threading.Event().wait(0.01)
            assert ready, capsys.readouterr().err
            with DirectorConnection(ready[0].address, load_secret(secret_file)) as conn:
                info = conn.request(InfoRequest(), DirectorInfo)
                assert info.meters[0]["identity"].startswith("YOKOGAWA,WT310E")
                conn.request(TimeRequest(), TimeReply)
        finally:
            stop.set()
            thread.join(10)
    assert result == [0]
    assert "listening on 127.0.0.1:" in capsys.readouterr().out
