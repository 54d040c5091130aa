"""Load specs: what one `relgraph load` does, from the command line or from a manifest (TOML).

A manifest lists several loads, run in the order given (paths relative to the manifest):

    [[load]]
    source = "linkedin"
    paths = ["maya/Connections.csv"]
    owner = "maya@relgraph.io"

    [[load]]
    source = "csv"
    paths = ["telco.csv"]
    mapping = "telco-mapping.toml"
    timezone = "Europe/London"        # for times written without a zone
    observed_at = 2026-11-01          # a date: the start of that day in `timezone`

`observed_at` is read as `--observed-at` is (`connectors.dates.parse_moment`): a TOML date or
`"2026-11-01"` is the start of that day in the load's `timezone` (default UTC), a date-time
without a zone is read in it, one with a zone keeps it.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "g.jsonl").write_text('{"node": "Topic", "id": "crm"}\\n')
    >>> _ = (d / "m.toml").write_text('[[load]]\\nsource = "graph"\\npaths = ["g.jsonl"]\\n')
    >>> [(s.source, s.paths[0].name) for s in read_manifest(d / "m.toml")]
    [('graph', 'g.jsonl')]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from connectors.dates import TimeReader, parse_moment, zone
from connectors.errors import ConnectorError
from connectors.records import PersonRef
from connectors.source import SOURCES, ReadContext
from graph import keys

_KEYS = frozenset({"source", "paths", "owner", "observed_at", "timezone", "mapping"})


class ManifestError(ConnectorError, ValueError):
    pass


@dataclass(frozen=True)
class LoadSpec:
    source: str
    paths: list[Path]
    owner: str | None = None
    observed_at: datetime | None = None
    timezone: str | None = None
    mapping: Path | None = None

    def context(self, team: frozenset[str] = frozenset()) -> ReadContext:
        """The reader's context: options checked (zone, mapping file) before anything loads."""
        try:
            tz = zone(self.timezone)
        except ValueError as exc:
            raise ManifestError(str(exc)) from None
        mapping = None
        if self.mapping is not None:
            try:
                mapping = tomllib.loads(self.mapping.read_text(encoding="utf-8"))
            except OSError as exc:
                raise ManifestError(f"{self.mapping}: {exc.strerror or exc}") from None
            except tomllib.TOMLDecodeError as exc:
                raise ManifestError(f"{self.mapping}: not valid TOML ({exc})") from None
        owner = PersonRef(email=self._owner()) if self.owner is not None else None
        return ReadContext(self.source, TimeReader(tz), owner, self.observed_at, mapping, team)

    def _owner(self) -> str:
        """--owner as an e-mail, checked before anything is written: a typo ("maya") would
        otherwise load every connection of nobody, and reject each KNOWS one by one."""
        assert self.owner is not None
        try:
            keys.normalise_email(str(self.owner))
        except ValueError as exc:
            why = str(exc).rpartition(" (")[2].rstrip(")")
            raise ManifestError(f"--owner {self.owner!r} is not an e-mail address ({why}): give "
                                "the e-mail of whose export this is. Nothing was loaded.") from None
        return self.owner.strip()


def read_manifest(path: Path) -> list[LoadSpec]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML ({exc})") from None
    loads = data.get("load")
    if not isinstance(loads, list) or not loads or set(data) - {"load"}:
        raise ManifestError(f"{path}: a manifest is a list of [[load]] tables and nothing else")
    here = path.parent
    specs = []
    for number, entry in enumerate(loads, start=1):
        where = f"{path}: load {number}"
        unknown = set(entry) - _KEYS
        if unknown:
            raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                                f"allowed: {', '.join(sorted(_KEYS))}")
        source = entry.get("source")
        if source not in SOURCES:
            raise ManifestError(f"{where}: source must be one of {', '.join(sorted(SOURCES))}, "
                                f"got {source!r}")
        paths = entry.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if not paths or not all(isinstance(p, str) for p in paths):
            raise ManifestError(f"{where}: paths must be a list of file names")
        observed = entry.get("observed_at")
        try:
            tz = zone(entry.get("timezone"))
        except ValueError as exc:
            raise ManifestError(f"{where}: timezone: {exc}") from None
        try:
            observed_at = parse_moment(observed, tz) if observed is not None else None
        except ValueError as exc:
            raise ManifestError(f"{where}: observed_at: {exc}") from None
        missing = [p for p in paths if not (here / p).is_file()]
        if missing:
            raise ManifestError(f"{where}: no such file(s): {', '.join(missing)}")
        mapping = entry.get("mapping")
        specs.append(LoadSpec(source, [here / p for p in paths], entry.get("owner"), observed_at,
                              entry.get("timezone"), here / mapping if mapping else None))
    return specs
