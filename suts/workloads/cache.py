"""Where workloads cache the models they build, and how a cache entry is made atomically.

The cache root is, in order: an explicit ``cache_dir`` option, ``$WATTBENCH_CACHE_DIR``,
``$XDG_CACHE_HOME/wattbench``, ``~/.cache/wattbench``. Each model lives in a directory of its own
(``<root>/models/<key>/model.xml`` + ``model.bin`` + ``meta.json``) that is renamed into place
complete, so an interrupted build never leaves a half-written model behind.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from suts.errors import ModelError

log = logging.getLogger(__name__)

MODEL_FILE = "model.xml"
META_FILE = "meta.json"


def cache_root(explicit: str | Path | None = None) -> Path:
    """Return the cache root directory (not created)."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("WATTBENCH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "wattbench"


def cached_model(
    root: Path,
    key: str,
    build: Callable[[], tuple[Any, Mapping[str, object]]],
) -> tuple[Path, dict[str, Any]]:
    """Return ``(model.xml path, metadata)`` for ``key``, building it on first use.

    ``build()`` returns ``(ov.Model, metadata)``; both are written atomically. A cache entry
    whose files are missing or whose metadata is unreadable is rebuilt.
    """
    entry = root / "models" / key
    xml = entry / MODEL_FILE
    meta = _read_meta(entry)
    if meta is not None and xml.is_file() and xml.with_suffix(".bin").is_file():
        return xml, meta
    if entry.exists():
        log.warning("cache entry %s is incomplete; rebuilding it", entry)
        _discard(entry)
    from suts.ov_models import save_model_atomic  # openvino only when building

    model, metadata = build()
    log.info("caching model %s at %s", key, entry)
    try:
        save_model_atomic(model, xml, {META_FILE: json.dumps(dict(metadata), indent=2)})
    except OSError as e:
        raise ModelError(f"cannot write model cache {entry}: {e}") from e
    meta = _read_meta(entry)
    if meta is None:
        raise ModelError(f"model cache {entry} has no readable {META_FILE} after writing it")
    return xml, meta


def _read_meta(entry: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((entry / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _discard(entry: Path) -> None:
    import shutil

    trash = entry.with_name(f".{entry.name}.stale.{os.getpid()}")
    try:
        os.rename(entry, trash)  # atomic: readers see the old entry or nothing
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)
