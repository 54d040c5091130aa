"""Reading the embedded store's old snapshot files (format v2), to import them once.

Until the durable layer (graph/durable.py) the embedded store kept its graph in one pickled
snapshot (`graph.snapshot`: a header with the format version, the pickled graph, a length and
SHA-256 trailer). A data dir that still has one is imported into `graph.sqlite` the first time
it is opened; a damaged or older snapshot is refused with a clear error, never read as empty. It
is a pickle: only ever import snapshots from your own data dir.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import struct
from pathlib import Path

import networkx as nx

from graph.errors import SnapshotError

# The last snapshot format; older ones are refused with a clear message.
FORMAT = 2
_MAGIC_PREFIX = b"RELGRAPH-SNAPSHOT\x00"
MAGIC = _MAGIC_PREFIX + f"v{FORMAT}\n".encode()
_TRAILER = struct.Struct(">Q32s4s")  # payload length, sha256 of the payload, end marker
_END = b"END!"


def read_snapshot(path: Path) -> nx.MultiDiGraph:
    """The graph saved in `path`, checked end to end; any defect is a `SnapshotError`."""
    try:
        f = path.open("rb")
    except OSError as exc:
        raise SnapshotError(path, f"cannot be opened ({exc.strerror})") from None
    with f:
        st = os.fstat(f.fileno())
        header = f.read(len(MAGIC))
        if not header.startswith(_MAGIC_PREFIX):
            raise SnapshotError(path, "it is not a relgraph snapshot (bad header)")
        if header != MAGIC:
            found = header[len(_MAGIC_PREFIX):].strip().decode("ascii", "replace") or "?"
            raise SnapshotError(
                path, f"it has snapshot format {found} and this version reads only v{FORMAT}; "
                "load the data again, or open it with the version that wrote it")
        size = st.st_size
        if size < len(MAGIC) + _TRAILER.size:
            raise SnapshotError(path, "it is truncated")
        f.seek(size - _TRAILER.size)
        length, digest, end = _TRAILER.unpack(f.read(_TRAILER.size))
        if end != _END or length != size - len(MAGIC) - _TRAILER.size:
            raise SnapshotError(path, "it is truncated or was not completely written")
        f.seek(len(MAGIC))
        hasher, remaining = hashlib.sha256(), length
        while remaining:
            chunk = f.read(min(remaining, 1 << 20))
            if not chunk:
                raise SnapshotError(path, "it is truncated")
            hasher.update(chunk)
            remaining -= len(chunk)
        if hasher.digest() != digest:
            raise SnapshotError(path, "its checksum does not match (the file is corrupt)")
        f.seek(len(MAGIC))
        try:
            graph = pickle.load(f)  # noqa: S301 - our own file, checksum verified above
            if not isinstance(graph, nx.MultiDiGraph):
                raise TypeError(f"it holds a {type(graph).__name__}, not a graph")
            for node in graph.nodes:
                if not (isinstance(node, tuple) and len(node) == 2):
                    raise TypeError(f"a node {node!r} is not (label, key)")
        except Exception as exc:  # any decoding failure means the same thing here
            raise SnapshotError(path, f"it cannot be decoded ({exc!r})") from None
    return graph


