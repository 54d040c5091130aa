// What every screen shares: building the DOM from data (text only: a name is never markup),
// the words for an interaction, "2 min ago", avatars, and JSON from the screens' routes.

/** An element with attributes and children; strings become text nodes, never HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

/** A person without a name: their e-mail, else their key without its source ("usr_42 (segment)"). */
export function nameOf(person) {
  if (person.name) return person.name;
  const match = /^([a-z0-9_]+):(.+)$/.exec(person.id);
  return match ? `${match[2]} (${match[1]})` : person.id;
}

export function personHref(id) {
  return `/people/${encodeURIComponent(id)}`;
}

export function companyHref(id) {
  return `/companies/${encodeURIComponent(id)}`;
}

/** The screen of a customer account: `company:x` a company's, `person:x` a person's. */
export function accountHref(id) {
  if (!id) return null;
  if (id.startsWith("company:")) return companyHref(id.slice(8));
  if (id.startsWith("person:")) return personHref(id.slice(7));
  return null;
}

/** JSON from one of the screens' routes; a refusal throws an Error with the server's words. */
export async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) {
    location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new Error("signed out");
  }
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.errors && body.errors[0] ? body.errors[0].message : response.statusText;
    const error = new Error(message || `HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// --- people ----------------------------------------------------------------------------------

const PICTURE_KEYS = ["picture", "photo", "photo_url", "avatar", "avatar_url", "image", "image_url"];

export function pictureOf(properties) {
  for (const key of PICTURE_KEYS) {
    const value = properties && properties[key];
    if (typeof value === "string" && /^https?:\/\//i.test(value.trim())) return value.trim();
  }
  return null;
}

export function initials(name, fallback) {
  const words = (text) => String(text || "").replace(/[._@-]+/g, " ").split(/\s+/)
    .filter((w) => /^[\p{L}\p{N}]/u.test(w));
  let found = words(name);
  if (!found.length) found = words(String(fallback || "").split("@")[0].replace(/^[a-z]+:/, ""));
  if (!found.length) return "?";
  const first = Array.from(found[0])[0];
  const last = found.length > 1 ? Array.from(found[found.length - 1])[0] : "";
  return (first + last).toUpperCase();
}

function hue(text) {
  let h = 0;
  for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

/** A round avatar: the picture when there is one (initials if it fails to load), else initials. */
export function avatar(key, name, properties, { square = false, size = "" } = {}) {
  const box = el("span", { class: `avatar ${square ? "square" : ""} ${size}`.trim(), "aria-hidden": "true" });
  box.style.setProperty("--hue", String(hue(key || name || "?")));
  const letters = initials(name, key);
  const picture = pictureOf(properties);
  if (picture) {
    const img = el("img", { src: picture, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
    img.addEventListener("error", () => box.replaceChildren(letters));
    box.append(img);
  } else {
    box.append(letters);
  }
  return box;
}

// --- time ------------------------------------------------------------------------------------

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "just now", "2 min ago", "3 h ago", "yesterday", "5 days ago", else the date. */
export function ago(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const seconds = Math.round((now - then) / 1000);
  if (seconds < -60) { // a source's clock ahead of ours: said as it is, not hidden
    const ahead = Math.round(-seconds / 60);
    return ahead < 60 ? `in ${ahead} min` : ahead < 1440 ? `in ${Math.round(ahead / 60)} h` : ahead < 2160 ? "tomorrow" : `in ${Math.round(ahead / 1440)} days`;
  }
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return "yesterday";
  if (days < 30) return `${days} days ago`;
  const d = new Date(then);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

export function timeEl(iso) {
  const t = el("time", { datetime: iso, title: new Date(iso).toUTCString() }, ago(iso));
  t.dataset.ago = "1";
  return t;
}

/** Keeps every <time data-ago> on the page saying how long ago, as time passes. */
export function keepTimesFresh(every = 15000) {
  setInterval(() => {
    const now = Date.now();
    for (const t of document.querySelectorAll("time[data-ago]")) {
      const text = ago(t.getAttribute("datetime"), now);
      if (t.textContent !== text) t.textContent = text;
    }
  }, every);
}

// --- words -----------------------------------------------------------------------------------

export const KINDS = {
  sign_up: { label: "Sign-up", tone: "green" },
  trial_started: { label: "Trial", tone: "green" },
  first_login: { label: "First login", tone: "blue" },
  setup_completed: { label: "Setup done", tone: "teal" },
  feature_used: { label: "Key feature", tone: "teal" },
  pricing_viewed: { label: "Pricing", tone: "amber" },
  data_exported: { label: "Export", tone: "orange" },
  purchase: { label: "Purchase", tone: "gold" },
  subscription_cancelled: { label: "Cancelled", tone: "red" },
  concern_raised: { label: "Concern", tone: "red" },
  concern_solved: { label: "Solved", tone: "green" },
  newsletter_click: { label: "Newsletter", tone: "violet" },
  trigger: { label: "Trigger", tone: "violet" },
};

const TRIGGERS = {
  funding_round: "raised a funding round",
  leadership_change: "has new leadership",
  acquisition: "made an acquisition",
  hiring_surge: "is hiring fast",
  ipo: "went public",
  expansion: "is expanding",
  product_launch: "launched a product",
  layoffs: "announced layoffs",
  partnership: "announced a partnership",
};

const CHANNELS = { ticket: "opened a ticket", email: "wrote to support", chat: "raised a concern in chat",
  call: "raised a concern on a call", survey: "raised a concern in a survey",
  social: "raised a concern on social media", meeting: "raised a concern in a meeting" };

function money(amount, currency) {
  const value = Number(amount);
  if (!Number.isFinite(value)) return null;
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency: currency || "USD", maximumFractionDigits: value % 1 ? 2 : 0 }).format(value);
  } catch (_) {
    return `${value} ${currency || ""}`.trim();
  }
}

function plural(n, one, many) {
  return `${Number(n).toLocaleString("en")} ${Number(n) === 1 ? one : many}`;
}

/** What happened, in words (the person or company is said before it). */
export function whatHappened(item) {
  const p = item.properties || {};
  switch (item.type) {
    case "sign_up":
      return p.plan ? `signed up for the ${p.plan} plan` : "signed up";
    case "trial_started":
      return p.plan ? `started a ${p.plan} trial` : "started a trial";
    case "first_login":
      return "logged in for the first time";
    case "setup_completed":
      return p.steps ? `completed setup (${plural(p.steps, "step", "steps")})` : "completed setup";
    case "feature_used":
      return p.feature ? `used ${featureWords(p.feature)} for the first time` : "used a key feature for the first time";
    case "newsletter_click":
      return p.campaign ? `clicked a link in ${p.campaign}` : "clicked a link in the newsletter";
    case "pricing_viewed":
      return "looked at the pricing page";
    case "data_exported": {
      const rows = p.rows ?? p.count ?? p.records;
      return rows ? `exported ${plural(rows, "row", "rows")}` : "exported data";
    }
    case "purchase": {
      const paid = money(p.amount ?? p.total ?? p.revenue, p.currency);
      return paid ? `bought for ${paid}` : "made a purchase";
    }
    case "subscription_cancelled":
      return "cancelled the subscription";
    case "concern_raised":
      return CHANNELS[p.channel] || "raised a concern";
    case "concern_solved":
      return "had a ticket solved";
    case "trigger": {
      const words = TRIGGERS[p.trigger_type] || String(p.trigger_type || "had a buying trigger").replace(/_/g, " ");
      const amount = p.amount ? money(p.amount, p.currency) : null;
      return amount ? `${words}: ${amount}${p.round ? ` (round ${p.round})` : ""}` : words;
    }
    default:
      return String(item.type || "did something").replace(/_/g, " ");
  }
}

/** A concern's subject or first line, a trigger's headline: what to quote under the line. */
export function quoteOf(item) {
  const p = item.properties || {};
  if (item.type === "concern_raised") {
    const text = String(item.text || "").trim();
    const subject = p.subject ? String(p.subject).trim() : "";
    const body = text.startsWith(subject) ? text.slice(subject.length).trim() : text;
    const first = body.split(/\n+/)[0] || "";
    return subject ? (first ? `${subject}: ${first}` : subject) : first;
  }
  if (item.type === "trigger") return String(item.text || p.details || "").trim();
  if (item.type === "concern_solved") return p.subject ? String(p.subject).trim() : "";
  if (item.type === "newsletter_click") return p.url ? linkText(p.url) : "";
  return "";
}

/** A feature's name as words: report_created -> "report created". */
function featureWords(name) {
  return String(name).replace(/[_-]+/g, " ").trim();
}

/** A URL as a reader recognises it: host and path, without the scheme and "www.". */
function linkText(url) {
  try {
    const u = new URL(url);
    return `${u.host.replace(/^www\./, "")}${u.pathname === "/" ? "" : u.pathname}`;
  } catch (_) {
    return String(url);
  }
}

/** Where: the person's location, else their company's country. */
export function placeOf(item) {
  const location = item.person && item.person.properties ? item.person.properties.location : null;
  if (typeof location === "string" && location.trim()) return location.trim();
  const country = item.company && item.company.properties ? item.company.properties.country : null;
  return typeof country === "string" && country.trim() ? country.trim() : null;
}

export function problem(node, message) {
  node.textContent = message;
  node.hidden = !message;
}
