// The delivery timeline (GET /_mock/timeline), the failure queue, and the edit-and-resend dialog.
"use strict";
let budgetMs = 5000;

function ms(value) {
  if (value === null || value === undefined) return "";
  return value >= 1000 ? (value / 1000).toFixed(1) + " s" : Math.round(value) + " ms";
}

// Latency drawn against the answer budget: green, amber past 80 %, red at the budget.
function latencyBar(latency) {
  if (latency === null || latency === undefined) return "";
  const share = Math.min(latency / budgetMs, 1);
  const kind = share >= 1 ? "bar over" : share >= 0.8 ? "bar slow" : "bar";
  return el("span", {}, el("span", { class: kind, title: ms(latency) + " of " + ms(budgetMs) },
    el("span", { style: "width:" + (share * 100).toFixed(1) + "%" })), " " + ms(latency));
}

function describeFollowup(item) {
  const after = " +" + (item.after_s ?? 0).toFixed(1) + " s";
  if (item.kind === "download") {
    const what = item.complete ? "whole" : (item.error || "incomplete");
    return "PDF download " + item.status + ", " + (item.bytes ?? 0) + " bytes, " + what + (item.fault ? " (fault: " + item.fault + ")" : "") + after;
  }
  if (item.kind === "read") return item.method + " " + item.path + " → " + item.status + after;
  if (item.kind === "status-refused") return "status report refused → " + item.status + after;
  return "status report: " + (item.success ? "success" : "failure " + JSON.stringify(item.error)) + after;
}

function renderAttempts(attempts) {
  if (!attempts || !attempts.length) return el("p", { class: "empty" }, "no attempt yet");
  const table = el("table", {}, el("thead", {}, el("tr", {},
    ["#", "kind", "at", "status", "latency", "failure", "fault", "what the integration did next", "verdict"].map((h) => el("th", {}, h)))));
  const body = el("tbody");
  for (const attempt of attempts) {
    const good = !attempt.failure;
    body.append(el("tr", { class: "attempt" },
      el("td", {}, attempt.n ?? ""),
      el("td", {}, attempt.kind || ""),
      el("td", {}, when(attempt.at)),
      el("td", { class: good ? "ok" : "bad" }, attempt.status ?? "—"),
      el("td", {}, latencyBar(attempt.latency_ms)),
      el("td", { class: attempt.failure ? "bad" : "" }, attempt.failure ? attempt.failure + (attempt.error ? ": " + attempt.error : "") : ""),
      el("td", { class: attempt.fault ? "warn" : "" }, attempt.fault || ""),
      el("td", {}, attempt.followups.length
        ? el("ul", { class: "followups" }, attempt.followups.map((item) => el("li", {}, describeFollowup(item))))
        : el("span", { class: "muted" }, "nothing")),
      el("td", {}, attempt.verdict)));
  }
  table.append(body);
  return table;
}

function deliveryCard(delivery) {
  const events = (delivery.actions || []).map((action, i) => action + " " + ((delivery.resource_ids || [])[i] || ""));
  const state = delivery.state + (delivery.fault ? " (fault: " + delivery.fault + ")" : "");
  return el("div", { class: "delivery " + delivery.state, "data-id": delivery.id },
    el("div", { class: "head" },
      el("code", {}, delivery.id),
      el("span", {}, events.join(", ")),
      el("span", { class: "muted" }, "→ " + (delivery.url || "")),
      el("span", { class: "state" }, state),
      el("span", { class: "muted" }, "created " + when(delivery.created_at)),
      el("span", { class: "spacer" }),
      el("button", { class: "redeliver", onclick: () => post("/_mock/deliveries/" + encodeURIComponent(delivery.id) + "/redeliver") }, "Redeliver"),
      el("button", { class: "edit", onclick: () => openEditor(delivery) }, "Edit and resend")),
    el("p", { class: "verdict" }, delivery.verdict),
    el("details", {}, el("summary", {}, delivery.attempts.length + " attempt(s)"), renderAttempts(delivery.attempts)));
}

function renderTimeline(timeline) {
  const box = $("deliveries");
  box.replaceChildren();
  const deliveries = listOf(timeline, "deliveries");
  budgetMs = (timeline && timeline.budget_ms) || 5000;
  $("budget").textContent = ms(budgetMs);
  $("deliveries-count").textContent = "(" + deliveries.length + ")";
  if (!deliveries.length) box.append(el("p", { class: "empty" }, "no deliveries yet"));
  for (const delivery of deliveries) box.append(deliveryCard(delivery));
}

function renderFailures(failures) {
  const box = $("failures");
  box.replaceChildren();
  $("failures-count").textContent = "(" + failures.length + ")";
  if (!failures.length) { box.append(el("p", { class: "empty" }, "the failure queue is empty")); return; }
  const body = el("tbody");
  for (const delivery of failures.slice().reverse()) {
    const last = (delivery.attempts || []).slice(-1)[0] || {};
    body.append(el("tr", { "data-id": delivery.id },
      el("td", {}, el("code", {}, delivery.id)),
      el("td", {}, (delivery.actions || []).join(", ")),
      el("td", {}, (delivery.attempts || []).length),
      el("td", { class: "bad" }, last.failure ? last.failure + (last.status ? " " + last.status : "") : ""),
      el("td", {}, el("button", { class: "redeliver", onclick: () => post("/_mock/deliveries/" + encodeURIComponent(delivery.id) + "/redeliver") }, "Redeliver"))));
  }
  box.append(el("table", {}, el("thead", {}, el("tr", {}, ["delivery", "events", "attempts", "last failure", ""].map((h) => el("th", {}, h)))), body));
}

// Edit and resend: the delivery's events in a text box, sent again as a hand-made delivery.
let editing = null;
function openEditor(delivery) {
  editing = delivery;
  let events = [];
  try { events = JSON.parse(delivery.body || "{}").events || []; } catch (error) { events = []; }
  $("editor-delivery").textContent = delivery.id;
  $("editor-webhook").textContent = delivery.webhook_id;
  $("editor-body").value = JSON.stringify({ events }, null, 2);
  $("editor-error").textContent = "";
  $("editor").showModal();
}

async function sendEdited(event) {
  event.preventDefault();
  let body;
  try { body = JSON.parse($("editor-body").value); } catch (error) {
    $("editor-error").textContent = "Not JSON: " + error.message;
    return;
  }
  const answer = await post("/_mock/webhooks/" + encodeURIComponent(editing.webhook_id) + "/send", body);
  if (!answer.ok) {
    $("editor-error").textContent = (answer.data && answer.data.detail) || ("HTTP " + answer.status);
    return;
  }
  toast("sent again as delivery " + answer.data.id);
  $("editor").close();
}

function setUpEditor() {
  $("editor-send").addEventListener("click", sendEdited);
  $("editor-cancel").addEventListener("click", (event) => { event.preventDefault(); $("editor").close(); });
}
