"""The public IBM Telco customer churn table, as a file in the layout it is published in.

IBM's "Telco Customer Churn" sample (7,043 subscribers of a fictional telco in California, one
row each, with a Churn flag) is best known as Kaggle's ``WA_Fn-UseC_-Telco-Customer-Churn.csv``.
Neither Kaggle nor IBM is reachable from these machines, but the same table ships in R's
``modeldata`` package as ``wa_churn`` ("Watson churn data"), and Debian packages it as
``r-cran-modeldata``. ``apt-get download`` (an ordinary package client, reachable here and in
CI) fetches the .deb; this module reads it without R: the .deb is an ar archive, its
``data.tar.xz`` holds the package's lazy-load database (``data/Rdata.rdx``, a gzip-compressed
index of offsets, and ``data/Rdata.rdb``, each object stored as a 4-byte length, a compression
byte and the compressed serialisation), and the ``rdata`` package parses R's serialisation.

modeldata keeps every row and value of the table but renames the columns (snake_case), turns
the Yes/No columns into 0/1, ``gender`` into ``female`` and drops ``customerID``. ``write_csv``
turns it back into the published layout: the 21 columns under their published names and
vocabularies, TotalCharges a single space for the 11 customers with tenure 0 (as published),
and the rows in modeldata's order. The original customer IDs are not in modeldata, so
``customerID`` is ``WA-0001`` ... ``WA-7043`` by row; nothing is computed from it.
"""

from __future__ import annotations

import csv
import gzip
import io
import lzma
import math
import struct
import subprocess
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Any

PACKAGE = "r-cran-modeldata"
OBJECT = "wa_churn"
ROWS = 7043
CSV_NAME = "WA_Fn-UseC_-Telco-Customer-Churn.csv"
HEADER = ["customerID", "gender", "SeniorCitizen", "Partner", "Dependents", "tenure",
          "PhoneService", "MultipleLines", "InternetService", "OnlineSecurity", "OnlineBackup",
          "DeviceProtection", "TechSupport", "StreamingTV", "StreamingMovies", "Contract",
          "PaperlessBilling", "PaymentMethod", "MonthlyCharges", "TotalCharges", "Churn"]
# published column -> modeldata column, for the columns whose values are the same words
_SAME = {"MultipleLines": "multiple_lines", "InternetService": "internet_service",
         "OnlineSecurity": "online_security", "OnlineBackup": "online_backup",
         "DeviceProtection": "device_protection", "TechSupport": "tech_support",
         "StreamingTV": "streaming_tv", "StreamingMovies": "streaming_movies",
         "Contract": "contract", "PaymentMethod": "payment_method", "Churn": "churn"}
# published Yes/No column -> modeldata's 0/1 column
_YES_NO = {"Partner": "partner", "Dependents": "dependents", "PhoneService": "phone_service",
           "PaperlessBilling": "paperless_billing"}


class Unavailable(RuntimeError):
    """The package could not be fetched or read; the message says why."""


def download_deb(dest: Path) -> Path:
    """`apt-get download r-cran-modeldata` into dest; the .deb's path."""
    dest.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["apt-get", "download", PACKAGE], cwd=dest, capture_output=True,
                              text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unavailable(f"could not run apt-get download {PACKAGE}: {error}") from error
    debs = sorted(dest.glob(f"{PACKAGE}_*.deb"))
    if done.returncode != 0 or not debs:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise Unavailable(f"apt-get download {PACKAGE} failed ({done.returncode}): {tail}")
    return debs[-1]


def _ar_members(blob: bytes) -> dict[str, bytes]:
    if not blob.startswith(b"!<arch>\n"):
        raise Unavailable("not a Debian package (no ar header)")
    members, at = {}, 8
    while at + 60 <= len(blob):
        header = blob[at:at + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = blob[at + 60:at + 60 + size]
        at += 60 + size + (size % 2)
    return members


def _package_files(deb: Path, wanted: tuple[str, ...]) -> dict[str, bytes]:
    members = _ar_members(deb.read_bytes())
    data = next((v for k, v in members.items() if k.startswith("data.tar")), None)
    if data is None:
        raise Unavailable(f"{deb.name} has no data.tar member")
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            for suffix in wanted:
                if member.name.endswith(suffix):
                    extracted = archive.extractfile(member)
                    if extracted is not None:
                        out[suffix] = extracted.read()
    missing = [w for w in wanted if w not in out]
    if missing:
        raise Unavailable(f"{deb.name} lacks {', '.join(missing)}")
    return out


def _decompress(blob: bytes) -> bytes:
    """One object of an R lazy-load database: a big-endian length, a type byte, the data."""
    (length,) = struct.unpack(">I", blob[:4])
    kind = blob[4:5]
    if kind == b"Z":  # xz: R writes a raw LZMA2 stream at preset 9e (R_compress3)
        filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
        raw = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=filters).decompress(blob[5:])
    elif kind == b"2":
        import bz2
        raw = bz2.decompress(blob[5:])
    elif kind == b"0":
        raw = blob[5:]
    else:  # R_compress1: plain zlib with no type byte
        raw = zlib.decompress(blob[4:])
    if len(raw) != length:
        raise Unavailable(f"a lazy-load object decompressed to {len(raw)} bytes, not {length}")
    return raw


def read_wa_churn(deb: Path) -> Any:
    """modeldata's wa_churn as a pandas DataFrame."""
    import warnings

    import rdata

    files = _package_files(deb, ("modeldata/data/Rdata.rdx", "modeldata/data/Rdata.rdb"))
    with warnings.catch_warnings():  # rdata warns that a bare serialisation has no RDS header
        warnings.simplefilter("ignore")
        index = rdata.conversion.convert(rdata.parser.parse_data(
            gzip.decompress(files["modeldata/data/Rdata.rdx"])))
        where = index["variables"].get(OBJECT)
        if where is None:
            raise Unavailable(f"{deb.name} has no {OBJECT} data set")
        offset, length = int(where[0]), int(where[1])
        blob = files["modeldata/data/Rdata.rdb"][offset:offset + length]
        frame = rdata.conversion.convert(rdata.parser.parse_data(_decompress(blob)))
    if len(frame) != ROWS:
        raise Unavailable(f"{OBJECT} has {len(frame)} rows, not the published {ROWS}")
    return frame


def _number(value: float) -> str:
    """As the published file writes it: 29.85, 1889.5, 20 (no trailing zeros)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text


def write_csv(frame: Any, path: Path) -> Path:
    """The table in its published layout (see the module docstring)."""
    def yes_no(value: Any) -> str:
        return "Yes" if float(value) == 1.0 else "No"

    with path.open("w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(HEADER)
        for n, row in enumerate(frame.itertuples(index=False), start=1):
            r = row._asdict()
            total = r["total_charges"]
            cells = {
                "customerID": f"WA-{n:04d}",
                "gender": "Female" if float(r["female"]) == 1.0 else "Male",
                "SeniorCitizen": str(int(r["senior_citizen"])),
                "tenure": str(int(r["tenure"])),
                "MonthlyCharges": _number(float(r["monthly_charges"])),
                "TotalCharges": " " if total is None or math.isnan(float(total))
                else _number(float(total)),
            }
            cells.update({k: yes_no(r[v]) for k, v in _YES_NO.items()})
            cells.update({k: str(r[v]) for k, v in _SAME.items()})
            out.writerow([cells[h] for h in HEADER])
    return path


def telco_csv(cache: Path) -> Path:
    """The published-layout CSV under cache (made once: download, read, write)."""
    target = cache / CSV_NAME
    if target.exists() and sum(1 for _ in target.open()) == ROWS + 1:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        deb = download_deb(Path(scratch))
        partial = Path(scratch) / CSV_NAME
        write_csv(read_wa_churn(deb), partial)
        partial.replace(target)
    return target


CARD_INTRO = """\
# Churn model card: the public IBM Telco table

The churn model (`relgraph analyze churn`) on IBM's Telco Customer Churn sample: {rows:,}
subscribers of a fictional Californian telco, one row each, 21 columns and a Churn flag, the
table best known as Kaggle's `{csv_name}`. Here it comes from R's
`modeldata` package (`wa_churn`), as Debian's `{package}` ships it, turned back into the
published layout by `tests/analytics/telco_public.py`: every row and value as published;
only `customerID` is `WA-0001` ... `WA-7043` by row, since modeldata drops the original IDs
(no input uses it).

Loaded with no event log, exactly as a user would load the file:

    relgraph load csv {csv_name} --mapping fixtures/csv/telco_churn_all.toml
    relgraph analyze churn --report
    relgraph analyze churn --chart docs/churn-calibration.png

`make churn-card` downloads the package, writes the CSV, runs those commands on the embedded
store and rewrites this file; tests/analytics/test_telco_public.py runs them on both stores and
checks that this card's figures are the ones the code computes today. The load read {read}.

![calibration](churn-calibration.png)

What follows is the command's own report, unedited.

"""


def write_card(docs: Path, cache: Path) -> Path:
    """Run the commands above on a fresh embedded data dir and write docs/churn-model-card.md."""
    import os
    import sys

    table = telco_csv(cache)
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, RELGRAPH_DATA_DIR=str(Path(scratch) / "data"),
                   RELGRAPH_STORE="memory")
        mapping = Path(__file__).resolve().parents[2] / "fixtures" / "csv" / "telco_churn_all.toml"
        cli = [sys.executable, "-m", "api.cli"]

        def run(*args: str) -> str:
            return subprocess.run([*cli, *args], env=env, check=True, capture_output=True,
                                  text=True).stdout

        loaded = " ".join(run("load", "csv", str(table), "--mapping", str(mapping)).split())
        read = loaded.split("read ", 1)[1].split(";", 1)[0] if "read " in loaded else "?"
        run("analyze", "churn", "--chart", str(docs / "churn-calibration.png"))
        report = run("analyze", "churn", "--report")
    body = report.replace("# Churn model card\n", "", 1).lstrip("\n")
    card = docs / "churn-model-card.md"
    card.write_text(CARD_INTRO.format(rows=ROWS, csv_name=CSV_NAME, package=PACKAGE, read=read)
                    + body.rstrip() + "\n")
    return card


if __name__ == "__main__":
    import sys

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs")
    print(write_card(out, Path.home() / ".cache" / "relgraph-test"))
