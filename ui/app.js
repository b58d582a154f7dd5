/* Smelt's web UI: a small single-page client of the /api/v1 HTTP API, in plain
   JavaScript (no framework, nothing fetched from elsewhere).  Every value from the
   server reaches the page as text (textContent), never as HTML.  The token is asked
   once and kept in sessionStorage (or localStorage when "remember" is ticked); it
   travels only in the Authorization header, also for the live log, which is read
   with fetch() and a small Server-Sent Events parser rather than EventSource
   (EventSource cannot send headers, and a token in a URL ends up in logs). */
"use strict";

const API = "/api/v1";
const KEY = "smelt.token";
const PAGE = 50;
let timer = null;        /* the current view's refresh timer */
let streamAbort = null;  /* aborts the current view's live log */
let gen = 0;             /* bumped by each route(): a view's late timers and loads see they are stale */

/* ---- small helpers ---- */

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function token() { return sessionStorage.getItem(KEY) || localStorage.getItem(KEY); }
function forget() { sessionStorage.removeItem(KEY); localStorage.removeItem(KEY); }

class AuthError extends Error {}

async function api(path, opts) {
  const t = token();
  if (!t) throw new AuthError("no token");
  const init = Object.assign({ headers: {} }, opts || {});
  init.headers.Authorization = "Bearer " + t;
  if (init.body !== undefined) init.headers["Content-Type"] = "application/json";
  const res = await fetch(API + path, init);
  if (res.status === 401) throw new AuthError("the server refused the token");
  const type = res.headers.get("Content-Type") || "";
  const body = type.includes("json") ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const msg = body && typeof body === "object" ? (body.error || body.message || JSON.stringify(body)) : body;
    throw new Error(`${res.status} ${res.statusText}${msg ? ": " + msg : ""}`);
  }
  return body;
}

const enc = encodeURIComponent;

function statusClass(s) {
  s = String(s || "").toLowerCase();
  if (["success", "succeeded", "ok", "passed", "pass", "complete", "completed"].includes(s)) return "ok";
  if (["failed", "fail", "failure", "error", "errored"].includes(s)) return "bad";
  if (["running", "started", "queued", "pending", "cancelling"].includes(s)) return "run";
  return "";
}
function badge(s) { return h("span", { class: "badge " + statusClass(s), "data-status": s || "" }, s || "unknown"); }
function isLive(s) { return statusClass(s) === "run"; }

function num(n) { return n === null || n === undefined || n === "" ? "" : Number(n).toLocaleString("en-US"); }

function duration(sec) {
  if (sec === null || sec === undefined || isNaN(sec)) return "";
  sec = Number(sec);
  if (sec < 1) return Math.round(sec * 1000) + " ms";
  if (sec < 60) return sec.toFixed(sec < 10 ? 2 : 1) + " s";
  const m = Math.floor(sec / 60), s = Math.round(sec % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric",
                                       hour: "2-digit", minute: "2-digit", second: "2-digit" });
}
function timeEl(iso) { return iso ? h("time", { datetime: iso, title: iso }, when(iso)) : ""; }

/* A run's (or a block's) duration in seconds, from whichever fields the server gave. */
function secondsOf(o) {
  if (o.duration_s !== undefined) return o.duration_s;
  if (o.duration !== undefined) return o.duration;
  if (o.duration_ms !== undefined) return o.duration_ms / 1000;
  const a = Date.parse(o.started_at), b = o.ended_at ? Date.parse(o.ended_at) : NaN;
  return !isNaN(a) && !isNaN(b) ? (b - a) / 1000 : null;
}

/* Rows per stream as [[stream, rows], ...], from a map or a list. */
function streamsOf(o) {
  const s = o.streams || o.rows_per_stream || (o.rows && typeof o.rows === "object" ? o.rows : null);
  if (!s) return [];
  if (Array.isArray(s)) return s.map(x => [x.stream || x.name, x.rows !== undefined ? x.rows : x.records]);
  return Object.entries(s).map(([k, v]) => [k, typeof v === "object" && v ? (v.rows !== undefined ? v.rows : v.records) : v]);
}

function rowsOf(o) {
  if (typeof o.rows === "number") return o.rows;
  if (typeof o.records === "number") return o.records;
  if (typeof o.rows_total === "number") return o.rows_total;
  let total = null;
  for (const b of [o, ...(o.blocks || [])])
    for (const [, n] of streamsOf(b)) if (typeof n === "number") total = (total || 0) + n;
  return total;
}

function table(cls, head, rows, empty) {
  if (!rows.length) return h("p", { class: "muted" }, empty || "Nothing yet.");
  return h("div", { class: "table-wrap" }, h("table", { class: cls },
    h("thead", {}, h("tr", {}, head.map(c => typeof c === "string" ? h("th", { scope: "col" }, c)
                                                                        : h("th", Object.assign({ scope: "col" }, c[1]), c[0])))),
    h("tbody", {}, rows)));
}

function say(text) { document.getElementById("status-line").textContent = text; }

function problem(view, err) {
  if (err instanceof AuthError) { showLogin(err.message === "no token" ? "" : "The server refused the token."); return; }
  view.append(h("p", { class: "error", role: "alert" }, String(err.message || err)));
}

/* ---- views ---- */

async function viewRuns(view, query) {
  const f = { status: query.get("status") || "", job: query.get("job") || "", since: query.get("since") || "",
              offset: Number(query.get("offset") || 0) };
  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter runs" },
    h("div", {}, h("label", { for: "f-status" }, "Status"),
      h("select", { id: "f-status", name: "status" },
        ["", "running", "success", "failed", "cancelled"].map(s =>
          h("option", { value: s, selected: s === f.status }, s || "any")))),
    h("div", {}, h("label", { for: "f-job" }, "Job"), h("input", { id: "f-job", name: "job", value: f.job, size: 14 })),
    h("div", {}, h("label", { for: "f-since" }, "Since"),
      h("input", { id: "f-since", name: "since", type: "date", value: f.since })),
    h("div", {}, h("button", { type: "submit" }, "Filter")));
  form.addEventListener("submit", ev => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const k of ["status", "job", "since"]) if (form.elements[k].value) q.set(k, form.elements[k].value);
    location.hash = "#/runs" + (q.toString() ? "?" + q : "");
  });
  const holder = h("div", { id: "runs" });
  view.append(h("h1", {}, "Runs"), form, holder);
  const my = gen;

  const load = async () => {
    const q = new URLSearchParams({ limit: PAGE, offset: f.offset });
    if (f.status) q.set("status", f.status);
    if (f.job) q.set("job", f.job);
    if (f.since) q.set("since", f.since);
    const data = await api("/runs?" + q);
    if (my !== gen) return;
    const runs = data.runs || [];
    const rows = runs.map(r => {
      const id = r.run_id || r.id;
      return h("tr", { "data-run-id": id },
        h("td", {}, badge(r.status)),
        h("td", {}, h("a", { href: "#/runs/" + enc(id), class: "mono" }, String(id).slice(0, 8)),
          h("span", { class: "sub" }, r.job ? "job " + r.job : (r.args || []).join(" "))),
        h("td", { class: "wide" }, timeEl(r.started_at)),
        h("td", { class: "num" }, duration(secondsOf(r))),
        h("td", { class: "num", "data-rows": rowsOf(r) === null ? "" : rowsOf(r) }, num(rowsOf(r))));
    });
    holder.replaceChildren(
      table("runs", ["Status", "Run", ["Started", { class: "wide" }], ["Duration", { class: "num" }], ["Rows", { class: "num" }]],
            rows, f.status || f.job || f.since ? "No run matches these filters." : "No runs yet. Start one with smelt run, or from Jobs."),
      pager(data.total || 0, f.offset, runs.length, off => {
        const q = new URLSearchParams(query); q.set("offset", off); location.hash = "#/runs?" + q;
      }));
    say(`${data.total || 0} runs`);
    /* new runs appear on their own: often while one goes, now and then otherwise (not in a hidden tab) */
    const again = () => (document.hidden ? (timer = setTimeout(again, 3000)) : load().catch(e => problem(holder, e)));
    timer = setTimeout(again, runs.some(r => isLive(r.status)) ? 3000 : 15000);
  };
  await load();
}

function pager(total, offset, shown, go) {
  if (total <= PAGE && offset === 0) return h("p", { class: "muted" }, `${total} run${total === 1 ? "" : "s"}`);
  return h("div", { class: "pager" },
    h("button", { type: "button", class: "secondary", disabled: offset === 0, onclick: () => go(Math.max(0, offset - PAGE)) }, "Newer"),
    h("span", {}, `${offset + 1}–${offset + shown} of ${total}`),
    h("button", { type: "button", class: "secondary", disabled: offset + shown >= total, onclick: () => go(offset + PAGE) }, "Older"));
}

function blockCard(b) {
  const name = b.block || b.name || [b.extractor, b.loader].filter(Boolean).join(" → ") || "block";
  const parts = [h("h3", {}, h("span", { class: "mono" }, name), badge(b.status),
                   h("span", { class: "muted" }, duration(secondsOf(b))))];
  const facts = [];
  if (b.state_id) facts.push(["State id", h("a", { href: "#/state/" + enc(b.state_id), class: "mono" }, b.state_id)]);
  if (b.exit_code !== undefined && b.exit_code !== null) facts.push(["Exit code", String(b.exit_code)]);
  if (b.error) facts.push(["Error", b.error]);
  if (facts.length) parts.push(h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
  const streams = streamsOf(b);
  if (streams.length)
    parts.push(h("h4", { class: "sr-only" }, "Rows per stream"),
      table("streams", ["Stream", ["Rows", { class: "num" }]],
            streams.map(([s, n]) => h("tr", { "data-stream": s }, h("td", { class: "mono" }, s),
                                      h("td", { class: "num", "data-rows": n }, num(n))))));
  /* results: one entry per item an adapter reported (a dbt model or test, an expectation, ...) */
  const results = (Array.isArray(b.results) ? b.results : []).map(r => typeof r === "object" && r ? r : { item: String(r) });
  const itemOf = r => r.item || r.name || r.unique_id || "";
  const models = results.filter(r => /^(model|seed|snapshot)\./.test(itemOf(r)));
  const checks = results.filter(r => !models.includes(r));
  if (models.length)
    parts.push(h("h4", {}, "dbt models"),
      table("models", ["Model", "Status", ["Time", { class: "num" }], ["Rows", { class: "num wide" }]],
            models.map(m => h("tr", { "data-item": itemOf(m) }, h("td", { class: "mono" }, itemOf(m).replace(/^model\./, "")),
                              h("td", {}, badge(m.status)),
                              h("td", { class: "num" }, duration(m.seconds ?? secondsOf(m))),
                              h("td", { class: "num wide" }, m.count >= 0 ? num(m.count) : "")))));
  if (checks.length)
    parts.push(h("h4", {}, b.kind === "el" ? "Results" : "Tests and quality checks"),
      table("checks", ["Check", "Result", "Details"],
            checks.map(c => h("tr", { "data-item": itemOf(c) }, h("td", { class: "mono" }, itemOf(c)),
                              h("td", {}, badge(c.status || (c.success === true ? "pass" : c.success === false ? "fail" : ""))),
                              h("td", {}, c.message || (c.count > 0 ? `${num(c.count)} unexpected` : ""))))));
  if (b.summary) parts.push(h("p", { class: "muted" }, b.summary));
  return h("section", { class: "card block", "aria-label": "Block " + name }, parts);
}

async function viewRun(view, id) {
  const head = h("div", {});
  const blocks = h("div", { id: "blocks" });
  const log = h("pre", { class: "log", id: "log", tabindex: "0", "aria-label": "Run log" });
  const logState = h("span", { class: "muted", id: "log-state" });
  view.append(h("p", {}, h("a", { href: "#/runs" }, "← All runs")), head,
              h("h2", {}, "Blocks"), blocks,
              h("h2", {}, "Log ", logState), log);
  let streaming = false;
  const my = gen;

  const load = async () => {
    const r = await api("/runs/" + enc(id));
    if (my !== gen) return;
    const facts = [["Status", badge(r.status)], ["Started", timeEl(r.started_at)], ["Ended", timeEl(r.ended_at)],
                   ["Duration", duration(secondsOf(r))], ["Rows", num(rowsOf(r))]];
    if (r.job) facts.push(["Job", r.job]);
    else if (r.args && r.args.length) facts.push(["Arguments", h("span", { class: "mono" }, r.args.join(" "))]);
    if (r.state_id) facts.push(["State id", h("a", { href: "#/state/" + enc(r.state_id), class: "mono" }, r.state_id)]);
    if (r.trigger || r.source) facts.push(["Started by", r.trigger || r.source]);
    if (r.exit_code !== undefined && r.exit_code !== null) facts.push(["Exit code", String(r.exit_code)]);
    if (r.error) facts.push(["Error", h("span", { class: "error" }, r.error)]);
    const actions = h("div", { class: "row-actions" });
    if (isLive(r.status))
      actions.append(h("button", { type: "button", class: "secondary", onclick: async ev => {
        ev.target.disabled = true;
        try { await api("/runs/" + enc(id) + "/cancel", { method: "POST", body: "{}" }); say("Cancel requested"); }
        catch (e) { problem(head, e); }
      } }, "Cancel run"));
    head.replaceChildren(h("h1", {}, "Run ", h("span", { class: "mono", id: "run-id" }, r.run_id || id)),
                         h("dl", { class: "facts", id: "run-facts" }, facts.filter(([, v]) => v !== "" && v !== null).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
                         actions);
    const bl = r.blocks || [];
    blocks.replaceChildren(...(bl.length ? bl.map(blockCard) : [h("p", { class: "muted" }, "No block has started yet.")]));
    if (isLive(r.status)) {
      if (!streaming) { streaming = true; followLog(id, log, logState).catch(e => problem(view, e)); }
      timer = setTimeout(() => load().catch(e => problem(view, e)), 2000);
    } else if (!streaming) {
      const text = await api("/runs/" + enc(id) + "/log").catch(e => (e instanceof AuthError ? Promise.reject(e) : ""));
      log.textContent = typeof text === "string" ? text : (text && (text.log || text.lines && text.lines.join("\n"))) || "";
      logState.textContent = log.textContent ? "" : "(empty)";
    }
  };
  await load();
}

/* Follows the run's log as Server-Sent Events over fetch(), appending each data line. */
async function followLog(id, pre, stateEl) {
  streamAbort = new AbortController();
  const res = await fetch(API + "/runs/" + enc(id) + "/log/stream", {
    headers: { Authorization: "Bearer " + token(), Accept: "text/event-stream" }, signal: streamAbort.signal });
  if (res.status === 401) throw new AuthError("the server refused the token");
  if (!res.ok || !res.body) { stateEl.textContent = `(live log unavailable: ${res.status})`; return; }
  stateEl.textContent = "(live)";
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = "", data = [], event = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        if (line === "") {           /* end of one event */
          if (data.length && event !== "end") {
            const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
            pre.append(data.join("\n") + "\n");
            if (stick) pre.scrollTop = pre.scrollHeight;
          }
          if (event === "end") { reader.cancel(); buf = ""; break; }
          data = []; event = "";
        } else if (line.startsWith("data:")) data.push(line.slice(line[5] === " " ? 6 : 5));
        else if (line.startsWith("event:")) event = line.slice(6).trim();
      }
    }
  } catch (e) {
    if (e.name !== "AbortError") throw e;
  }
  stateEl.textContent = "(ended)";
}

async function viewJobs(view) {
  const [jobs, sched] = await Promise.all([api("/jobs"), api("/schedules")]);
  const jl = (Array.isArray(jobs) ? jobs : jobs.jobs || []).map(j => Object.assign({ name: j.job_name || j.name }, j));
  /* schedules come as a list, or grouped by kind ({"job": [...], "elt": [...]}) as `smelt schedule list` gives them */
  let sl = Array.isArray(sched) ? sched : sched.schedules || [];
  if (!Array.isArray(sl)) sl = Object.values(sl).flat();
  const jobName = j => (j && typeof j === "object" ? j.name || j.job_name : j);
  const runJob = name => async ev => {
    ev.target.disabled = true;
    try {
      const r = await api("/runs", { method: "POST", body: JSON.stringify({ job: name }) });
      location.hash = "#/runs/" + enc(r.run_id);
    } catch (e) { ev.target.disabled = false; problem(view, e); }
  };
  view.append(h("h1", {}, "Jobs"),
    table("jobs", ["Job", "Tasks", ""], jl.map(j => h("tr", { "data-job": j.name },
      h("td", { class: "mono" }, j.name),
      h("td", { class: "mono" }, (j.tasks || []).map(t => Array.isArray(t) ? t.join(" ") : String(t)).join(" · ")),
      h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": "Run job " + j.name, onclick: runJob(j.name) },
                    "Run now")))), "No jobs in this project."),
    h("h2", {}, "Schedules"),
    table("schedules", ["Schedule", "Runs", ["Interval", { class: "wide" }], "Next run"], sl.map(s => h("tr", { "data-schedule": s.name },
      h("td", { class: "mono" }, s.name),
      h("td", { class: "mono" }, s.job ? "job " + jobName(s.job) : [s.extractor, s.loader].filter(Boolean).join(" → ")),
      h("td", { class: "mono wide" }, s.interval || s.cron_interval || ""),
      h("td", { "data-next": s.next_run_at || s.next_run || "" },
        s.next_run_at || s.next_run ? timeEl(s.next_run_at || s.next_run) : h("span", { class: "muted" }, "—")))),
      "No schedules in this project."));
}

async function viewPlugins(view) {
  const data = await api("/plugins");
  const list = Array.isArray(data) ? data : data.plugins || [];
  view.append(h("h1", {}, "Plugins"),
    table("plugins", ["Plugin", "Type", ["Variant", { class: "wide" }], "Adapter"], list.map(p => h("tr", { "data-plugin": p.name },
      h("td", {}, h("a", { href: "#/plugins/" + enc(p.name), class: "mono" }, p.name)),
      h("td", {}, p.type || p.plugin_type || ""),
      h("td", { class: "wide" }, p.variant || ""),
      h("td", {}, p.adapter || ""))), "No plugins in this project."));
}

async function viewPlugin(view, name) {
  const p = await api("/plugins/" + enc(name));
  let settings = p.settings || [];
  if (!Array.isArray(settings)) settings = Object.entries(settings).map(([k, v]) => (v && typeof v === "object" ? Object.assign({ name: k }, v) : { name: k, value: v }));
  const show = v => v === null || v === undefined ? h("span", { class: "muted" }, "unset")
                                                  : typeof v === "string" ? v : JSON.stringify(v);
  view.append(h("p", {}, h("a", { href: "#/plugins" }, "← All plugins")),
    h("h1", {}, h("span", { class: "mono" }, p.name || name)),
    h("dl", { class: "facts" }, [["Type", p.type || p.plugin_type], ["Variant", p.variant], ["Adapter", p.adapter],
                                 ["Install", p.pip_url || p.executable]].filter(x => x[1]).map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, v)])),
    h("h2", {}, "Settings"),
    h("p", { class: "muted" }, "Secret values are redacted by the server."),
    table("settings", ["Setting", "Value", ["Source", { class: "wide" }]], settings.map(s => h("tr", { "data-setting": s.name },
      h("td", { class: "mono" }, s.name, s.kind || s.sensitive ? h("span", { class: "sub" }, [s.kind, s.sensitive ? "secret" : ""].filter(Boolean).join(", ")) : ""),
      h("td", { class: "mono" }, show(s.value)),
      h("td", { class: "wide" }, s.source || ""))), "This plugin has no settings."));
}

async function viewState(view) {
  const data = await api("/state");
  const list = (Array.isArray(data) ? data : data.states || data.state_ids || []).map(s => typeof s === "string" ? { state_id: s } : s);
  view.append(h("h1", {}, "State"),
    table("states", ["State id", ["Updated", { class: "wide" }]], list.map(s => h("tr", {},
      h("td", {}, h("a", { href: "#/state/" + enc(s.state_id || s.id), class: "mono" }, s.state_id || s.id)),
      h("td", { class: "wide" }, timeEl(s.updated_at)))), "No state saved yet."));
}

async function viewStateId(view, id) {
  const s = await api("/state/" + enc(id));
  view.append(h("p", {}, h("a", { href: "#/state" }, "← All state")),
    h("h1", {}, "State ", h("span", { class: "mono" }, id)),
    h("pre", { class: "json", tabindex: "0", "aria-label": "State of " + id }, JSON.stringify(s, null, 2)));
}

/* ---- shell ---- */

function showLogin(message) {
  document.getElementById("view").hidden = true;
  document.getElementById("signout").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("login-error").textContent = message || "";
  document.getElementById("token").focus();
}

async function route() {
  clearTimeout(timer); timer = null; gen++;
  if (streamAbort) { streamAbort.abort(); streamAbort = null; }
  if (!token()) { showLogin(""); return; }
  const view = document.getElementById("view");
  document.getElementById("login").hidden = true;
  document.getElementById("signout").hidden = false;
  view.hidden = false;
  view.replaceChildren();
  const raw = location.hash.replace(/^#\/?/, "") || "runs";
  const [path, qs] = raw.split("?");
  const parts = path.split("/").map(decodeURIComponent);
  const query = new URLSearchParams(qs || "");
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === parts[0]) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const titles = { runs: "Runs", jobs: "Jobs", plugins: "Plugins", state: "State" };
  document.title = (parts[1] ? parts[1] + " · " : "") + (titles[parts[0]] || "Smelt") + " · Smelt";
  view.setAttribute("aria-busy", "true");
  try {
    if (parts[0] === "runs" && parts[1]) await viewRun(view, parts[1]);
    else if (parts[0] === "jobs") await viewJobs(view);
    else if (parts[0] === "plugins" && parts[1]) await viewPlugin(view, parts[1]);
    else if (parts[0] === "plugins") await viewPlugins(view);
    else if (parts[0] === "state" && parts[1]) await viewStateId(view, parts.slice(1).join("/"));
    else if (parts[0] === "state") await viewState(view);
    else await viewRuns(view, query);
  } catch (e) {
    problem(view, e);
  } finally {
    view.removeAttribute("aria-busy");
    view.dataset.loaded = location.hash || "#/runs";
  }
}

async function projectName() {
  try {
    const p = await api("/project");
    const name = p.name || p.project_name || "";
    const env = p.environment || p.default_environment || "";
    document.getElementById("project-name").textContent = name + (env ? ` (${env})` : "");
  } catch (e) { /* the header stays empty; the view reports the problem */ }
}

document.getElementById("login-form").addEventListener("submit", async ev => {
  ev.preventDefault();
  const value = document.getElementById("token").value.trim();
  const store = document.getElementById("remember").checked ? localStorage : sessionStorage;
  forget();
  store.setItem(KEY, value);
  try {
    await api("/project");
  } catch (e) {
    forget();
    document.getElementById("login-error").textContent =
      e instanceof AuthError ? "The server refused this token." : String(e.message || e);
    return;
  }
  document.getElementById("token").value = "";
  projectName();
  route();
});
document.getElementById("signout").addEventListener("click", () => { forget(); route(); });
window.addEventListener("hashchange", route);
if (token()) projectName();
route();
