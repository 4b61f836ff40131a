"use strict";
// The receipt designer: edit a document (and its template data), see the service's preview as
// you type (the same renderer as the paper), see problems at their JSON paths, print.
const api = "/api/v1";
const DEBOUNCE_MS = 350;
let token = localStorage.getItem("escpos809-token") || ""; // the status page's key: one token for both
let timer = null;
let inFlight = null; // the preview request under way (aborted when a newer one starts)
let seq = 0;
const $ = (id) => document.getElementById(id);

async function call(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers["Authorization"] = "Bearer " + token;
  const response = await fetch(api + path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    $("token-form").hidden = false;
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

function say(text) { $("message").textContent = text; }

// --- where a JSON path is in the editor's text ------------------------------------------------
// A small JSON reader that records the span of every value by its JSON pointer ("/blocks/2/text"),
// so a problem the service names by path can be shown at its line and selected.
function spans(text) {
  const found = new Map();
  let i = 0;
  const ws = () => { while (i < text.length && " \t\r\n".includes(text[i])) i++; };
  const string = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (path) => {
    ws();
    const start = i;
    if (text[i] === "{") {
      i++; ws();
      while (i < text.length && text[i] !== "}") {
        ws();
        const key = string();
        ws(); i++; // the colon
        value(path + "/" + key.replace(/~/g, "~0").replace(/\//g, "~1"));
        ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (text[i] === "[") {
      i++; ws();
      let n = 0;
      while (i < text.length && text[i] !== "]") {
        value(path + "/" + n++);
        ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (text[i] === '"') {
      string();
    } else {
      while (i < text.length && !",]} \t\r\n".includes(text[i])) i++;
    }
    found.set(path, [start, i]);
  };
  try { value(""); } catch (e) { /* only called on text JSON.parse took */ }
  return found;
}

function lineOf(text, offset) { return text.slice(0, offset).split("\n").length; }

// --- problems ---------------------------------------------------------------------------------
function editorFor(path) {
  if (path === "/document" || path.startsWith("/document/")) return [$("document"), path.slice("/document".length)];
  if (path === "/data" || path.startsWith("/data/")) return [$("data"), path.slice("/data".length)];
  return [null, path];
}

function showProblems(problems) {
  const list = $("errors");
  $("document").classList.remove("invalid");
  $("data").classList.remove("invalid");
  $("problem-count").textContent = problems.length ? `(${problems.length})` : "";
  if (!problems.length) {
    list.replaceChildren(Object.assign(document.createElement("li"), { className: "muted", textContent: "none" }));
    return;
  }
  list.replaceChildren(...problems.map(({ path, message, editor, span }) => {
    const li = document.createElement("li");
    li.dataset.path = path;
    const code = document.createElement("code");
    code.textContent = path || "(whole request)";
    const where = document.createElement("span");
    where.className = "where";
    if (editor) {
      editor.classList.add("invalid");
      where.textContent = `${editor.id}` + (span ? `, line ${lineOf(editor.value, span[0])}` : "") + ": ";
    }
    li.append(code, where, document.createTextNode(message));
    if (editor && span) {
      li.addEventListener("click", () => {
        editor.focus();
        editor.setSelectionRange(span[0], span[1]);
        const line = lineOf(editor.value, span[0]);
        editor.scrollTop = Math.max(0, (line - 4) * parseFloat(getComputedStyle(editor).lineHeight));
      });
    }
    return li;
  }));
}

function located(path, message) {
  const [editor, inner] = editorFor(path);
  if (!editor) return { path, message, editor: null, span: null };
  const all = spans(editor.value);
  // the deepest part of the path the text has (an unknown field's path names its parent)
  let probe = inner;
  while (!all.has(probe) && probe) probe = probe.slice(0, probe.lastIndexOf("/"));
  return { path, message, editor, span: all.get(probe) || null };
}

function syntaxProblem(editor, name, error) {
  // Chromium: "… in JSON at position 42 (line 3 column 5)"; others: a position or nothing
  const at = /position (\d+)/.exec(error.message);
  const offset = at ? Number(at[1]) : null;
  return {
    path: "/" + name, message: "not JSON: " + error.message, editor,
    span: offset === null ? null : [offset, Math.min(offset + 1, editor.value.length)],
  };
}

// --- the request both the preview and the print send ------------------------------------------
function submission() {
  const problems = [];
  let doc = null, data;
  try { doc = JSON.parse($("document").value); } catch (e) { problems.push(syntaxProblem($("document"), "document", e)); }
  const dataText = $("data").value.trim();
  if (dataText) {
    try { data = JSON.parse(dataText); } catch (e) { problems.push(syntaxProblem($("data"), "data", e)); }
  }
  if (problems.length) return { problems };
  const body = { type: "receipt", document: doc };
  if (data !== undefined) body.data = data;
  return { body: JSON.stringify(body), problems };
}

async function problemsOf(response) {
  const body = await response.json().catch(() => ({}));
  const errors = body.errors && body.errors.length ? body.errors : [{ path: "", message: body.detail || response.statusText }];
  return errors.map((e) => located(e.path, e.message));
}

async function preview() {
  const mine = ++seq;
  const { body, problems } = submission();
  const img = $("preview");
  if (!body) { showProblems(problems); img.classList.add("stale"); $("preview-state").textContent = "(not JSON)"; return; }
  if (inFlight) inFlight.abort();
  inFlight = new AbortController();
  $("preview-state").textContent = "(updating…)";
  try {
    const response = await call("/preview", {
      method: "POST", body, signal: inFlight.signal, headers: { "Content-Type": "application/json" },
    });
    if (mine !== seq) return; // a newer edit has its own request
    if (!response.ok) {
      showProblems(await problemsOf(response));
      img.classList.add("stale");
      $("preview-state").textContent = "(last good preview)";
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    if (mine !== seq) { URL.revokeObjectURL(url); return; }
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = url;
    img.hidden = false;
    img.classList.remove("stale");
    showProblems([]);
    $("preview-state").textContent = "";
    document.body.dataset.previews = String(Number(document.body.dataset.previews || 0) + 1);
  } catch (e) {
    if (e.name !== "AbortError") say(e.message);
  }
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(preview, DEBOUNCE_MS);
}

// --- printing ---------------------------------------------------------------------------------
async function print() {
  const printer = $("printer").value;
  const { body, problems } = submission();
  if (!body) { showProblems(problems); say("fix the problems first"); return; }
  if (!printer) { say("no printer to print to"); return; }
  try {
    const response = await call(`/printers/${encodeURIComponent(printer)}/jobs`, {
      method: "POST", body, headers: { "Content-Type": "application/json" },
    });
    if (!response.ok) { showProblems(await problemsOf(response)); say("not printed: see the problems"); return; }
    const job = await response.json();
    say(`job ${job.id} queued on ${printer}`);
    for (let i = 0; i < 240; i++) { // up to two minutes: a printer out of paper holds it longer
      const now = await json(`/jobs/${job.id}`);
      if (["done", "failed", "cancelled", "held"].includes(now.state)) {
        const how = now.state === "done" ? "printed" : now.state + (now.last_error ? ` (${now.last_error})` : "");
        say(`job ${job.id} ${how} on ${printer}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    say(`job ${job.id} still waiting on ${printer}: see the status page`);
  } catch (e) { say(e.message); }
}

// --- start ------------------------------------------------------------------------------------
async function loadExample(name) {
  const example = await json(`/examples/${encodeURIComponent(name)}`);
  $("document").value = JSON.stringify(example.document, null, 2);
  $("data").value = example.data === undefined ? "" : JSON.stringify(example.data, null, 2);
  preview();
}

async function start() {
  try {
    const [examples, printers] = await Promise.all([json("/examples"), json("/printers")]);
    $("example").replaceChildren(...examples.examples.map((e) =>
      Object.assign(document.createElement("option"), { value: e.name, textContent: e.title + (e.template ? " (template)" : "") })));
    $("printer").replaceChildren(...printers.printers.map((p) =>
      Object.assign(document.createElement("option"), {
        value: p.name, textContent: `${p.name} (${p.status.known ? (p.status.ready ? "ready" : "not ready") : "unknown"})`,
      })));
    const first = examples.examples.find((e) => e.template) || examples.examples[0];
    if (first) { $("example").value = first.name; await loadExample(first.name); }
    document.body.dataset.ready = "1";
  } catch (e) { say(e.message); }
}

$("document").addEventListener("input", schedule);
$("data").addEventListener("input", schedule);
$("example").addEventListener("change", (event) => loadExample(event.target.value).catch((e) => say(e.message)));
$("print").addEventListener("click", print);
$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value;
  localStorage.setItem("escpos809-token", token);
  $("token-form").hidden = true;
  say("");
  start();
});
start();
