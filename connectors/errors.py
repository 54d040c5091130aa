"""Errors of the connectors: each names the file, the line and (where known) the field."""

from __future__ import annotations

from pathlib import Path


class ConnectorError(Exception):
    """Base of every error raised by `connectors/`."""


class BadLine(ConnectorError, ValueError):
    def __init__(self, path: Path | str, line: int, field: str | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = reason
        where = f"{self.path}:{line}" + (f": field {field!r}" if field else "")
        super().__init__(f"{where}: {reason}")


class UnreadableFile(ConnectorError, OSError):
    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = str(path)
        super().__init__(f"{path}: {reason}")
