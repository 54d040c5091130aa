"""Reader for our list of competitors: a text file, one competitor per line.

A line is a domain ("rival.com"), a website ("https://www.rival.io/"), a work e-mail, or a
company name ("Rival Corp"); a name and its domain may share a line, separated by a comma, a
tab or " | " ("Rival Corp, rival.com"). `#` starts a comment (a whole line, or after a space
at the end of a line); blank lines are skipped. Each competitor becomes a `Company` node flagged
`competitor`, named by its domain when the line has one (`CompanyRef(domain=…)`), else by name.
A line with no letter or digit, a domain that is free-mail or an IP (not a company), or a line
too long to be a name is a `BadLine`.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "competitors.txt"
    >>> _ = p.write_text("# our rivals\\nrival.com\\nGlobex Corp, globex.io  # since 2023\\n"
    ...                  "Initech\\n---\\n")
    >>> for item in read(p, ReadContext("competitors")):
    ...     print(item.line, getattr(item, "ref", None) or item.reason)
    2 CompanyRef(domain='rival.com', name=None)
    3 CompanyRef(domain='globex.io', name='Globex Corp')
    4 CompanyRef(domain=None, name='Initech')
    5 no letter or digit: not a company name or domain
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.csvio import detect_encoding
from connectors.errors import BadLine, UnreadableFile
from connectors.records import CompanyRef, Node, ReadItem
from connectors.source import ReadContext, Source
from graph.keys import registrable_domain

MAX_NAME = 200
_DOMAIN = re.compile(r"^(?:[\w-]+\.)+(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)\.?/?$", re.IGNORECASE)
_IP = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$|^\[?[0-9a-f:]*:[0-9a-f:.]*\]?$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SEPARATORS = re.compile(r"\s*(?:\t|,|;|\s\|\s|\s[-–—]\s)\s*")
_COMMENT = re.compile(r"\s#.*$")


def _looks_like_domain(text: str) -> bool:
    return ("://" in text or bool(_DOMAIN.match(text)) or bool(_EMAIL.match(text))
            or bool(_IP.match(text)))


def parse_line(text: str) -> tuple[CompanyRef | None, str | None]:
    """(company, None) for a usable line, (None, why not) otherwise.

    >>> parse_line("https://www.rival.io/pricing")
    (CompanyRef(domain='https://www.rival.io/pricing', name=None), None)
    >>> parse_line("gmail.com")[1]
    "'gmail.com' is free-mail, an IP address or a public suffix, not a company's domain"
    """
    if not re.search(r"[^\W_]", text):
        return None, "no letter or digit: not a company name or domain"
    if len(text) > MAX_NAME:
        return None, f"{len(text):,} characters: too long for a company name or domain"
    parts = [p for p in _SEPARATORS.split(text) if p]
    domains = [p for p in parts if " " not in p and _looks_like_domain(p)]
    names = [p for p in parts if p not in domains]
    if len(parts) > 2 or len(domains) > 1 or (len(parts) == 2 and not domains):
        # Not "name, domain": the whole line is one name ("Smith, Jones & Co").
        domains, names = ([text], []) if " " not in text and _looks_like_domain(text) else (
            [], [text])
    domain = domains[0] if domains else None
    name = " ".join(names[0].split()) if names else None
    if domain is not None:
        try:
            registrable = registrable_domain(domain)
        except ValueError:
            registrable = None
        if registrable is None:
            return None, (f"{domain!r} is free-mail, an IP address or a public suffix, not a "
                          "company's domain")
    if name is not None and not re.search(r"[^\W_]", name):
        name = None
    return CompanyRef(domain=domain, name=name), None


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    try:
        f = path.open("rb")
    except OSError as exc:
        raise UnreadableFile(path, exc.strerror or str(exc)) from None
    with f:
        head = f.read(1 << 16)
        f.seek(0)
        encoding = detect_encoding(head)
        # UTF-16 cannot escape a dangling byte: "replace" marks it, and the line is reported.
        errors = "replace" if encoding.startswith("utf-16") else "surrogateescape"
        text = io.TextIOWrapper(f, encoding=encoding, errors=errors, newline=None)
        for number, raw in enumerate(text, start=1):
            if "\ufffd" in raw and errors == "replace":
                yield BadLine(path, number, None, f"bytes that are not {encoding} text")
                continue
            line = raw.strip().lstrip("\ufeff").strip()
            if not line or line.startswith("#"):
                continue
            line = _COMMENT.sub("", line).strip()
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:
                yield BadLine(path, number, None, f"bytes that are not {encoding} text")
                continue
            company, problem = parse_line(line)
            if company is None:
                yield BadLine(path, number, None, problem or "not a company")
                continue
            props: dict[str, Any] = {"competitor": True}
            if company.name:
                props["name"] = company.name
            yield Node(company, props, line=number)


SOURCE = Source("competitors", read, "a text file of competitor domains or names -> companies "
                "flagged competitor", format="text", what="a list of competitors")
