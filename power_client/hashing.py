"""SHA-256 of result files, as recorded in ``client.json`` and verified by ``wattbench check``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["hash_files", "sha256_file"]


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_files(root: Path, paths: Iterable[Path]) -> dict[str, str]:
    """Return ``{path relative to root: sha256}`` for those of ``paths`` that exist.

    ``power/client.json`` itself cannot hold its own hash and is skipped.
    """
    hashes: dict[str, str] = {}
    for path in paths:
        if path.name == "client.json" or not path.is_file():
            continue
        hashes[path.relative_to(root).as_posix()] = sha256_file(path)
    return hashes
