"""Today's outreach list: the N people to write to today, each with its reason in a sentence
(seed 000: take half an hour a day to write to the people who need it most).

Who comes first, and why:
1. the struggling — an anomaly at their account (an export burst, pricing visits, confused
   clicking, going quiet out of season);
2. stalled onboarding — signed up, not set up past the configured point;
3. falling health — at risk, with activity under half its normal;
4. a trigger at their account in the last 14 days (a funding round, a new leader …);
5. new sign-ups of the last `new_days` days;
6. the most active people of the recent weeks, a quarter of the list at most (thank them; ask
   what would make it better).
Churned accounts are left out: they have gone, and winning them back is another list. Each
person once, under their first reason (the next one follows in the sentence). An account's
*contact* is the person an anomaly names, else the one our team knows best, else its most
active person, else its first person by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from analytics.activity import (
    AccountActivity,
    PersonActivity,
    accounts_activity,
    people_activity,
)
from analytics.anomalies import Anomaly, anomalies
from analytics.customers import has_churned
from analytics.health import Health, health
from analytics.onboarding import Onboarding, onboarding
from analytics.world import World
from graph.questions.accounts import Account

KINDS = ("struggling", "stalled", "falling", "trigger", "new", "active")
TRIGGER_DAYS = 14
ACTIVE_DAYS = 5  # days active in the recent weeks to count among the most active


@dataclass(frozen=True, slots=True)
class Reach:
    person_id: str
    name: str | None
    customer_id: str | None
    company: str | None
    kind: str
    reason: str  # one sentence


def _contact(account: Account, people: dict[str, PersonActivity],
             named: list[str] | None = None) -> str | None:
    mine = {p.person_id for p in account.people}
    for person in named or ():
        if person in mine or not mine:
            return person
    known = [p for p in account.people if p.known_by]
    if known:
        return max(known, key=lambda p: (p.strength or 0.0, p.person_id)).person_id
    active = [p for p in account.people if p.person_id in people]
    if active:
        return max(active, key=lambda p: (people[p.person_id].events, p.person_id)).person_id
    return account.people[0].person_id if account.people else None


def outreach(world: World, *, size: int | None = None,
             activity: dict[str, AccountActivity] | None = None,
             people: dict[str, PersonActivity] | None = None,
             healths: list[Health] | None = None, found: list[Anomaly] | None = None,
             starts: list[Onboarding] | None = None) -> list[Reach]:
    cfg = world.config.outreach
    size = size or cfg.size
    activity = activity if activity is not None else accounts_activity(world)
    people = people if people is not None else people_activity(world)
    healths = healths if healths is not None else health(world, activity)
    found = found if found is not None else anomalies(world, activity, include_expected=False)
    starts = starts if starts is not None else onboarding(world)
    names = world.names()
    person_names = world.people_names()
    candidates: list[tuple[int, str, str | None, str]] = []  # kind index, person, customer

    def add(kind: str, account: Account, reason: str, named: list[str] | None = None) -> None:
        if has_churned(account, world.as_of):
            return  # gone: winning it back is another list
        person = _contact(account, people, named)
        if person is not None:
            candidates.append((KINDS.index(kind), person, account.customer_id, reason))

    for x in found:
        account = world.account(x.customer_id)
        if account is not None and not x.expected:
            named = x.numbers.get("people") if isinstance(x.numbers.get("people"), list) \
                else None
            add("struggling", account, f"{names[x.customer_id]}: {x.text}", named)
    for o in starts:
        account = world.account(o.customer_id)
        if account is None:
            continue
        if o.stalled:
            add("stalled", account, f"{names[o.customer_id]} {o.text}: offer help to finish")
        elif o.signed_up is not None and o.signed_up > world.as_of - timedelta(
                days=cfg.new_days):
            add("new", account, f"{names[o.customer_id]} signed up on "
                                f"{o.signed_up.date().isoformat()}: welcome them")
    for h in healths:
        a = activity[h.customer_id]
        account = world.account(h.customer_id)
        if account is not None and h.status == "at risk" and a.trend is not None \
                and a.trend < 0.5:
            add("falling", account, f"{names[h.customer_id]}: {h.explain()}")
    recent = world.as_of - timedelta(days=TRIGGER_DAYS)
    for account in world.accounts:
        for t in account.triggers:
            if t.at > recent:
                what = t.headline or t.type.replace("_", " ")
                add("trigger", account, f"{names[account.customer_id]}: {what} on "
                                        f"{t.at.date().isoformat()}: a reason to call")
                break
    # the most active: a handful, and only people active on several days
    busiest = sorted((p for p in people.values() if p.active_days >= ACTIVE_DAYS),
                     key=lambda p: (-p.events, p.person_id))[:max(1, size // 4)]
    for p in busiest:
        company = names.get(p.customer_id, "") if p.customer_id else ""
        candidates.append((KINDS.index("active"), p.person_id, p.customer_id, (
            f"one of the most active{' at ' + company if company else ''}: {p.events} events on "
            f"{p.active_days} days recently: thank them, ask what would make it better")))
    chosen: dict[str, list[tuple[int, str | None, str]]] = {}
    for kind, person, customer, reason in sorted(candidates, key=lambda c: (c[0], c[1])):
        chosen.setdefault(person, []).append((kind, customer, reason))
    ranked = sorted(chosen.items(), key=lambda kv: (kv[1][0][0], kv[0]))
    result = []
    for person, reasons in ranked[:size]:
        kind, customer, reason = reasons[0]
        more = [r for _, _, r in reasons[1:] if r != reason]
        sentence = reason + (f"; also {more[0]}" if more else "")
        result.append(Reach(person, person_names.get(person), customer,
                            names.get(customer) if customer else None, KINDS[kind], sentence))
    return result


__all__ = ["KINDS", "Reach", "outreach"]
