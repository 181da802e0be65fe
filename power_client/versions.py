"""Software versions recorded in every result (``result.json`` ``versions``)."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

__all__ = ["VERSION", "software_versions"]


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


#: This wattbench's version ("0+unknown" when run from a tree that is not installed).
VERSION: str = _version("wattbench") or "0+unknown"


def software_versions() -> dict[str, str | None]:
    """Return the versions of wattbench, Python and the libraries a result depends on.

    OpenVINO is reported only when it was already imported by the run (it is not imported
    here just to ask).
    """
    openvino = sys.modules.get("openvino")
    return {
        "wattbench": VERSION,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": _version("numpy"),
        "openvino": getattr(openvino, "__version__", None) if openvino else None,
        "mlcommons-loadgen": _version("mlcommons-loadgen"),
    }
