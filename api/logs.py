"""Quiet, structured logs: one JSON object per line on stderr.

What is logged: the start and stop of the server, warnings, errors with their incident id and
traceback (api/errors.py), requests that failed on the server (5xx) — and, at `debug`, every
request. Not logged: access lines for every success, the Neo4j driver's notifications (the
stores ask the server for none), uvicorn's banner lines at info. `RELGRAPH_LOG_LEVEL` (debug,
info, warning, error) sets the level.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_config(level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the server (uvicorn takes it as `log_config`)."""
    level = level.upper()
    quiet = "WARNING" if level in ("INFO", "WARNING") else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "api.logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "loggers": {
            "relgraph": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": quiet, "propagate": False},
            "uvicorn.error": {"level": quiet},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "neo4j": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
            "strawberry": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        },
    }


def configure(level: str = "info") -> None:
    logging.config.dictConfig(log_config(level))


__all__ = ["JsonFormatter", "configure", "log_config"]
