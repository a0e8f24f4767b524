// The support page's script: reads the control API, posts the buttons, follows /_mock/stream live.
// The delivery timeline and the edit-and-resend dialog are in ui_timeline.js.
"use strict";
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function when(epoch) {
  if (epoch === null || epoch === undefined || epoch === "") return "";
  if (typeof epoch === "string") return epoch;
  return new Date(epoch * 1000).toISOString().replace(".000Z", "Z");
}

function pretty(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function toast(text, bad) {
  const box = $("toast");
  box.textContent = text;
  box.style.background = bad ? "#b3261e" : "#1d2430";
  box.style.display = "block";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.style.display = "none"; }, 5000);
}

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(path + ": HTTP " + response.status);
  return response.json();
}

function listOf(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const key of keys) if (data && Array.isArray(data[key])) return data[key];
  return [];
}

// POST a control call; a problem document's detail is shown; the stream brings the new state.
async function post(path, body) {
  const options = { method: "POST", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try { data = JSON.parse(text); } catch (error) { data = text; }
  if (!response.ok) toast(path + " → " + response.status + "\n" + (data && data.detail ? data.detail : text), true);
  else toast(path + " → " + response.status);
  if (!live.connected) await refresh();
  return { ok: response.ok, status: response.status, data };
}

function emptyRow(body, columns, text) {
  body.append(el("tr", {}, el("td", { colspan: columns, class: "empty" }, text)));
}

function renderReports(reports) {
  if (!reports || !reports.length) return el("span", { class: "muted" }, "none");
  return el("ul", { class: "reports" }, reports.map((report) => el("li", { class: report.success ? "ok" : "bad" },
    (report.success ? "success" : "failure: " + (report.error || "")) + " ", el("span", { class: "muted" }, when(report.at)))));
}

function renderDocuments(documents, total) {
  const body = $("documents");
  body.replaceChildren();
  $("documents-count").textContent = "(" + (total > documents.length ? "newest " + documents.length + " of " + total : documents.length) + ")";
  if (!documents.length) emptyRow(body, 9, "no documents");
  for (const doc of documents) {
    const patient = doc.patient || {};
    const sync = doc.synchronized
      ? el("span", { class: "ok" }, "synchronized " + when(doc.synchronizedAt))
      : el("span", { class: doc.state === "verified" ? "warn" : "muted" }, "not synchronized");
    body.append(el("tr", { "data-uuid": doc.uuid },
      el("td", {}, el("code", {}, doc.uuid)),
      el("td", {}, doc.type || "", el("br"), el("span", { class: "muted" }, doc.title || "")),
      el("td", {}, [patient.firstName, patient.lastName].filter(Boolean).join(" "),
        patient.externalId ? el("span", { class: "muted" }, " (" + patient.externalId + ")") : null),
      el("td", { class: "doc-state" }, doc.state || ""),
      el("td", { class: "doc-sync" }, sync),
      el("td", { class: doc.lastError ? "bad last-error" : "last-error" }, doc.lastError || ""),
      el("td", { class: "doc-reports" }, renderReports(doc.status_reports)),
      el("td", {}, when(doc.last_sync_request)),
      el("td", {},
        el("button", { class: "validate", onclick: () => post("/_mock/documents/" + doc.uuid + "/validate"), disabled: doc.state === "verified" ? "" : null }, "Validate"),
        " ",
        el("button", { class: "synchronize", onclick: () => post("/_mock/documents/" + doc.uuid + "/synchronize") }, "Synchronize"))));
  }
}

function renderWebhooks(webhooks) {
  const body = $("webhooks");
  body.replaceChildren();
  $("webhooks-count").textContent = "(" + webhooks.length + ")";
  if (!webhooks.length) emptyRow(body, 5, "no webhooks registered");
  for (const hook of webhooks) {
    const warnings = hook.warnings || [];
    body.append(el("tr", {},
      el("td", {}, el("code", {}, hook.uuid)),
      el("td", { class: warnings.length ? "warn" : "" }, (warnings.length ? "⚠ " : "") + (hook.url || "")),
      el("td", {}, (hook.events || []).join(", ")),
      el("td", { class: hook.active ? "ok" : "muted" }, String(hook.active)),
      el("td", { class: "warn" }, warnings.join("\n"))));
  }
}

function renderAssumptions(assumptions) {
  const body = $("assumptions");
  body.replaceChildren();
  $("assumptions-count").textContent = "(" + assumptions.length + ")";
  if (!assumptions.length) emptyRow(body, 4, "no answer has rested on an assumption yet");
  for (const item of assumptions) {
    const first = item.first || {};
    body.append(el("tr", {},
      el("td", {}, el("code", {}, item.id), el("br"), el("span", { class: "muted" }, item.text + " (" + item.leniency + ")")),
      el("td", {}, item.count),
      el("td", {}, "#" + first.journal_id + " " + first.method + " " + first.path, el("br"), el("span", { class: "muted" }, when(first.at))),
      el("td", {}, item.verify)));
  }
}

function renderStatusReports(reports) {
  const body = $("status-reports");
  body.replaceChildren();
  $("status-reports-count").textContent = "(" + reports.length + ")";
  if (!reports.length) emptyRow(body, 6, "no status reports yet");
  for (const report of reports.slice().reverse()) {
    body.append(el("tr", {},
      el("td", {}, when(report.at)),
      el("td", {}, el("code", {}, report.document_uuid || "")),
      el("td", { class: report.success ? "ok" : "bad" }, String(report.success)),
      el("td", {}, report.error || ""),
      el("td", {}, [report.directory, report.path].filter(Boolean).join(" ")),
      el("td", {}, report.client_id || "")));
  }
}

function renderEvents(events) {
  const body = $("events");
  body.replaceChildren();
  $("events-count").textContent = "(" + events.length + ")";
  if (!events.length) emptyRow(body, 4, "no events yet");
  for (const event of events.slice(-50).reverse()) {
    const payload = event.payload || {};
    body.append(el("tr", {},
      el("td", {}, when(event.at)),
      el("td", {}, payload.action || ""),
      el("td", {}, (payload.resource_type || "") + " ", el("code", {}, payload.id || "")),
      el("td", {}, el("code", {}, event.event_id || ""))));
  }
}

let refreshing = null;
async function refresh() {
  if (refreshing) { refresh.again = true; return refreshing; }
  refreshing = (async () => {
    try {
      const [clock, timeline, failures, reports, events, webhooks, assumptions] = await Promise.all([
        getJSON("/_mock/clock"), getJSON("/_mock/timeline"), getJSON("/_mock/failures"),
        getJSON("/_mock/status-reports"), getJSON("/_mock/events"), getJSON("/_mock/webhooks"),
        getJSON("/_mock/assumptions"),
      ]);
      if (clock) $("clock").textContent = "clock (" + clock.mode + "): " + when(clock.now) + (clock.pending_timers ? ", " + clock.pending_timers + " timer(s) pending" : "");
      renderDocuments(listOf(timeline, "documents"), timeline ? timeline.documents_total : 0);
      renderTimeline(timeline);
      renderFailures(listOf(failures, "items"));
      renderStatusReports(listOf(reports, "items"));
      renderEvents(listOf(events, "items"));
      renderWebhooks(listOf(webhooks, "items"));
      renderAssumptions(listOf(assumptions, "items"));
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (error) {
      toast(String(error), true);
    }
  })();
  await refreshing;
  refreshing = null;
  if (refresh.again) { refresh.again = false; await refresh(); }
}

// Live updates: /_mock/stream says "change" whenever the mock's state moves; reload, debounced.
const live = { connected: false, timer: null };
function follow() {
  const source = new EventSource("/_mock/stream");
  const badge = $("live");
  source.addEventListener("hello", () => {
    live.connected = true;
    badge.textContent = "live"; badge.className = "live on";
    refresh();
  });
  source.addEventListener("change", () => {
    clearTimeout(live.timer);
    live.timer = setTimeout(refresh, 150);
  });
  source.onerror = () => {
    live.connected = false;
    badge.textContent = "reconnecting…"; badge.className = "live off";
  };
}

function start() {
  $("refresh").addEventListener("click", refresh);
  $("advance").addEventListener("click", () => post("/_mock/clock/advance", { seconds: Number($("advance-seconds").value || 0) }));
  $("new-document").addEventListener("click", () => post("/_mock/documents", {}));
  $("new-note").addEventListener("click", () => post("/_mock/notes", {}));
  setUpEditor();
  refresh();
  follow();
}
window.addEventListener("DOMContentLoaded", start);
