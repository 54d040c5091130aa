// A person's or a company's screen: the card, and the neighbourhood drawn with Cytoscape.js
// (/static/vendor/cytoscape.min.js, built from npm), warm introduction paths highlighted.
// The drawn graph is `window.relgraphGraph` (the Cytoscape instance) once laid out.

import {
  append, avatar, clear, companyHref, el, getJSON, keepTimesFresh, nameOf, personHref, problem,
  timeEl,
} from "./common.js";

const id = document.body.dataset.id;
const isCompany = location.pathname.startsWith("/companies/");
const cardBox = document.getElementById("card");
const graphBox = document.getElementById("graph");
const graphProblem = document.getElementById("graph-problem");

const TRIGGER_WORDS = {
  funding_round: "Funding round", leadership_change: "Leadership change", acquisition: "Acquisition",
  hiring_surge: "Hiring surge", ipo: "IPO", expansion: "Expansion", product_launch: "Product launch",
  layoffs: "Layoffs", partnership: "Partnership",
};

function section(title, ...children) {
  return el("section", { class: "block" }, el("h2", {}, title), ...children);
}

function none(text) {
  return el("p", { class: "empty" }, text);
}

function year(iso) {
  return iso ? String(new Date(iso).getUTCFullYear()) : null;
}

function span(job) {
  const from = year(job.since);
  const to = job.until ? year(job.until) : "now";
  return from ? `${from} – ${to}` : (job.until ? `until ${to}` : "");
}

function jobList(jobs) {
  return el("ul", { class: "jobs" }, jobs.map((j) => el("li", {},
    el("span", { class: "title" }, j.title || "—"), " at ",
    el("a", { href: companyHref(j.company.id), class: "company" }, j.company.name || j.company.id),
    span(j) ? el("span", { class: "dates" }, span(j)) : null)));
}

function strength(value) {
  if (value === null || value === undefined) return el("span", { class: "strength unknown", title: "strength not known" }, "");
  const meter = el("span", { class: "strength", title: `strength ${value.toFixed(2)}` });
  const fill = el("span", { class: "fill" });
  fill.style.width = `${Math.round(Math.max(0.05, Math.min(1, value)) * 100)}%`;
  meter.append(fill);
  return meter;
}

function personLink(p) {
  return el("a", { href: personHref(p.id), class: "name" }, nameOf(p));
}

function pathList(paths) {
  return el("ol", { class: "paths" }, paths.map((path) => el("li", {},
    el("span", { class: "chain" }, path.people.flatMap((p, i) => [
      i ? el("span", { class: "arrow", "aria-hidden": "true" }, "→") : null,
      personLink(p)])),
    el("span", { class: "meta" }, `${path.hops} ${path.hops === 1 ? "hop" : "hops"} · strength ${path.strength.toFixed(2)}`))));
}

function personCard(data) {
  const p = data.person;
  const now = data.jobs_now[0];
  const head = el("header", { class: "head" },
    avatar(p.id, p.name, p.properties, { size: "large" }),
    el("div", {},
      el("h1", {}, nameOf(p)),
      el("p", { class: "sub" }, p.title || (now && now.title) || "", now ? [" at ", el("a", { href: companyHref(now.company.id) }, now.company.name || now.company.id)] : null),
      el("p", { class: "facts" },
        p.place ? el("span", { class: "place" }, p.place) : null,
        p.email ? el("span", {}, p.email) : null,
        p.linkedin ? el("a", { href: p.linkedin, rel: "noopener noreferrer", target: "_blank" }, "LinkedIn") : null,
        p.team ? el("span", { class: "pill team" }, "our team") : null,
        el("span", {}, `${data.connections} ${data.connections === 1 ? "connection" : "connections"}`))));
  const known = data.known_by.length
    ? el("ul", { class: "known" }, data.known_by.map((k) => el("li", {}, personLink(k), k.title ? el("span", { class: "dim" }, k.title) : null, strength(k.strength))))
    : none(p.team ? "They are on our team." : "Nobody on our team knows them directly.");
  const paths = data.paths.length ? pathList(data.paths) : none(p.team ? "They are on our team." : "No introduction path of up to three hops from our team.");
  const read = data.read.length
    ? el("ul", { class: "topics" }, data.read.map((t) => el("li", {}, el("span", { class: "topic" }, t.name),
      el("span", { class: "dim" }, `${t.reads} ${t.reads === 1 ? "read" : "reads"} of ${t.contents} ${t.contents === 1 ? "item" : "items"}, last `), timeEl(t.last_at))))
    : none("Nothing read that the graph knows of.");
  const concerns = data.concerns.length
    ? el("ul", { class: "concerns" }, data.concerns.map((c) => el("li", { class: c.open ? "open" : "closed" },
      el("p", { class: "text" }, c.text.split(/\n+/).slice(0, 2).join(" — ")),
      el("p", { class: "dim" }, el("span", { class: `pill ${c.open ? "open" : "closed"}` }, c.open ? "open" : "closed"), " ", c.channel || "", " · ", timeEl(c.at)))))
    : none("No concerns raised.");
  append(clear(cardBox), [head,
    section("Who on our team knows them", known),
    section("Warm introductions", paths),
    section("Jobs now", data.jobs_now.length ? jobList(data.jobs_now) : none("No current job known.")),
    data.jobs_before.length ? section("Before", jobList(data.jobs_before)) : null,
    section("What they read", read),
    section("Concerns", concerns)]);
}

function companyCard(data) {
  const c = data.company;
  const head = el("header", { class: "head" },
    avatar(c.id, c.name, null, { square: true, size: "large" }),
    el("div", {},
      el("h1", {}, c.name || c.id),
      el("p", { class: "sub" }, [c.industry, c.size ? `${c.size.toLocaleString("en")} people` : null, c.country].filter(Boolean).join(" · ")),
      el("p", { class: "facts" },
        c.website ? el("a", { href: c.website, rel: "noopener noreferrer", target: "_blank" }, c.domain || c.website) : (c.domain ? el("span", {}, c.domain) : null),
        c.flags.map((f) => el("span", { class: `pill flag-${f}` }, f)))));
  const known = data.people_now.filter((p) => p.known_by.length || p.team);
  const people = data.people_now.length
    ? el("ul", { class: "people" }, [...known, ...data.people_now.filter((p) => !p.known_by.length && !p.team)].map((p) => el("li", {},
      avatar(p.id, p.name, null, { size: "small" }),
      el("div", {}, personLink(p), p.title ? el("span", { class: "dim" }, p.title) : null,
        p.team ? el("span", { class: "pill team" }, "our team") : null,
        p.known_by.length ? el("p", { class: "via" }, "known by ", p.known_by.flatMap((k, i) => [i ? ", " : null, personLink(k)])) : null))))
    : none("Nobody known to work there now.");
  const triggers = data.triggers.length
    ? el("ul", { class: "triggers" }, data.triggers.map((t) => el("li", {},
      el("span", { class: "pill tone-violet" }, TRIGGER_WORDS[t.type] || t.type), " ", t.headline || "", " ", timeEl(t.at))))
    : none("No buying triggers recorded.");
  const health = el("div", { id: "accounts" }, data.customers.length ? el("p", { class: "loading" }, "Computing…") : none("Not a customer: no account health."));
  append(clear(cardBox), [head,
    data.customers.length ? section("Account health", health) : null,
    section(`People we know there (${known.length} of ${data.people_total})`, people),
    section("Triggers", triggers),
    data.people_before.length ? section("Worked there before", el("ul", { class: "people compact" }, data.people_before.map((p) => el("li", {}, personLink(p), p.title ? el("span", { class: "dim" }, p.title) : null)))) : null]);
  if (data.customers.length) accounts(c.id, health, data.customers);
}

async function accounts(company, box, customers) {
  try {
    const data = await getJSON(`/screens/data/accounts?company=${encodeURIComponent(company)}`);
    const plans = Object.fromEntries(customers.map((c) => [c.id, c]));
    clear(box);
    if (!data.accounts.length) box.append(none("The analytics have no card for its accounts yet."));
    for (const a of data.accounts) {
      const info = plans[a.id] || {};
      const h = a.health;
      const tone = !h ? "grey" : h.status === "healthy" ? "green" : h.status === "watch" ? "amber" : "red";
      box.append(el("div", { class: "account" },
        el("div", { class: `gauge tone-${tone}` }, el("strong", {}, h ? String(Math.round(h.score)) : "–"), el("span", {}, h ? h.status : "not scored")),
        el("div", {},
          el("p", { class: "name" }, a.name || a.id, info.plan ? el("span", { class: "dim" }, ` · ${info.plan}`) : null,
            info.mrr ? el("span", { class: "dim" }, ` · ${info.mrr.toLocaleString("en")} MRR`) : null),
          h ? el("p", { class: "reason" }, h.summary) : null,
          a.churn ? el("p", { class: "reason" }, `churn risk ${Math.round(a.churn.probability * 100)}%`, a.churn.factors.length ? `: ${a.churn.factors.join("; ")}` : "") : null,
          a.anomalies.map((text) => el("p", { class: "anomaly" }, text)))));
    }
  } catch (error) {
    clear(box).append(el("p", { class: "problem" }, `The analytics could not answer: ${error.message}`));
  }
}

// --- the graph ---------------------------------------------------------------------------------

const COLOURS = { focus: "#f5c451", team: "#4fd1a5", person: "#7aa2ff", company: "#b58cff" };

function draw(graph) {
  if (typeof window.cytoscape !== "function") {
    problem(graphProblem, "The graph library is missing: run scripts/build-assets (it copies Cytoscape.js from npm into api/web/static/vendor/).");
    return;
  }
  const cy = window.cytoscape({
    container: graphBox,
    elements: graph,
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      { selector: "node", style: {
        "background-color": (n) => COLOURS[n.data("kind")] || COLOURS.person,
        label: "data(label)", color: "#e8ecf6", "font-size": 13, "font-family": "Inter, system-ui, sans-serif",
        "text-valign": "bottom", "text-margin-y": 6, "text-outline-color": "#0b1020", "text-outline-width": 3,
        width: 26, height: 26, "border-width": 2, "border-color": "#0b1020" } },
      { selector: "node[kind = 'company']", style: { shape: "round-rectangle", width: 30, height: 24 } },
      { selector: "node[kind = 'focus']", style: { width: 46, height: 46, "font-size": 16, "font-weight": 700, "border-color": "#fff3c4", "border-width": 3 } },
      { selector: "node[kind = 'team']", style: { shape: "diamond", width: 30, height: 30 } },
      { selector: "edge", style: {
        width: (e) => 1.5 + 3 * (e.data("strength") || 0.3), "line-color": "#3a4670", "curve-style": "bezier", opacity: 0.85 } },
      { selector: "edge[kind = 'worked_at']", style: { "line-style": "dashed", "line-color": "#5a4a80" } },
      { selector: "edge[kind = 'works_at']", style: { "line-color": "#6f58b0" } },
      { selector: "edge[?warm]", style: { "line-color": "#f5a524", width: 5, opacity: 1, "z-index": 10 } },
      { selector: "node:selected", style: { "border-color": "#ffffff", "border-width": 4 } },
    ],
    layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000, idealEdgeLength: 90, padding: 30 },
  });
  // a small neighbourhood fitted to the panel would be drawn huge: not beyond life size
  if (cy.zoom() > 1.25) {
    cy.zoom(1.25);
    cy.center();
  }
  cy.on("tap", "node", (event) => {
    const href = event.target.data("href");
    if (href && event.target.data("kind") !== "focus") location.assign(href);
  });
  cy.on("mouseover", "node", () => { graphBox.style.cursor = "pointer"; });
  cy.on("mouseout", "node", () => { graphBox.style.cursor = ""; });
  window.relgraphGraph = cy;
  document.body.dataset.graph = "drawn";
}

async function main() {
  keepTimesFresh(30000);
  let data;
  try {
    data = await getJSON(`/screens/data/${isCompany ? "companies" : "people"}/${encodeURIComponent(id)}`);
  } catch (error) {
    clear(cardBox).append(el("p", { class: "problem" }, error.message));
    return;
  }
  if (isCompany) companyCard(data);
  else personCard(data);
  draw(data.graph);
}

main();
