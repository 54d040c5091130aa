// The customer feed: the newest interactions from the screens' route, then new ones over the
// API's customerFeed subscription, newest on top; beside it health, outreach and risk.
// The filters come from the query string (?account=&kind=&owner=) so a wall screen's URL
// carries them; the server checks them (a typo is said, not ignored).

import {
  KINDS, accountHref, append, avatar, clear, companyHref, el, getJSON, keepTimesFresh, nameOf,
  personHref, placeOf, problem, quoteOf, timeEl, whatHappened,
} from "./common.js";
import { Subscription } from "./live.js";

const MAX_SHOWN = 200;
// The fields api/web/screens_feed.py `shown` gives for the opening items.
const PERSON = "person { id name title properties knownBy { person { id name } strength } }";
const COMPANY = "company { id name flags properties }";
const OWNED_COMPANY = "company { id name flags properties people(first: 50) { id knownBy { person { id } } } }";

const params = new URLSearchParams(location.search);
const list = document.getElementById("feed");
const empty = document.getElementById("feed-empty");
const trouble = document.getElementById("feed-problem");
const live = document.getElementById("live");
const shown = new Set();
let filters = { account: [], kind: [], owner: null };

window.relgraphFeed = { shown, state: "connecting", received: 0 };

/** GraphQL's enum names (SIGN_UP) as the words' keys (sign_up). */
function normalise(item) {
  return { ...item, type: String(item.type).toLowerCase() };
}

function card(item, fresh) {
  const kind = KINDS[item.type] || { label: item.type.replace(/_/g, " "), tone: "grey" };
  const who = item.person;
  const company = item.company;
  const li = el("li", { class: `item tone-${kind.tone}${fresh ? " fresh" : ""}`, dataset: { id: item.id, type: item.type } });
  let face;
  let title;
  if (who) {
    face = el("a", { href: personHref(who.id), class: "face", tabindex: "-1" }, avatar(who.id, who.name, who.properties));
    title = el("a", { href: personHref(who.id), class: "name" }, nameOf(who));
  } else if (company) {
    face = el("a", { href: companyHref(company.id), class: "face", tabindex: "-1" },
      avatar(company.id, company.name, company.properties, { square: true }));
    title = el("a", { href: companyHref(company.id), class: "name" }, company.name || company.id);
  } else {
    face = el("span", { class: "face" }, avatar(item.id, null, null));
    title = el("span", { class: "name" }, "Someone");
  }
  const where = [];
  if (who && company) {
    where.push(el("a", { href: companyHref(company.id), class: "company" }, company.name || company.id));
  } else if (who && item.account && accountHref(item.account)) {
    where.push(el("a", { href: accountHref(item.account), class: "company" }, item.account.replace(/^[a-z]+:/, "")));
  }
  const place = placeOf(item);
  if (place) where.push(el("span", { class: "place" }, place));
  const quote = quoteOf(item);
  const body = el("div", { class: "body" },
    el("div", { class: "who" }, title, where.length ? el("span", { class: "where" }, where) : null),
    el("div", { class: "what" }, el("span", { class: "badge" }, kind.label), " ", whatHappened(item)),
    quote ? el("p", { class: "quote" }, quote) : null);
  append(li, [face, body, timeEl(item.at)]);
  return li;
}

function show(items, { fresh = false, atTop = true } = {}) {
  const nodes = [];
  for (const item of items) {
    if (!item || shown.has(item.id)) continue;
    shown.add(item.id);
    nodes.push(card(item, fresh));
  }
  if (!nodes.length) return 0;
  if (atTop) list.prepend(...nodes);
  else list.append(...nodes);
  while (list.children.length > MAX_SHOWN) {
    const last = list.lastElementChild;
    shown.delete(last.dataset.id);
    last.remove();
  }
  sayEmpty();
  return nodes.length;
}

function sayEmpty() {
  const none = list.children.length === 0;
  empty.hidden = !none;
  if (none) {
    const narrowed = filters.account.length || filters.kind.length || filters.owner;
    empty.textContent = narrowed
      ? "No interaction matches these filters yet. New ones appear here as they are loaded."
      : "No interactions in the last week of loads. New ones appear here the moment a load or the API records them.";
  }
}

function query() {
  const out = new URLSearchParams();
  for (const name of ["account", "kind", "owner"]) {
    const value = params.get(name);
    if (value) out.set(name, value);
  }
  return out.toString();
}

function keeps(item) {
  // The subscription filters accounts and kinds itself; the owner is checked here, as the
  // server checks it for the opening items (a person they know; a company where they know someone).
  if (!filters.owner) return true;
  const knows = (person) => person && (person.knownBy || []).some((k) => k.person.id === filters.owner);
  if (item.person) return knows(item.person);
  return !!(item.company && (item.company.people || []).some(knows));
}

function subscribe() {
  const variables = { filter: {} };
  if (filters.kind.length) variables.filter.types = filters.kind.map((k) => k.toUpperCase());
  if (filters.account.length) variables.filter.companies = filters.account;
  const fields = `id type at account text properties ${PERSON} ${filters.owner ? OWNED_COMPANY : COMPANY}`;
  const subscription = new Subscription({
    query: `subscription ($filter: FeedFilter) { customerFeed(filter: $filter) { ${fields} } }`,
    variables,
    onNext: (data) => {
      const raw = data.customerFeed;
      window.relgraphFeed.received += 1;
      const item = normalise(raw);
      if (keeps(item)) show([item], { fresh: true });
    },
    onState: (state) => {
      window.relgraphFeed.state = state;
      live.dataset.state = state;
      live.textContent = { live: "live", connecting: "connecting…", reconnecting: "reconnecting…", refused: "not live" }[state] || state;
    },
    onError: (message) => problem(trouble, `Live feed: ${message}`),
    onOpen: (opens) => {
      if (opens > 0) load().catch(() => {}); // what arrived while the connection was down
    },
  });
  subscription.start();
}

async function load() {
  const data = await getJSON(`/screens/data/feed?${query()}`);
  filters = data.filters;
  data.items = data.items.map(normalise);
  // newest first from the server: added at the bottom in order on the first load, on top later
  if (list.children.length === 0) show(data.items, { atTop: false });
  else show([...data.items].reverse(), { fresh: true });
  sayEmpty();
  return data;
}

function fillFilters(data) {
  const kind = document.getElementById("f-kind");
  for (const k of data.kinds) {
    kind.append(el("option", { value: k, selected: data.filters.kind.length === 1 && data.filters.kind[0] === k },
      (KINDS[k] && KINDS[k].label) || k.replace(/_/g, " ")));
  }
  if (data.filters.kind.length > 1) {
    kind.append(el("option", { value: data.filters.kind.join(","), selected: true }, data.filters.kind.join(", ")));
  }
  const owner = document.getElementById("f-owner");
  for (const member of data.team) {
    owner.append(el("option", { value: member.id, selected: data.filters.owner === member.id }, member.name || member.id));
  }
  document.getElementById("f-account").value = data.filters.account.join(",");
  for (const select of [kind, owner]) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // an empty field leaves the query string: ?account=&kind= says nothing
  document.getElementById("filters").addEventListener("formdata", (event) => {
    for (const [name, value] of [...event.formData.entries()]) {
      if (!value) event.formData.delete(name);
    }
  });
}

// --- beside the feed ---------------------------------------------------------------------------

function healthPanel(data) {
  const box = clear(document.getElementById("health"));
  if (!data.customers) {
    box.append(el("p", { class: "empty" }, data.filtered
      ? "None of these accounts is a customer: no health to show."
      : "No customers in the graph yet. Load a CRM export with customer accounts (HubSpot, Salesforce) or orders (Shopify) to see their health here."));
    return;
  }
  const h = data.health;
  const total = Math.max(1, h.scored);
  const bar = el("div", { class: "bar-chart", role: "img", "aria-label": `${h.by_status.healthy} healthy, ${h.by_status.watch} to watch, ${h.by_status["at risk"]} at risk` });
  for (const [name, tone] of [["healthy", "green"], ["watch", "amber"], ["at risk", "red"]]) {
    const n = h.by_status[name];
    if (n) {
      const part = el("span", { class: `part tone-${tone}`, title: `${n} ${name}` });
      part.style.flexGrow = String(n / total);
      bar.append(part);
    }
  }
  append(box, [
    el("div", { class: "figures" },
      el("div", { class: "figure", title: h.churned ? `and ${h.churned} churned` : "" }, el("strong", {}, String(h.scored)), el("span", {}, h.scored === 1 ? "customer" : "customers")),
      el("div", { class: "figure" }, el("strong", {}, h.average === null ? "–" : String(Math.round(h.average))), el("span", {}, "average health")),
      el("div", { class: "figure risk" }, el("strong", {}, String(h.by_status["at risk"])), el("span", {}, "at risk"))),
    bar,
    el("ul", { class: "key" },
      el("li", {}, el("span", { class: "dot tone-green" }), `${h.by_status.healthy} healthy`),
      el("li", {}, el("span", { class: "dot tone-amber" }), `${h.by_status.watch} to watch`),
      el("li", {}, el("span", { class: "dot tone-red" }), `${h.by_status["at risk"]} at risk`)),
    h.mrr_at_risk ? el("p", { class: "note" }, `${new Intl.NumberFormat("en", { maximumFractionDigits: 0 }).format(h.mrr_at_risk)} MRR in accounts at risk`) : null,
  ]);
}

function outreachPanel(data) {
  const box = clear(document.getElementById("outreach"));
  if (!data.customers) {
    box.append(el("li", { class: "empty" }, "No customers, so no outreach list: it picks people at customer accounts who need a word today."));
    return;
  }
  if (!data.outreach.length) {
    box.append(el("li", { class: "empty" }, "Nobody needs writing to today."));
    return;
  }
  for (const r of data.outreach) {
    box.append(el("li", { class: "reach" },
      avatar(r.person.id, r.person.name, null, { size: "small" }),
      el("div", {},
        el("div", { class: "who" }, el("a", { href: personHref(r.person.id), class: "name" }, nameOf(r.person)),
          r.customer ? el("span", { class: "where" }, r.customer.href ? el("a", { href: r.customer.href, class: "company" }, r.customer.name || r.customer.id) : (r.customer.name || r.customer.id)) : null,
          el("span", { class: `pill kind-${r.kind}` }, r.kind)),
        el("p", { class: "reason" }, r.reason))));
  }
}

function riskPanel(data) {
  const box = clear(document.getElementById("at-risk"));
  if (!data.customers) {
    box.append(el("li", { class: "empty" }, "No customers in the graph: nothing can be at risk yet."));
    return;
  }
  if (!data.at_risk.length) {
    box.append(el("li", { class: "empty" }, "No account is at risk."));
    return;
  }
  for (const a of data.at_risk) {
    const name = a.href ? el("a", { href: a.href, class: "name" }, a.name) : el("span", { class: "name" }, a.name);
    box.append(el("li", { class: "risk" },
      el("span", { class: "score", title: "health 0–100" }, String(Math.round(a.score))),
      el("div", {}, name,
        el("p", { class: "reason" }, a.weakest.map((c) => `${c.name}: ${c.detail}`).join(" · ") || a.summary))));
  }
  if (data.at_risk_total > data.at_risk.length) {
    box.append(el("li", { class: "more" }, `and ${data.at_risk_total - data.at_risk.length} more`));
  }
}

async function insights() {
  try {
    const data = await getJSON(`/screens/data/insights?${query()}`);
    healthPanel(data);
    outreachPanel(data);
    riskPanel(data);
  } catch (error) {
    for (const id of ["health", "outreach", "at-risk"]) {
      const box = clear(document.getElementById(id));
      box.append(el(id === "health" ? "p" : "li", { class: "problem" }, `The analytics could not answer: ${error.message}`));
    }
  }
}

async function main() {
  keepTimesFresh();
  let data;
  try {
    data = await load();
  } catch (error) {
    problem(trouble, error.message);
    live.dataset.state = "refused";
    live.textContent = "not live";
    return;
  }
  fillFilters(data);
  subscribe();
  insights();
  setInterval(insights, 5 * 60 * 1000); // the analytics move with the hour
}

main();
