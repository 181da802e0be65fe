"""TerminalProgress: throttled plain lines off a terminal, one line rewritten on a terminal."""

from __future__ import annotations

import io

from power_client.progress import TerminalProgress


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_are_throttled_and_a_new_phase_shows_at_once() -> None:
    out, clock = io.StringIO(), _Clock()
    progress = TerminalProgress(out, interval_s=5.0, clock=clock, expected_s=20.0)
    progress("ranging", 10, 9, 1.0)
    clock.now = 2.0
    progress("ranging", 20, 19, 3.0)  # within 5 s of the last line: not shown
    clock.now = 6.0
    progress("ranging", 1000, 999, 10.0)
    clock.now = 6.5
    progress("testing", 5, 5, 0.5)  # a new phase is shown at once
    lines = out.getvalue().splitlines()
    assert lines == [
        " ranging:     1.0 s (  5 %)  queries issued        10  completed         9",
        " ranging:    10.0 s ( 50 %)  queries issued     1,000  completed       999",
        " testing:     0.5 s (  2 %)  queries issued         5  completed         5",
    ]


def test_counts_are_left_out_when_the_workload_cannot_report_them() -> None:
    out = io.StringIO()
    TerminalProgress(out, clock=_Clock())("testing", None, None, 12.0)
    assert out.getvalue() == " testing:    12.0 s\n"


def test_a_terminal_gets_one_line_rewritten_and_finish_ends_it() -> None:
    out, clock = _Tty(), _Clock()
    progress = TerminalProgress(out, clock=clock)
    progress("testing", 1, 1, 0.1)
    clock.now = 1.0
    progress("testing", 2, 2, 1.1)
    progress.finish()
    progress.finish()  # a second finish adds nothing
    text = out.getvalue()
    assert text.count("\r") == 2
    assert text.endswith("completed         2\n")
    assert text.count("\n") == 1
