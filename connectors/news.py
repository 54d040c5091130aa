"""Reader for company-news RSS or Atom feeds (files on disk, parsed with feedparser): headlines
that announce a sales trigger become `Trigger` nodes on the companies they name.

Each entry's title is matched against explicit patterns, in this order (first match wins):

- acquisition: "Acme acquires Beta", "Acme to acquire Beta for $1B", "Acme buys Beta",
  "Acme completes acquisition of Beta", "Beta acquired by Acme", "Beta to be acquired by Acme"
  (both companies get the trigger; the details say who bought whom);
- leadership_change: "Acme appoints Jane Doe as VP of Sales", "Acme names new CFO", "Acme hires
  former X exec as Chief Revenue Officer", "Acme taps Jane Doe to lead sales as CRO",
  "Jane Doe joins Acme as VP Marketing", and departures of a named role: "Acme CEO steps down",
  "Acme's CFO Jane Doe resigns" (a departure is a leadership change too);
- funding_round: "Acme raises $20M Series B", "Acme closes $5 million seed round", "Acme secures
  €10M in Series A funding", "Acme lands $12M", "Acme raises Series A" — a funding verb followed
  at once by an amount or a round name; amounts followed by contract/deal/order/revenue words are
  not funding ("Acme lands $12M contract"), and "closes/announces/completes" need a round or a
  funding word ("Acme closes $30M deal" is not funding);
- hiring_surge: "Acme to hire 500", "Acme plans to add 1,000 jobs", "Acme is hiring 200
  engineers" — at least 50 people (or "hundreds", "thousands");
- layoffs: "Acme lays off 200", "Acme cuts 10% of staff", "Acme to cut 1,000 jobs";
- expansion: "Acme opens new office in Berlin", "Acme opens European headquarters in Dublin",
  "Acme expands to Europe", "Acme enters UK market".

Headlines that are questions or commentary ("Why startups raise too much", "How Acme raised
$20M?") and everything else ("Acme raises prices", "Acme buys back shares") are ignored and
counted in one note, not rejected. The company is the name that ends the headline's subject
("Berlin-based fintech Acme raises …" -> Acme), as `CompanyRef(name=…)`: the entry link's domain
is a news outlet's, never the company's. A trailing " - Outlet" / " | Outlet" and a leading
"Exclusive:" are removed first; a "headline" over 300 characters is not one.

Each trigger is keyed "news:<hash of the entry's guid, else its link>" (the same story read
twice is one trigger) with type, date (published, else updated: an entry without either is a
`BadLine`), the headline, details (who, role, place …, then the entry summary as text), the
link as source_url, and amount/currency/round for funding and acquisitions. Lines are entry
indexes (1-based). Malformed feeds are handled as by the `feed` reader.

    >>> import tempfile, pathlib
    >>> from connectors.source import ReadContext
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "news.xml"
    >>> _ = p.write_text('''<rss version="2.0"><channel><title>Startup news</title>
    ... <item><title>Acme raises $20M Series B led by Index</title>
    ... <link>https://news.example.com/acme-b</link>
    ... <pubDate>Tue, 05 Mar 2024 14:22:10 +0000</pubDate></item>
    ... <item><title>Acme raises prices</title><link>https://news.example.com/p</link>
    ... <pubDate>Tue, 05 Mar 2024 15:00:00 +0000</pubDate></item></channel></rss>''')
    >>> ctx = ReadContext("news")
    >>> company, trigger, had, tag = read(p, ctx)
    >>> company.ref, trigger.props["type"], trigger.props["amount"], trigger.props["round"]
    (CompanyRef(domain=None, name='Acme'), 'funding_round', 20000000.0, 'Series B')
    >>> recognise("Beta acquired by Acme for $1B").companies
    ('Acme', 'Beta')
    >>> ctx.notes
    ['news.xml: 1 of 2 headlines matched no trigger pattern and were skipped']
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.errors import BadLine
from connectors.feed import entry_summary, entry_time, html_to_text, parse_feed
from connectors.funding import parse_money, stable_id
from connectors.records import CompanyRef, KeyRef, Link, Node, ReadItem, Tag
from connectors.source import ReadContext, Source

HIRING_MINIMUM = 50  # "Acme hires 3 engineers" is not a surge
MAX_HEADLINE = 300  # longer "titles" are not headlines (and would make the patterns slow)

_I = re.IGNORECASE


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())



@dataclass(frozen=True, slots=True)
class Headline:
    """What a headline announces: a trigger type, the companies (the subject first)."""

    type: str
    companies: tuple[str, ...]
    facts: tuple[tuple[str, str], ...] = ()
    amount: Decimal | None = None
    currency: str | None = None
    round: str | None = None


# --- names -----------------------------------------------------------------------------------

_NAME_TOKEN = re.compile(
    r"^(?:[A-Z0-9][\w.&'’+!-]*|[a-z]{1,3}[A-Z][\w.&'+-]*|[a-z][\w-]*\.(?:com|io|ai|co|net|org|app|"
    r"dev|so|xyz|tech|me|fm|tv|ly|de|fr|uk|eu)\b[\w.]*)$")
_JOINERS = frozenset({"of", "&", "de", "du", "von", "van", "der", "la", "le", "y"})
# Nouns that introduce a name ("AI startup Acme", "Fintech Firm Acme"): cut off before it.
_DESCRIPTORS = _words("""
    startup start-up scaleup scale-up unicorn firm giant maker provider developer specialist
    vendor rival competitor fintech insurtech healthtech proptech edtech martech adtech regtech
    legaltech biotech medtech cleantech climatetech retailer lender insurer neobank chipmaker
    carmaker automaker
""")
# Words also skipped before an acquired company's name ("acquires AI data company Beta"), but
# kept inside a subject, where they are often part of a name ("Acme Cloud Security").
_SECTORS = _DESCRIPTORS | _words("""
    ai ml saas data cloud software security cybersecurity analytics crm erp hr payments payment
    e-commerce ecommerce marketplace app bank company platform partner
""")
_NOT_NAMES = _words("""
    why how what when where who which whose should can could would will is are do does did
    the a an this that these those it its they we you he she i our your their here here's there
    startups companies firms investors sources report reports exclusive breaking update opinion
    analysis watch video podcast interview explainer today week
""")
_STOP = _words("""
    for in to from with at on as amid after and by over via into deal, following while during
    led backed
""")
_ROLE_WORD = re.compile(
    r"\b(?:CEO|CFO|CTO|COO|CMO|CRO|CIO|CISO|CPO|CCO|CHRO|CDO|CSO|president|chair(?:man|woman|"
    r"person)?|general counsel|managing director|general manager|chief [a-z]+(?: [a-z]+){0,2} "
    r"officer|chief executive|(?:senior |executive )?(?:S?VP|EVP|vice[- ]president)\b(?:,? of)?"
    r"(?: [A-Za-z&]+){1,3}|head of(?: [A-Za-z&]+){1,3}|board(?: of directors)?)\b", _I)


def _clean_token(token: str) -> str:
    return token.strip(",;:\"“”()[]")


def _is_name_token(token: str) -> bool:
    t = _clean_token(token)
    if not t or t.casefold() in _STOP or t.casefold().endswith(("-based", "-headquartered")):
        return False
    return bool(_NAME_TOKEN.match(t))


def _trim(run: list[str]) -> str | None:
    """A name from a run of name-like tokens: descriptors before the name cut off, articles and
    question words refused, possessives and punctuation dropped."""
    cut = [i for i, t in enumerate(run[:-1]) if _clean_token(t).casefold() in _DESCRIPTORS]
    if cut:
        run = run[cut[-1] + 1:]
    while run and _clean_token(run[0]).casefold() in _NOT_NAMES | _JOINERS:
        run = run[1:]
    while run and _clean_token(run[-1]).casefold() in _JOINERS:
        run = run[:-1]
    if not run:
        return None
    name = " ".join(_clean_token(t) for t in run)
    name = re.sub(r"['’]s$", "", name).strip(" .-'’")
    if not name or not re.search(r"[A-Za-z0-9]", name) or name.casefold() in _NOT_NAMES:
        return None
    return name


def subject_name(text: str) -> str | None:
    """The company a headline's subject ends with: "Berlin-based fintech Acme" -> "Acme".

    >>> subject_name("Berlin-based fintech Acme Health"), subject_name("Why startups")
    ('Acme Health', None)
    """
    text = re.sub(r",\s[^,]*,$", "", text.strip())  # "Acme, the CRM maker," -> "Acme"
    tokens = text.split()
    run: list[str] = []
    for token in reversed(tokens):
        if _is_name_token(token) or (run and token in _JOINERS):
            if token.endswith((",", ";", ":")) and run:
                break
            run.insert(0, token)
        else:
            break
    return _trim(run)


def leading_name(text: str) -> str | None:
    """The company a phrase starts with: "AI startup Beta for $1B" -> "Beta"."""
    tokens = text.split()
    i = 0
    while i < len(tokens) and i < 5 and (
            _clean_token(tokens[i]).casefold() in _SECTORS | {"a", "an", "the", "its", "rival",
                                                                  "fellow", "struggling"}
            or _clean_token(tokens[i]).casefold().endswith(("-based", "-headquartered"))):
        i += 1
    run: list[str] = []
    for token in tokens[i:]:
        if _is_name_token(token) or (run and token in _JOINERS):
            run.append(token)
            if token.endswith((",", ";", ":")):
                break
        else:
            break
    return _trim(run)


# --- money and rounds ------------------------------------------------------------------------

_MONEY_TEXT = re.compile(
    r"(?P<money>(?:US\$|C\$|A\$|\$|€|£|¥|₹|(?:USD|EUR|GBP|CHF)\s?)\s?\d[\d,.]*(?:\s?(?:k|m|mn|mm|"
    r"bn|b|million|billion|thousand))?\b|\d[\d,.]*\s?(?:million|billion|mn|bn)(?:\s(?:dollars|"
    r"euros|pounds|USD|EUR|GBP|CHF))?\b)", _I)
_WORD_CURRENCY = {"dollars": "USD", "euros": "EUR", "pounds": "GBP"}
_ROUND = re.compile(
    r"\b(?P<round>pre-?seed|seed|angel|series [a-h](?:\d|\+|-\d)?|growth|bridge|mezzanine|"
    r"venture|debt|ipo)\b(?:\s(?:extension|round|funding|financing|investment))*", _I)
_FUNDING_WORD = re.compile(r"\b(?:round|funding|financing|investment|raise|capital|backing)\b", _I)
_NOT_FUNDING = re.compile(
    r"\b(?:contracts?|deals?|orders?|settlements?|lawsuits?|fines?|revenues?|sales|ARR|damages|"
    r"acquisitions?|buyouts?|loss(?:es)?|profits?|bonds? sale|tender)\b", _I)


def money_of(text: str) -> tuple[Decimal | None, str | None]:
    """The first amount in free text: "$20M", "€10 million", "5 million euros"."""
    match = _MONEY_TEXT.search(text)
    if match is None:
        return None, None
    raw = match["money"].strip()
    currency = None
    word = raw.split()[-1].casefold()
    if word in _WORD_CURRENCY:
        currency = _WORD_CURRENCY[word]
        raw = raw.rsplit(" ", 1)[0]
    raw = raw.rstrip(".,")
    try:
        amount, found = parse_money(raw)
    except ValueError:
        return None, None
    return amount, currency or found


def round_of(text: str) -> str | None:
    match = _ROUND.search(text)
    if match is None:
        return None
    name = match["round"].casefold()
    if name.startswith("series"):
        return "Series " + name.split()[1].upper()
    return {"preseed": "Pre-Seed", "pre-seed": "Pre-Seed", "ipo": "IPO"}.get(name, name.title())


# --- patterns --------------------------------------------------------------------------------

_QUALIFIERS = (r"(?:(?:a|an|another|over|nearly|almost|about|around|roughly|more than|up to|"
               r"additional|fresh|new|its|their|a further|further|whopping|massive)\s+)*")
_MONEY_START = re.compile(rf"^{_QUALIFIERS}(?:{_MONEY_TEXT.pattern})", _I)
_ROUND_START = re.compile(rf"^{_QUALIFIERS}{_ROUND.pattern}", _I)

_FUNDING = re.compile(
    r"^(?P<subject>.+?)\s+(?P<verb>raises|raised|has raised|closes|closed|secures|secured|lands|"
    r"landed|bags|bagged|nabs|nabbed|snags|snagged|gets|receives|received|scores|scored|"
    r"pulls in|picks up|announces|completes|completed|collects|grabs|attracts|banks|books)\s+"
    r"(?P<rest>.+)$", _I)
_NEEDS_ROUND = frozenset({"closes", "closed", "announces", "completes", "completed"})

_ACQUIRE = re.compile(
    r"^(?P<subject>.+?)\s+(?:acquires|acquired|buys|bought|snaps up|scoops up|picks up|to acquire|"
    r"to buy|will acquire|will buy|agrees to acquire|agrees to buy|in talks to acquire|"
    r"completes(?: its)? acquisition of|closes(?: its)? acquisition of|announces(?: its)? "
    r"acquisition of|announces (?:an )?agreement to acquire|set to acquire|moves to acquire)\s+"
    r"(?P<rest>.+)$", _I)
_ACQUIRED = re.compile(
    r"^(?P<subject>.+?)\s+(?:is |has been |was |to be |will be |agrees to be |set to be )?"
    r"(?:acquired|bought|snapped up|scooped up)\s+by\s+(?P<rest>.+)$", _I)
_NOT_TARGETS = re.compile(
    r"^(?:a |an |the )?(?:(?:majority |minority |controlling |\d+% )?stakes?|shares|back|"
    r"its own|assets|rights|patents?|licen[cs]es?|domains?|ads?|advertising|time|more)\b", _I)

_APPOINT = re.compile(
    r"^(?P<subject>.+?)\s+(?:appoints|appointed|names|named|hires|hired|taps|tapped|promotes|"
    r"promoted|welcomes|adds|elevates|picks|announces appointment of|announces)\s+(?P<rest>.+)$",
    _I)
_JOINS = re.compile(
    r"^(?P<person>.+?)\s+(?:joins|rejoins|to join|will join|has joined|returns to)\s+"
    r"(?P<company>.+?)\s+as\s+(?P<role>.+)$", _I)
_DEPARTS = re.compile(
    rf"^(?P<subject>.+?)(?:['’]s)?\s+(?P<role>{_ROLE_WORD.pattern})(?:,?\s+(?P<person>[A-Z][\w.'’-]+"
    r"(?:\s+[A-Z][\w.'’-]+){0,3}),?)?\s+(?:steps down|to step down|will step down|is stepping "
    r"down|stepping down|resigns|has resigned|to resign|departs|to depart|exits|to exit|leaves|"
    r"to leave|is out|ousted|retires|to retire|is replaced|fired)\b", _I)

_HIRING = re.compile(
    r"^(?P<subject>.+?)\s+(?P<verb>to hire|will hire|plans to hire|is hiring|set to hire|looks to "
    r"hire|aims to hire|hiring|hires|to add|will add|plans to add|adds|to create|will create|"
    r"plans to create|creates)\s+(?:up to |over |more than |nearly |about |around |another |an "
    r"additional |some )?(?P<n>\d[\d,.]*\s?(?:k|thousand)?|hundreds|thousands)\b\s*(?:of\s+)?"
    r"(?:new\s+)?(?P<what>[a-z]+)?", _I)
_HIRED_WHAT = _words("""jobs job roles positions employees staff people workers engineers hires
    developers staffers salespeople sales researchers scientists""")

_LAYOFFS = re.compile(
    r"^(?P<subject>.+?)\s+(?P<verb>lays off|to lay off|will lay off|laid off|plans to lay off|"
    r"cuts|to cut|will cut|plans to cut|slashes|to slash|axes|to axe|sheds|to shed|eliminates|"
    r"to eliminate)\s+(?:about |around |nearly |over |more than |another |up to |some )?"
    r"(?P<n>\d[\d,.]*\s?%?|hundreds|thousands|dozens)\s*(?:of\s+)?(?:its\s+|their\s+)?"
    r"(?P<what>[a-z]+)?", _I)
_CUT_WHAT = _words("jobs staff employees workers workforce roles positions people")

_OPENS = re.compile(
    r"^(?P<subject>.+?)\s+(?:opens|to open|will open|plans to open|unveils|inaugurates)\s+"
    r"(?:(?:its|a|an|first|new|second|third|largest|european|us|u\.s\.|global|regional|"
    r"international|emea|apac|asian|uk|flagship)\s+)*(?P<what>offices?|headquarters|hq|hub|"
    r"campus|(?:r&d|engineering|data|development|innovation|technology|tech) cent(?:er|re)|"
    r"factory|plant|facility|warehouse|lab|branch)\b(?:\s+in\s+(?P<place>.+))?$", _I)
_EXPANDS = re.compile(
    r"^(?P<subject>.+?)\s+(?:expands|to expand|will expand|expanding|plans to expand)\s+"
    r"(?:(?:its\s+)?(?:operations|presence|business|footprint|reach)\s+)?(?:in|into|to)\s+"
    r"(?P<place>.+)$", _I)
_ENTERS = re.compile(
    r"^(?P<subject>.+?)\s+(?:enters|to enter|will enter|expands into)\s+(?:the\s+)?"
    r"(?P<place>[A-Z][\w.]*(?:\s[A-Z][\w.]*)?)\s+markets?\b")

_OUTLET_SUFFIX = re.compile(r"\s+[-–—|]\s+[A-Z][^-–—|]{0,40}$")
_PREFIX = re.compile(r"^(?:exclusive|breaking|report|update|scoop|just in|press release|"
                     r"news|funding|m&a|people moves?)\s*[:|\-–—]\s*", _I)
_QUESTION = re.compile(r"^(?:why|how|what|when|where|who|which|should|can|could|would|is|are|"
                       r"do|does|did|will)\b", _I)


def _number(text: str) -> int | None:
    raw = text.strip().casefold().replace(",", "").replace(" ", "")
    if raw in ("hundreds", "dozens"):
        return 100
    if raw == "thousands":
        return 1000
    scale = 1
    if raw.endswith(("k", "thousand")):
        scale, raw = 1000, raw.rstrip("k").removesuffix("thousand")
    try:
        return int(Decimal(raw) * scale)
    except ArithmeticError:
        return None


def _place(text: str | None) -> str | None:
    if not text:
        return None
    words = []
    for token in text.split():
        clean = _clean_token(token)
        if not clean or clean.casefold() in _STOP or not clean[:1].isupper():
            break
        words.append(clean)
        if token.endswith((",", ";", ":")):
            break
    return " ".join(words) or None


def _acquisition(title: str) -> Headline | None:
    passive = _ACQUIRED.match(title)
    if passive:
        target, buyer = subject_name(passive["subject"]), leading_name(passive["rest"])
    else:
        active = _ACQUIRE.match(title)
        if active is None or _NOT_TARGETS.match(active["rest"]):
            return None
        buyer, target = subject_name(active["subject"]), leading_name(active["rest"])
    if not buyer or not target or buyer.casefold() == target.casefold():
        return None
    price = re.search(r"\b(?:for|in an?|in)\s+(?:(?:about|around|roughly|nearly|over|up to)\s+)?"
                      rf"(?:{_MONEY_TEXT.pattern})", title, _I)
    amount, currency = money_of(price.group(0)) if price else (None, None)
    return Headline("acquisition", (buyer, target),
                    (("acquirer", buyer), ("acquired", target)), amount, currency)


def _role(text: str) -> str | None:
    match = _ROLE_WORD.search(text)
    if match is None:
        return None
    words = match.group(0).split()
    for i, word in enumerate(words[1:], start=1):  # "VP of Sales to lead …" -> "VP of Sales"
        if word.casefold() in _STOP - {"of"} or word.casefold() in ("who", "amid", "after"):
            words = words[:i]
            break
    role = " ".join(words).rstrip(",")
    return "board member" if role.casefold().startswith("board") else role


def _person(text: str) -> str | None:
    """A person's name at the start of `text` ("Jane Doe as …"), if it reads like one."""
    tokens = []
    for token in text.split():
        clean = _clean_token(token)
        if not clean or not clean[:1].isupper() or _ROLE_WORD.fullmatch(clean):
            break
        tokens.append(clean)
    if 2 <= len(tokens) <= 4 and tokens[0].casefold() not in _NOT_NAMES | {"new", "former"}:
        return " ".join(tokens)
    return None


def _leadership(title: str) -> Headline | None:
    joins = _JOINS.match(title)
    if joins:
        company, role = leading_name(joins["company"]), _role(joins["role"])
        person = _person(joins["person"])
        if company and role and person:
            return Headline("leadership_change", (company,),
                            (("role", role), ("person", person), ("change", "joined")))
    departs = _DEPARTS.match(title)
    if departs:
        company = subject_name(departs["subject"])
        role = _role(departs["role"])
        if company and role:
            facts = [("role", role)]
            if departs["person"]:
                facts.append(("person", departs["person"].rstrip(",")))
            facts.append(("change", "departed"))
            return Headline("leadership_change", (company,), tuple(facts))
    appoint = _APPOINT.match(title)
    if appoint:
        company = subject_name(appoint["subject"])
        rest = appoint["rest"]
        role = _role(rest)
        if company and role and not _MONEY_START.match(rest):
            facts = [("role", role)]
            person = _person(rest)
            if person:
                facts.append(("person", person))
            facts.append(("change", "appointed"))
            return Headline("leadership_change", (company,), tuple(facts))
    return None


def _funding(title: str) -> Headline | None:
    match = _FUNDING.match(title)
    if match is None:
        return None
    company = subject_name(match["subject"])
    rest = match["rest"]
    if not company:
        return None
    starts_money, starts_round = _MONEY_START.match(rest), _ROUND_START.match(rest)
    if not starts_money and not starts_round:
        return None
    # "$12M contract": a word right after the amount that makes it something else.
    after = rest[starts_money.end():] if starts_money else rest
    if _NOT_FUNDING.match(after.strip()) or re.match(r"^\s*(?:in\s+)?(?:new\s+)?(?:contract|"
                                                     r"deal|order|revenue|sales)", after, _I):
        return None
    if match["verb"].casefold() in _NEEDS_ROUND and not (round_of(rest) or _FUNDING_WORD.search(
            rest)):
        return None
    if _NOT_FUNDING.search(rest) and not (round_of(rest) or _FUNDING_WORD.search(rest)):
        return None
    amount, currency = money_of(rest) if starts_money else (None, None)
    round_name = round_of(rest)
    facts = [("round", round_name)] if round_name else []
    return Headline("funding_round", (company,), tuple(facts), amount, currency, round_name)


def _hiring(title: str) -> Headline | None:
    match = _HIRING.match(title)
    if match is None:
        return None
    company, count = subject_name(match["subject"]), _number(match["n"])
    what = (match["what"] or "").casefold()
    verb = match["verb"].casefold()
    if not company or count is None or count < HIRING_MINIMUM:
        return None
    if ("hire" not in verb and "hiring" not in verb) and what not in _HIRED_WHAT:
        return None
    if what in ("percent", "million", "billion", "customers", "users", "stores", "locations"):
        return None
    return Headline("hiring_surge", (company,), (("hires", match["n"].strip()),))


def _layoffs(title: str) -> Headline | None:
    match = _LAYOFFS.match(title)
    if match is None:
        return None
    company = subject_name(match["subject"])
    what = (match["what"] or "").casefold()
    verb = match["verb"].casefold()
    if not company:
        return None
    if "lay" not in verb and "laid" not in verb and what not in _CUT_WHAT:
        return None
    return Headline("layoffs", (company,), (("cuts", f"{match['n'].strip()} {what}".strip()),))


def _expansion(title: str) -> Headline | None:
    for pattern in (_OPENS, _ENTERS, _EXPANDS):
        match = pattern.match(title)
        if match is None:
            continue
        company = subject_name(match["subject"])
        place = _place(match["place"])
        if pattern is _EXPANDS and not place:
            continue
        if company:
            facts = [("place", place)] if place else []
            if pattern is _OPENS:
                facts.append(("opens", match["what"].lower()))
            return Headline("expansion", (company,), tuple(facts))
    return None


def article_url(link: str) -> str:
    """The article behind a Google Alerts redirect ("https://www.google.com/url?…&url=…"); any
    other link as it is.

    >>> article_url("https://www.google.com/url?rct=j&sa=t&url=https://news.example.org/a&ct=ga")
    'https://news.example.org/a'
    """
    parts = urlsplit(link)
    if parts.path == "/url" and (parts.hostname or "").removeprefix("www.").startswith("google."):
        target = parse_qs(parts.query).get("url") or parse_qs(parts.query).get("q")
        if target and target[0].startswith(("http://", "https://")):
            return target[0]
    return link


def clean_title(title: str) -> str:
    text = " ".join(title.replace("’", "'").replace("‘", "'").split())
    text = _OUTLET_SUFFIX.sub("", text)
    return _PREFIX.sub("", text).strip()


def recognise(title: str) -> Headline | None:
    """The trigger a headline announces, or None.

    >>> recognise("Acme closes $5 million seed round").round
    'Seed'
    >>> recognise("Jane Doe joins Acme as VP Marketing").facts
    (('role', 'VP Marketing'), ('person', 'Jane Doe'), ('change', 'joined'))
    >>> recognise("Acme raises prices") is None
    True
    """
    if len(title) > MAX_HEADLINE:
        return None
    text = clean_title(title)
    if not text or text.endswith("?") or _QUESTION.match(text):
        return None
    for recogniser in (_acquisition, _leadership, _funding, _hiring, _layoffs, _expansion):
        found = recogniser(text)
        if found is not None:
            return found
    return None


def read(path: Path, ctx: ReadContext) -> Iterator[ReadItem]:
    parsed = parse_feed(path, ctx)
    entries = parsed.get("entries") or []
    skipped = 0
    for index, entry in enumerate(entries, start=1):
        title = html_to_text(str(entry.get("title") or ""))
        found = recognise(title) if title else None
        if found is None:
            skipped += 1
            continue
        link = article_url(str(entry.get("link") or "").strip())
        guid = str(entry.get("id") or "").strip()
        if not link and not guid:
            yield BadLine(path, index, "link", "the entry has no link or guid to key it by")
            continue
        try:
            at, _ = entry_time(entry, ctx, "published", "updated")
        except ValueError as exc:
            yield BadLine(path, index, "published", str(exc))
            continue
        if at is None:
            yield BadLine(path, index, "published", "no date: a trigger needs one")
            continue
        trigger = KeyRef("Trigger", "news:" + stable_id(guid or link))
        details = "; ".join(f"{k}: {v}" for k, v in found.facts)
        summary = entry_summary(entry)
        if summary and summary != title:
            details = f"{details}\n\n{summary}" if details else summary
        props: dict[str, Any] = {"type": found.type, "at": at, "headline": title}
        if details:
            props["details"] = details
        if link:
            props["source_url"] = link
        if found.amount is not None:
            props["amount"] = float(found.amount)
        if found.currency:
            props["currency"] = found.currency
        if found.round:
            props["round"] = found.round
        companies = [CompanyRef(name=name) for name in found.companies]
        for company in companies:
            yield Node(company, {"name": company.name}, line=index)
        yield Node(trigger, props, line=index)
        for company in companies:
            yield Link("HAD_TRIGGER", company, trigger, line=index)
        yield Tag(trigger, text="\n".join(t for t in (title, summary) if t), line=index)
    if skipped:
        ctx.note(f"{path.name}: {skipped} of {len(entries)} headlines matched no trigger pattern "
                 "and were skipped")


SOURCE = Source("news", read, "company-news RSS/Atom feeds -> funding, leadership, acquisition, "
                "hiring, layoff and expansion triggers", format="feed",
                what="an RSS/Atom news feed")
