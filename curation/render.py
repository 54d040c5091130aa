"""Rendering an issue: Markdown, the HTML e-mail and its plain-text alternative as one multipart
.eml, the roundup's Atom feed, and a static archive (a page per issue and an index).

Everything is a Jinja2 template in `curation/templates/` that the editor can override: a
directory named by RELGRAPH_ROUNDUP_TEMPLATES (or `--templates`) is searched first, so a file of
the same name there replaces the shipped one — `email.html.j2`, `issue.md.j2`, `issue.txt.j2`,
`archive.html.j2`, `index.html.j2`, `feed.atom.j2`, `_items.html.j2` — and its `roundup.toml`
changes the masthead (name, welcome, curator, call to action, sign-off, section headings) key by
key. HTML and Atom templates are autoescaped; Markdown values go through the `md` filter.

The e-mail is a table layout 600 px wide whose stylesheet is inlined into `style` attributes by
css-inline (mail clients drop `<style>`; media queries stay in one for small screens). The .eml
is a real multipart/alternative message (stdlib `email`): text/plain first, text/html second.

Every link to a story carries the issue's tracking parameters (`curation.feedback.track`:
`utm_source=roundup&utm_medium=email&utm_campaign=<issue id>`), which `graph.keys.canonical_url`
strips, so a click on it lands on the story's Content node as a newsletter READ.

Publishing writes, under the data dir (`write_site`):

    <data dir>/roundup/site/index.html         the archive index (newest issue first)
    <data dir>/roundup/site/<issue id>.html    one page per published issue
    <data dir>/roundup/site/feed.atom          the roundup's Atom feed (the latest 20 issues)
    <data dir>/roundup/mail/<issue id>.eml     the e-mail, ready for the sending tool

`site/` is static: serve it as it is at `archive_url` (roundup.toml), which the feed and the
e-mail's "view in the browser" link point to.
"""

from __future__ import annotations

import re
import sqlite3
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import StrEnum
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError

from curation import issues as issue_store
from curation.errors import CurationError
from curation.feedback import track
from curation.issues import Issue, Item, day_start
from curation.model import SourceKind
from graph.settings import get_settings

TEMPLATES_ENV = "RELGRAPH_ROUNDUP_TEMPLATES"
PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
MASTHEAD_FILE = "roundup.toml"
FEED_ISSUES = 20
SITE, MAIL = Path("roundup") / "site", Path("roundup") / "mail"


class Format(StrEnum):
    MD = "md"
    HTML = "html"
    TEXT = "text"
    EML = "eml"


@dataclass(frozen=True, slots=True)
class Masthead:
    name: str = "What's new"
    intro: str = ""
    curator: str = ""
    curator_title: str = ""
    organisation: str = ""
    site_url: str = ""
    archive_url: str = ""
    sender: str = "roundup@example.com"
    recipient: str = "roundup@example.com"
    unsubscribe: str = ""
    cta_title: str = ""
    cta_text: str = ""
    cta_url: str = ""
    cta_blurb: str = ""
    sign_off: str = ""
    signature: str = ""
    footer: str = ""
    sections: Mapping[str, str] = field(default_factory=dict)
    # an editor's roundup.toml was read over the shipped one (which `publish` refuses to send)
    configured: bool = False

    def section_title(self, kind: SourceKind) -> str:
        return self.sections.get(kind.value) or kind.section

    @property
    def domain(self) -> str:
        address = parseaddr(self.sender)[1]
        return address.rpartition("@")[2] or "localhost"


def templates_dir(explicit: Path | None = None) -> Path | None:
    """The editor's templates directory: `explicit`, else RELGRAPH_ROUNDUP_TEMPLATES, else
    `<data dir>/roundup/templates` once `relgraph roundup setup` made it."""
    if explicit is not None:
        return Path(explicit)
    settings = get_settings()
    if settings.roundup_templates is not None:
        return settings.roundup_templates
    default = default_templates_dir()
    return default if default.is_dir() else None


def default_templates_dir() -> Path:
    """Where `relgraph roundup setup` writes the masthead when RELGRAPH_ROUNDUP_TEMPLATES is
    not set."""
    return get_settings().data_dir / "roundup" / "templates"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CurationError(f"{path}: cannot read the roundup's masthead: {exc}") from None


def load_masthead(templates: Path | None = None) -> Masthead:
    """The shipped roundup.toml, with the keys of the templates directory's own on top."""
    data = _read_toml(PACKAGE_TEMPLATES / MASTHEAD_FILE)
    sources = [str(PACKAGE_TEMPLATES / MASTHEAD_FILE)]
    if templates is not None and (templates / MASTHEAD_FILE).is_file():
        override = _read_toml(templates / MASTHEAD_FILE)
        sections = {**data.get("sections", {}), **override.pop("sections", {})}
        data = {**data, **override, "sections": sections}
        sources.append(str(templates / MASTHEAD_FILE))
    known = {f.name for f in fields(Masthead)} - {"configured"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CurationError(f"{sources[-1]}: unknown key(s) {', '.join(unknown)}; the masthead "
                            f"has {', '.join(sorted(known))}")
    bad = [k for k, v in data.items() if k != "sections" and not isinstance(v, str)]
    bad += [f"sections.{k}" for k, v in data.get("sections", {}).items()
            if k not in {s.value for s in SourceKind} or not isinstance(v, str)]
    if bad:
        raise CurationError(f"{sources[-1]}: {', '.join(bad)}: each must be a string (sections: "
                            "company, vendor, ours)")
    return Masthead(**data, configured=len(sources) > 1)


# --- filters -----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def md(text: str) -> str:
    """Text safe inside Markdown: its markup characters escaped, a leading '#' too."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    return "\\" + escaped if escaped.startswith(("#", "+ ", "- ", "> ")) else escaped


def md_url(url: str) -> str:
    return f"<{url}>" if re.search(r"[\s()<>]", url) else url


def paragraphs(text: str) -> list[str]:
    """Paragraphs of an intro: split at blank lines, each paragraph's lines joined."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def ordinal_date(moment: datetime | Any) -> str:
    n = moment.day
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{moment.strftime('%A, %B')} {n}{suffix}, {moment.year}"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def underline(text: str, char: str = "=") -> str:
    return char * len(text)


# --- the view templates get ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ItemView:
    content_id: str
    title: str
    link: str  # with the issue's tracking parameters
    url: str  # as the feed gave it
    author: str | None
    outlet: str | None
    blurb: str
    verdict: str
    published_at: datetime
    position: int


@dataclass(frozen=True, slots=True)
class SectionView:
    kind: str
    title: str
    items: tuple[ItemView, ...]


@dataclass(frozen=True, slots=True)
class IssueView:
    id: str
    title: str
    date: datetime
    intro: tuple[str, ...]  # paragraphs
    status: str
    sent_at: datetime  # published, else scheduled, else the issue's date
    archive_url: str
    sections: tuple[SectionView, ...]
    picked: int

    @property
    def preheader(self) -> str:
        first = self.intro[0] if self.intro else ""
        return first if len(first) <= 140 else first[:139].rsplit(" ", 1)[0] + "…"


def issue_view(issue: Issue, by_section: Mapping[SourceKind, Sequence[Item]],
               masthead: Masthead, medium: str = "email") -> IssueView:
    sections = []
    for kind in SourceKind:
        chosen = by_section.get(kind, ())
        if chosen:
            sections.append(SectionView(kind.value, masthead.section_title(kind), tuple(
                ItemView(i.content_id, i.title, track(i.url, issue.id, medium), i.url,
                         i.author, i.outlet, i.blurb, i.verdict, i.published_at, i.position)
                for i in chosen)))
    sent = issue.published_at or issue.scheduled_at or day_start(issue.date)
    return IssueView(issue.id, issue.title, day_start(issue.date),
                     tuple(paragraphs(issue.intro)), issue.status.value, sent,
                     archive_page_url(masthead, issue.id), tuple(sections),
                     sum(len(s.items) for s in sections))


def archive_page_url(masthead: Masthead, issue_id: str) -> str:
    return f"{masthead.archive_url}{issue_id}.html" if masthead.archive_url else f"{issue_id}.html"


def _escaped(name: str | None) -> bool:
    """HTML and Atom templates are autoescaped; Markdown and text are not."""
    return name is not None and name.endswith((".html.j2", ".atom.j2"))


class Renderer:
    """The templates (the editor's first, then the shipped ones) and the masthead."""

    def __init__(self, templates: Path | None = None) -> None:
        self.templates = templates_dir(templates)
        if self.templates is not None and not self.templates.is_dir():
            raise CurationError(f"roundup templates directory {self.templates} does not exist")
        self.masthead = load_masthead(self.templates)
        search = [FileSystemLoader(str(self.templates))] if self.templates else []
        search.append(FileSystemLoader(str(PACKAGE_TEMPLATES)))
        self.env = Environment(
            loader=ChoiceLoader(search), undefined=StrictUndefined, trim_blocks=True,
            lstrip_blocks=True, keep_trailing_newline=True,
            autoescape=_escaped)
        self.env.filters.update(md=md, md_url=md_url, ordinal_date=ordinal_date,
                                rfc3339=rfc3339, underline=underline)
        self._inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)

    def _render(self, name: str, **context: Any) -> str:
        try:
            return self.env.get_template(name).render(masthead=self.masthead, **context)
        except TemplateError as exc:
            where = getattr(exc, "filename", None) or name
            line = getattr(exc, "lineno", None)
            raise CurationError(f"template {where}{f':{line}' if line else ''}: {exc}") from None

    def view(self, issue: Issue, by_section: Mapping[SourceKind, Sequence[Item]],
             medium: str = "email") -> IssueView:
        return issue_view(issue, by_section, self.masthead, medium)

    def markdown(self, view: IssueView) -> str:
        return self._render("issue.md.j2", issue=view)

    def text(self, view: IssueView) -> str:
        return self._render("issue.txt.j2", issue=view)

    def html_email(self, view: IssueView) -> str:
        html = self._render("email.html.j2", issue=view)
        try:
            inlined = str(self._inliner.inline(html))
        except ValueError as exc:
            raise CurationError(f"email.html.j2: css-inline could not inline it: {exc}") from None
        return inlined if inlined.endswith("\n") else inlined + "\n"

    def eml(self, issue: Issue, by_section: Mapping[SourceKind, Sequence[Item]]) -> bytes:
        """The e-mail as a multipart/alternative message: plain text, then HTML."""
        view = self.view(issue, by_section, "email")
        m = self.masthead
        msg = EmailMessage(policy=policy.SMTP)
        msg["Subject"] = view.title
        msg["From"] = m.sender
        msg["To"] = m.recipient
        msg["Date"] = format_datetime(view.sent_at.astimezone(UTC))
        msg["Message-ID"] = f"<{issue.id}@{m.domain}>"
        msg["List-Id"] = f"{m.name} <roundup.{m.domain}>"
        if m.unsubscribe:
            msg["List-Unsubscribe"] = f"<{m.unsubscribe}>"
        msg["X-Relgraph-Issue"] = issue.id
        msg.set_content(self.text(view), subtype="plain", charset="utf-8",
                        cte="quoted-printable")
        msg.add_alternative(self.html_email(view), subtype="html", charset="utf-8",
                            cte="quoted-printable")
        return msg.as_bytes()

    def archive_page(self, view: IssueView, newer: IssueView | None = None,
                     older: IssueView | None = None) -> str:
        return self._render("archive.html.j2", issue=view, newer=newer, older=older)

    def index(self, views: Sequence[IssueView]) -> str:
        return self._render("index.html.j2", issues=views)

    def atom(self, views: Sequence[IssueView], updated: datetime) -> str:
        bodies = [self._render("_items.html.j2", issue=v) for v in views]  # escaped in XML
        return self._render("feed.atom.j2", entries=list(zip(views, bodies, strict=True)),
                            updated=updated)

    def render(self, fmt: Format, issue: Issue,
               by_section: Mapping[SourceKind, Sequence[Item]]) -> str | bytes:
        if fmt is Format.EML:
            return self.eml(issue, by_section)
        view = self.view(issue, by_section, "email")
        if fmt is Format.MD:
            return self.markdown(view)
        if fmt is Format.TEXT:
            return self.text(view)
        return self.html_email(view)


def preview(db: sqlite3.Connection, ref: str, fmt: Format,
            templates: Path | None = None) -> str | bytes:
    """An issue in one format, whatever its status (a draft shows what it would send)."""
    issue = issue_store.get(db, ref)
    by_section = issue_store.sections(db, issue.id)
    return Renderer(templates).render(fmt, issue, by_section)


def _write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data, encoding="utf-8")
    tmp.replace(path)
    return path


def write_site(db: sqlite3.Connection, data_dir: Path, *, templates: Path | None = None,
               issue: Issue | None = None) -> list[Path]:
    """The archive page and e-mail of `issue` (and the archive page of the issue before it, now
    linked to it; default: of every published issue), the index and the feed, under
    `<data dir>/roundup/`. Returns the files written."""
    renderer = Renderer(templates)
    published = [i for i in issue_store.list_issues(db) if i.published_at is not None
                 and i.status.value == "published"]
    published.sort(key=lambda i: (i.date, i.published_at or i.created_at, i.id), reverse=True)
    web = {i.id: renderer.view(i, issue_store.sections(db, i.id), "web") for i in published}
    site, mail = Path(data_dir) / SITE, Path(data_dir) / MAIL
    written = []
    order = [i.id for i in published]
    targets = published
    if issue is not None:  # its page, and the page before it (whose "newer" link it becomes)
        targets = [issue]
        at = order.index(issue.id) if issue.id in order else -1
        if 0 <= at < len(order) - 1:
            targets.append(published[at + 1])
    for target in targets:
        at = order.index(target.id) if target.id in order else -1
        newer = web[order[at - 1]] if at > 0 else None
        older = web[order[at + 1]] if 0 <= at < len(order) - 1 else None
        view = web.get(target.id) or renderer.view(target, issue_store.sections(db, target.id),
                                                   "web")
        written.append(_write(site / f"{target.id}.html",
                              renderer.archive_page(view, newer, older)))
        if issue is None or target.id == issue.id:
            written.append(_write(mail / f"{target.id}.eml",
                                  renderer.eml(target, issue_store.sections(db, target.id))))
    views = [web[i] for i in order]
    written.append(_write(site / "index.html", renderer.index(views)))
    updated = max((i.published_at for i in published if i.published_at),
                  default=datetime.now(UTC))
    feed_views = [renderer.view(i, issue_store.sections(db, i.id), "feed")
                  for i in published[:FEED_ISSUES]]
    written.append(_write(site / "feed.atom", renderer.atom(feed_views, updated)))
    return written


__all__ = ["Format", "Masthead", "Renderer", "load_masthead", "preview",
           "templates_dir", "write_site"]
