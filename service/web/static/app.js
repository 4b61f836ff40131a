"use strict";
// The status page: polls the API, shows printers and the queue, previews a job.
const api = "/api/v1";
let token = localStorage.getItem("escpos809-token") || "";
let selected = null;

async function call(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(api + path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    document.getElementById("token-form").hidden = false;
    throw new Error("this service needs its token");
  }
  return response;
}

async function json(path, options) {
  const response = await call(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function badge(status) {
  if (!status.known) return el("span", { class: "badge unknown" }, "unknown");
  if (status.ready) return el("span", { class: "badge ready" }, "ready");
  return el("span", { class: "badge problem" }, status.problems.join(", "));
}

function say(text) { document.getElementById("message").textContent = text; }

async function act(name, what) {
  try {
    const job = await json(`/printers/${encodeURIComponent(name)}/${what}`, { method: "POST" });
    say(`${what} queued on ${name}: job ${job.id}`);
    refresh();
    if (what === "test") { selected = job.id; showPreview(); }
  } catch (e) { say(e.message); }
}

function printerCard(p) {
  const status = p.status;
  const detail = status.known ? (status.warnings.join(", ") || "") : status.reason;
  return el("div", { class: "card", "data-printer": p.name },
    el("h3", {}, p.name, " ", badge(status)),
    el("div", {}, el("code", {}, p.uri)),
    el("div", { class: "muted" }, `${p.state} · queue ${p.queue} · printed ${p.printed}`),
    detail ? el("div", { class: "muted" }, detail) : "",
    el("button", { onclick: () => act(p.name, "test") }, "Test print"),
    el("button", { onclick: () => act(p.name, "beep") }, "Beep"));
}

function jobRow(j) {
  const row = el("tr", { "data-job": j.id, class: j.id === selected ? "selected" : "" },
    el("td", {}, el("code", {}, j.id)), el("td", {}, j.printer), el("td", {}, j.kind),
    el("td", { class: "state-" + j.state, title: j.last_error || "" }, j.state + (j.reprint ? " (reprint)" : "")),
    el("td", {}, new Date(j.created).toLocaleTimeString()),
    el("td", {}, el("button", { onclick: () => { selected = j.id; showPreview(); refresh(); } }, "Preview")));
  return row;
}

async function showPreview() {
  if (!selected) return;
  const img = document.getElementById("preview");
  const empty = document.getElementById("preview-empty");
  try {
    const response = await call(`/jobs/${selected}/preview.png`);
    if (!response.ok) {
      img.hidden = true;
      empty.hidden = false;
      empty.textContent = `${selected}: ${(await response.json()).detail}`;
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = url;
    img.hidden = false;
    empty.hidden = true;
    document.getElementById("preview-id").textContent = selected;
  } catch (e) { say(e.message); }
}

async function refresh() {
  try {
    const [printers, jobs] = await Promise.all([json("/printers"), json("/jobs?limit=20")]);
    document.getElementById("printers").replaceChildren(...printers.printers.map(printerCard));
    document.querySelector("#jobs tbody").replaceChildren(...jobs.jobs.map(jobRow));
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) { say(e.message); }
}

document.getElementById("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = document.getElementById("token").value;
  localStorage.setItem("escpos809-token", token);
  document.getElementById("token-form").hidden = true;
  refresh();
});

refresh();
setInterval(refresh, 2000);
