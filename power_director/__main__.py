"""``python -m power_director``: the director (``[director] OPTIONS``) or ``meter ...``.

``python -m power_director --meter SPEC ...`` (or ``... director --meter SPEC``) runs the
director; ``python -m power_director meter ...`` runs the meter tools of
:mod:`power_director.meter_cli` where that module is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``argv`` to the director or the meter tools; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "meter":
        if importlib.util.find_spec("power_director.meter_cli") is None:
            print(
                "python -m power_director meter: the meter tools are not installed", file=sys.stderr
            )
            return 2
        meter_cli = importlib.import_module("power_director.meter_cli")
        code: int = meter_cli.main(args)  # its parser expects the "meter" word
        return code
    if args and args[0] == "director":
        args = args[1:]
    from power_director.cli import main as director_main

    return director_main(args)


if __name__ == "__main__":
    sys.exit(main())
