"""The data's version: a token every write path changes (a load, an API mutation, a merge
decision), kept in `<data dir>/graph-version`. Whatever computes from the graph and the event
log — the analytics' cache — keys its results by it, so a load makes them be recomputed and
nothing else does. Written whole (a temp file renamed), read without a lock.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE = "graph-version"


def bump(data_dir: Path) -> str:
    """A new version token (after a write)."""
    directory = Path(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    tmp = directory / f".{FILE}.{secrets.token_hex(4)}.tmp"
    tmp.write_text(token, encoding="ascii")
    os.replace(tmp, directory / FILE)
    return token


def current(data_dir: Path) -> str:
    """The version token now ("" when nothing was ever written through a version-keeping path)."""
    try:
        return (Path(data_dir) / FILE).read_text(encoding="ascii").strip()
    except OSError:
        return ""


__all__ = ["FILE", "bump", "current"]
