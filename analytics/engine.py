"""The table engine: Ibis expressions over the event log, run by DuckDB in this process by default
or by Spark (Ibis's PySpark backend) when the log has outgrown one machine.

Every signal is written once against `Engine`: it gets the event log as an Ibis table, small
tables from the graph as memtables, and `execute`s an expression into a pandas frame. The
engine is chosen once (`RELGRAPH_ANALYTICS_ENGINE`, `Engine.spark(session)`), never inside a
signal. Only operations both backends compile the same way are used: epoch seconds for time
arithmetic (not interval types), `truncate`, window functions, plain aggregates.

    relgraph analyze cohorts                                   # DuckDB, the data dir's log
    RELGRAPH_ANALYTICS_ENGINE=spark RELGRAPH_SPARK_MASTER=spark://host:7077 \\
    RELGRAPH_EVENTS_URI=s3a://bucket/events relgraph analyze cohorts   # a Spark cluster
"""

from __future__ import annotations

import contextlib
import os
import secrets
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
from ibis.expr.types import Table

from graph.eventlog import SCHEMA as EVENT_SCHEMA
from graph.eventlog import EventLog

DAY = 86_400  # seconds


class Engine:
    """One Ibis backend, and how it reads the event log."""

    def __init__(self, backend: Any, kind: str) -> None:
        self.backend = backend
        self.kind = kind  # "duckdb" or "spark"

    @classmethod
    def duckdb(cls) -> Engine:
        backend = ibis.duckdb.connect()
        backend.raw_sql("SET TimeZone = 'UTC'")
        return cls(backend, "duckdb")

    @classmethod
    def spark(cls, session: Any | None = None, *, master: str | None = None) -> Engine:
        """On a Spark session (a new local or cluster one when none is given: `master` or
        RELGRAPH_SPARK_MASTER, default local[2]). Times are UTC, as the log's."""
        if session is None:
            from pyspark.sql import SparkSession

            session = (SparkSession.builder
                       .master(master or os.environ.get("RELGRAPH_SPARK_MASTER", "local[2]"))
                       .appName("relgraph-analytics")
                       .config("spark.sql.session.timeZone", "UTC")
                       .config("spark.ui.enabled", "false")
                       .config("spark.sql.shuffle.partitions", "4")
                       .getOrCreate())
        session.conf.set("spark.sql.session.timeZone", "UTC")
        return cls(ibis.pyspark.connect(session), "spark")

    def events(self, directory: Path | str) -> Table:
        """The event log's rows (graph/eventlog.py SCHEMA): its parts under `directory` (a
        path, or an object-store URI Spark or DuckDB can read)."""
        where = str(directory)
        local = "://" not in where
        if local:
            parts = EventLog(Path(where)).live_parts()
            if not parts:
                return self.table(EVENT_SCHEMA.empty_table())
            if self.kind == "duckdb":
                return self.backend.read_parquet([str(p) for p in parts])
            return self.backend.read_parquet(str(Path(where) / "part-*.parquet"))
        return self.backend.read_parquet(f"{where.rstrip('/')}/part-*.parquet")

    def table(self, data: pa.Table | pd.DataFrame | Mapping[str, Any],
              schema: Mapping[str, str] | None = None) -> Table:
        """A small table from Python (graph facts: identities, accounts, topics)."""
        if isinstance(data, pa.Table):
            data = data.to_pandas()
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
        if schema is not None:
            return ibis.memtable(frame, schema=ibis.schema(dict(schema)))
        return ibis.memtable(frame)

    def materialise(self, expr: Table, owner: object) -> Table:
        """`expr` computed once into a table of the session, for an expression every signal
        reads (the resolved log: its four joins over millions of rows would otherwise run again
        in each of a dozen queries), kept while `owner` (the world that reads it) lives.

        DuckDB: a temporary table, dropped when `owner` is collected (a server keeps one
        connection for every moment and data version it is asked about, so a table per world
        that outlived it would be a leak) and never at interpreter exit (Ibis's cache() drops
        there, after the connection may be closed). Spark: left lazy, as a log that needs
        Spark may not fit a cluster's memory."""
        if self.kind != "duckdb":
            return expr
        name = f"relgraph_{secrets.token_hex(6)}"
        table = self.backend.create_table(name, expr, temp=True)
        release = weakref.finalize(owner, self._drop, name)
        release.atexit = False
        return table

    def _drop(self, name: str) -> None:
        # a closed connection took the table with it; the name is our own, not a user's
        with contextlib.suppress(Exception):
            self.backend.raw_sql(f'DROP TABLE IF EXISTS "{name}"')

    def to_arrow(self, expr: Any) -> pa.Table:
        """The result as an Arrow table: for many rows read in Python, without pandas' boxing."""
        result = self.backend.to_pyarrow(expr)
        return result if isinstance(result, pa.Table) else pa.table(result)

    def execute(self, expr: Any) -> pd.DataFrame:
        result = self.backend.execute(expr)
        return result if isinstance(result, pd.DataFrame) else pd.DataFrame(result)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """frame.to_dict("records") with the same values (NaN for a missing number or text, Python
    ints, floats and lists), column by column: to_dict boxes every cell of an Arrow-backed
    column one at a time, which was a tenth of a 10k-customer analysis."""
    columns = list(frame.columns)
    if not len(frame):
        return []
    return [dict(zip(columns, row, strict=True))
            for row in zip(*(frame[c].tolist() for c in columns), strict=True)]


def epoch(moment: datetime) -> int:
    """Seconds since the epoch of an aware moment (the engines' common time arithmetic)."""
    return int(moment.astimezone(UTC).timestamp())


def engine_from_env() -> Engine:
    """RELGRAPH_ANALYTICS_ENGINE: duckdb (default) or spark."""
    kind = os.environ.get("RELGRAPH_ANALYTICS_ENGINE", "duckdb").strip().lower()
    if kind == "spark":
        return Engine.spark()
    if kind not in ("", "duckdb"):
        raise ValueError(f"RELGRAPH_ANALYTICS_ENGINE is duckdb or spark, got {kind!r}")
    return Engine.duckdb()


__all__ = ["DAY", "Engine", "engine_from_env", "epoch", "records"]
