"""Project conventions: README quick start, CI entry point, import-light packages, CLIs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def _quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start\s+```bash\n(.*?)```", text, re.S)
    assert block, "README needs a '## Quick start' bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci
    for cmd in commands:
        script = ROOT / cmd.split()[-1]
        assert script.is_file(), script


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("loadgen", ("openvino", "pyvisa", "serial", "sklearn", "matplotlib")),
        ("suts", ("openvino", "pyvisa", "sklearn")),
        ("power_director", ("openvino", "pyvisa", "pynvml", "amdsmi", "sklearn")),
        ("power_client", ("openvino", "pyvisa", "sklearn")),
    ],
)
def test_packages_are_import_light(package: str, forbidden: tuple[str, ...]) -> None:
    code = (
        f"import sys, {package}; "
        f"bad = [m for m in {forbidden!r} if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{package} imports {out.stdout.strip()} at import time"


def test_wattbench_bench_runs_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from power_client.commands import main

    # Server: 600 queries in 300 ms is enough for early stopping; the bound is the 100 ms default
    args = "bench --sut null --scenario Server --duration-ms 300 --target-qps 2000 --out"
    rc = main([*args.split(), str(tmp_path)])
    out = capsys.readouterr().out
    assert "Result is : VALID" in out
    assert rc == 0
    assert (tmp_path / "mlperf_log_detail.txt").is_file()


def test_bench_invalid_run_exits_3(tmp_path: Path) -> None:
    from suts.bench import main

    # SingleStream that runs out of generated queries is INVALID
    assert (
        main(
            [
                "--sut",
                "null",
                "--scenario",
                "SingleStream",
                "--duration-ms",
                "20",
                "--out",
                str(tmp_path),
            ]
        )
        == 3
    )


def test_bench_bad_input_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from suts.bench import main

    conf = tmp_path / "user.conf"
    conf.write_text("*.Offline.min_duration=5\n")
    assert main(["--sut", "null", "--conf", str(conf), "--out", str(tmp_path / "o")]) == 2
    assert f"{conf}:1" in capsys.readouterr().err
    assert main(["--sut", "nosuch:thing", "--out", str(tmp_path / "o")]) == 2
    assert "unknown SUT scheme 'nosuch'" in capsys.readouterr().err


def test_python_dash_m_suts_works(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "suts",
            "--sut",
            "null-threaded",
            "--scenario",
            "Server",
            "--duration-ms",
            "200",
            "--target-qps",
            "2000",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Scenario : Server" in out.stdout, out.stderr
