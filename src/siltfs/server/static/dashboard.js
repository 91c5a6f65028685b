// siltfs master dashboard: plain JavaScript, no framework, no external asset.
//
// The token comes from the URL fragment (#token=...), which browsers never send to the
// server; it is kept in sessionStorage and removed from the address bar.  Every value
// from the server reaches the page as text (textContent / text nodes), never as HTML.
"use strict";

(() => {
  const API = "/api/v1";
  const REFRESH_MS = 3000;
  const TOKEN_KEY = "siltfs.dashboard.token";
  const MAX_ROWS = 1000;
  const STATES = ["PERSISTED", "TO_BE_PERSISTED", "NOT_PERSISTED", "LOST"];

  let token = null;
  let cwd = "/";
  let timer = null;
  let inflight = false;
  let lastListing = null;

  const $ = (id) => document.getElementById(id);

  // DOM helpers: children may be nodes or anything else, which becomes a text node.
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, String(value));
      else if (key === "onclick") node.addEventListener("click", value);
      else node[key] = value;
    }
    for (const child of children) {
      if (child === undefined || child === null) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function fillBody(table, rows, emptyText, columns) {
    const body = table.tBodies[0];
    if (rows.length === 0) {
      body.replaceChildren(el("tr", { class: "empty" }, el("td", { colSpan: columns }, emptyText)));
    } else {
      body.replaceChildren(...rows);
    }
  }

  // formatting -------------------------------------------------------------------------
  function bytes(n) {
    if (n === null || n === undefined) return "-";
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let value = Number(n);
    let i = 0;
    while (Math.abs(value) >= 1024 && i < units.length - 1) {
      value /= 1024;
      i += 1;
    }
    return (i === 0 ? String(value) : value.toFixed(value < 10 ? 2 : 1)) + " " + units[i];
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "-";
    const s = Math.max(0, Number(seconds));
    if (s < 1) return s.toFixed(2) + " s";
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.floor(s % 60) + " s";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
  }

  function percent(used, capacity) {
    if (!capacity) return 0;
    return Math.min(100, Math.max(0, (100 * used) / capacity));
  }

  function pctText(used, capacity) {
    const pct = percent(used, capacity);
    return (pct > 0 && pct < 0.1 ? "< 0.1" : pct.toFixed(1)) + " %";
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function when(ms) {
    return ms ? new Date(ms).toLocaleString() : "-";
  }

  function badge(text, kind) {
    return el("span", { class: "badge " + (kind || String(text).toLowerCase()) }, text);
  }

  function bar(used, capacity) {
    const fill = el("div", { class: "fill" });
    const pct = percent(used, capacity);
    fill.style.width = pct.toFixed(1) + "%"; // CSSOM: allowed by the page's CSP
    if (pct >= 90) fill.classList.add("full");
    if (pct > 0) fill.classList.add("some"); // a sliver, even for a few bytes
    return el("div", { class: "bar", title: pctText(used, capacity) }, fill);
  }

  // token ------------------------------------------------------------------------------
  function readFragment() {
    const params = new URLSearchParams(location.hash.slice(1));
    const fromUrl = params.get("token");
    if (fromUrl) {
      sessionStorage.setItem(TOKEN_KEY, fromUrl.trim());
      params.delete("token");
    }
    const path = params.get("path");
    if (path && path.startsWith("/")) cwd = path;
    setFragment();
    token = sessionStorage.getItem(TOKEN_KEY);
  }

  function setFragment() {
    const hash = cwd === "/" ? "" : "#path=" + encodeURIComponent(cwd);
    history.replaceState(null, "", location.pathname + location.search + hash);
  }

  function showLogin(message) {
    stop();
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("main").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    $("login-url").textContent = location.origin + "/dashboard#token=TOKEN";
    $("login-error").textContent = message || "";
    $("status").textContent = "";
    document.body.dataset.state = "login";
  }

  function showMain() {
    $("login").hidden = true;
    $("main").hidden = false;
    $("logout").hidden = false;
  }

  class Unauthorized extends Error {}

  async function api(route, params) {
    const query = params ? "?" + new URLSearchParams(params).toString() : "";
    const response = await fetch(API + route + query, {
      headers: { Authorization: "Bearer " + token, Accept: "application/json" },
      cache: "no-store",
    });
    if (response.status === 401) throw new Unauthorized("the token was refused");
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.message ? body.message : response.statusText;
      const error = new Error(message);
      error.status = response.status;
      error.code = body && body.code;
      throw error;
    }
    return body;
  }

  // overview ---------------------------------------------------------------------------
  function renderMeta(data) {
    $("meta").textContent = "v" + data.version + " \u00b7 up " + duration(data.uptime_s);
  }

  function renderCapacity(data) {
    const cards = data.tiers.map((t) =>
      el("div", { class: "tier", "data-tier": t.tier },
        el("div", { class: "tier-head" },
          el("strong", {}, t.tier),
          el("span", { class: "tier-numbers" },
            bytes(t.used_bytes) + " / " + bytes(t.capacity_bytes))),
        bar(t.used_bytes, t.capacity_bytes),
        el("div", { class: "muted" },
          pctText(t.used_bytes, t.capacity_bytes) + " used \u00b7 " + plural(t.blocks, "block"))));
    $("tiers").replaceChildren(...cards);
    const rows = data.workers.map((w) =>
      el("tr", { "data-worker": w.id },
        el("td", {}, w.id),
        el("td", {}, w.host),
        el("td", {}, w.address),
        el("td", {}, w.alive ? badge("alive", "ok") : badge("lost", "bad")),
        el("td", {}, duration(w.last_heartbeat_age_s) + " ago"),
        el("td", {}, ...(w.tiers || []).map((t) =>
          el("div", { class: "worker-tier" },
            el("span", { class: "tier-name" }, t.tier),
            bar(t.used_bytes, t.capacity_bytes),
            el("span", {}, bytes(t.used_bytes) + " / " + bytes(t.capacity_bytes) +
              " (" + plural(t.blocks, "block") + ")"))))));
    fillBody($("workers"), rows, "no workers", 6);
  }

  function renderMounts(data) {
    const rows = data.mounts.map((m) =>
      el("tr", { "data-mount": m.path },
        el("td", {}, pathLink(m.path, m.path)),
        el("td", { class: "mono" }, m.uri),
        el("td", {}, m.read_only ? "read-only" : "read-write"),
        el("td", {}, m.sync_interval_ms === null ? "default" : m.sync_interval_ms + " ms"),
        el("td", { class: "mono" }, m.option_keys.length ? m.option_keys.join(", ") : "-")));
    fillBody($("mounts"), rows, "no mounts", 5);
  }

  function jobWhen(j) {
    if (j.state === "PENDING") return j.next_run_in_s > 0 ? "runs in " + duration(j.next_run_in_s) : "due now";
    if (j.state === "RUNNING") return "running for " + duration(j.updated_age_s);
    return "gave up " + duration(j.updated_age_s) + " ago";
  }

  function renderQueue(data) {
    const q = data.queue;
    const chips = ["PENDING", "RUNNING", "FAILED"].map((state) =>
      el("span", { class: "chip", "data-state": state },
        badge(state), " ", el("strong", { class: "count" }, q.counts[state] || 0)));
    chips.push(el("span", { class: "chip muted" },
      "oldest pending: " + (q.oldest_pending_age_s ? duration(q.oldest_pending_age_s) : "-")));
    $("queue-counts").replaceChildren(...chips);
    const rows = q.jobs.map((j) =>
      el("tr", { class: "job " + j.state.toLowerCase(), "data-job": j.id },
        el("td", {}, j.id),
        el("td", {}, badge(j.state)),
        el("td", {}, j.path === null ? el("span", { class: "muted" }, "(deleted)") : parentLink(j.path)),
        el("td", {}, j.attempts),
        el("td", { class: "nowrap" }, duration(j.age_s)),
        el("td", { class: "nowrap" }, jobWhen(j)),
        el("td", { class: "error-text" }, j.last_error || "")));
    fillBody($("jobs"), rows, "the queue is empty: everything written is persisted", 7);
    $("jobs-note").textContent =
      q.total > q.jobs.length ? "showing " + q.jobs.length + " of " + q.total + " jobs" : "";
  }

  function renderConsistency(data) {
    const c = data.consistency;
    const summary = $("check-summary");
    if (!c) {
      summary.replaceChildren(el("span", { class: "muted" },
        "No check has run since the master started (silt fs check-consistency /, or " +
        "consistency_check_interval_s in silt.toml)."));
      $("check-kinds").replaceChildren();
      fillBody($("divergences"), [], "-", 4);
      return;
    }
    summary.replaceChildren(
      c.consistent ? badge("consistent", "ok") : badge("divergent", "bad"), " ",
      el("span", {}, (c.repair ? "check with repair of " : "check of ")),
      el("code", {}, c.path),
      el("span", {}, ": " + c.checked_entries + " entries, " + c.divergences_total +
        " divergence" + (c.divergences_total === 1 ? "" : "s") + ", finished " +
        duration(c.age_s) + " ago (" + when(c.finished_ms) + ", took " +
        duration(c.duration_s) + ")"));
    const kinds = Object.entries(c.by_kind).map(([kind, count]) =>
      el("span", { class: "chip" + (count ? " hot" : ""), "data-kind": kind },
        kind + " ", el("strong", { class: "count" }, count)));
    $("check-kinds").replaceChildren(...kinds);
    const rows = c.divergences.map((d) =>
      el("tr", { class: "divergence", "data-kind": d.kind },
        el("td", {}, badge(d.kind, "kind")),
        el("td", {}, parentLink(d.path)),
        el("td", { class: "error-text" }, d.detail),
        el("td", {}, d.repaired ? "repaired" + (d.action ? ": " + d.action : "") : (d.action || "-"))));
    fillBody($("divergences"), rows, "namespace and under storage agree", 4);
  }

  // namespace browser ------------------------------------------------------------------
  function parentOf(path) {
    if (path === "/") return "/";
    const i = path.lastIndexOf("/");
    return i <= 0 ? "/" : path.slice(0, i);
  }

  function join(dir, name) {
    return dir === "/" ? "/" + name : dir + "/" + name;
  }

  function pathLink(path, label) {
    return el("button", { type: "button", class: "link", title: "browse " + path,
      onclick: () => browse(path) }, label);
  }

  function parentLink(path) {
    // a file's path, linking to the directory that holds it
    return el("button", { type: "button", class: "link mono", title: "browse " + parentOf(path),
      onclick: () => browse(parentOf(path)) }, path);
  }

  function renderCrumbs() {
    const parts = cwd === "/" ? [] : cwd.slice(1).split("/");
    const crumbs = [pathLink("/", "/")];
    let acc = "";
    parts.forEach((part, i) => {
      acc += "/" + part;
      if (i > 0) crumbs.push(el("span", { class: "sep" }, "/"));
      crumbs.push(i === parts.length - 1 ? el("strong", {}, part) : pathLink(acc, part));
    });
    $("crumbs").replaceChildren(...crumbs);
  }

  function renderListing(entries) {
    const sorted = entries.slice().sort((a, b) =>
      (b.is_dir - a.is_dir) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const rows = [];
    if (cwd !== "/") {
      rows.push(el("tr", { class: "up" },
        el("td", {}, pathLink(parentOf(cwd), "..")), el("td", { colSpan: 5 })));
    }
    for (const e of sorted.slice(0, MAX_ROWS)) {
      const state = STATES.includes(e.persistence_state) ? e.persistence_state : "UNKNOWN";
      const name = e.is_dir
        ? el("button", { type: "button", class: "link dir", onclick: () => browse(join(cwd, e.name)) },
            e.name + "/")
        : el("span", { class: "file" }, e.name);
      rows.push(el("tr", { class: "entry " + (e.is_dir ? "dir" : "file"), "data-state": state },
        el("td", { class: "name" }, name, e.mount_point ? el("span", { class: "tag" }, "mount") : null),
        el("td", { class: "num" }, e.is_dir ? "-" : bytes(e.length)),
        el("td", {}, badge(state, "state " + state.toLowerCase())),
        el("td", { class: "num" }, e.is_dir ? "-" : e.cached_percent + " %"),
        el("td", {}, e.pinned ? badge("pinned", "pin") : ""),
        el("td", { class: "nowrap" }, when(e.mtime * 1000))));
    }
    fillBody($("listing"), rows, "empty directory", 6);
    $("listing-note").textContent = sorted.length > MAX_ROWS
      ? "showing " + MAX_ROWS + " of " + sorted.length + " entries" : "";
  }

  async function loadListing() {
    try {
      const entries = await api("/ls", { path: cwd });
      $("listing-error").hidden = true;
      const key = JSON.stringify(entries);
      if (key !== lastListing) {  // re-render only on change: rows stay clickable
        lastListing = key;
        renderListing(entries);
      }
    } catch (err) {
      if (err instanceof Unauthorized) throw err;
      lastListing = null;
      $("listing-error").textContent = cwd + ": " + err.message;
      $("listing-error").hidden = false;
      fillBody($("listing"), cwd === "/" ? [] : [el("tr", { class: "up" },
        el("td", {}, pathLink(parentOf(cwd), "..")), el("td", { colSpan: 5 }))], "-", 6);
    }
  }

  async function browse(path) {
    cwd = path;
    lastListing = null;
    setFragment();
    renderCrumbs();
    try {
      await loadListing();
    } catch (err) {
      if (err instanceof Unauthorized) showLogin("The master refused the token.");
    }
  }

  // refresh loop -----------------------------------------------------------------------
  async function refresh() {
    if (inflight || !token) return;
    inflight = true;
    try {
      const [data] = await Promise.all([api("/overview"), loadListing()]);
      renderMeta(data);
      renderCapacity(data);
      renderMounts(data);
      renderQueue(data);
      renderConsistency(data);
      $("error").hidden = true;
      $("status").textContent = "updated " + new Date().toLocaleTimeString();
      document.body.dataset.state = "ready";
    } catch (err) {
      if (err instanceof Unauthorized) {
        showLogin("The master refused the token (a master makes its token on first start; " +
          "check you copied the current one).");
      } else {
        $("error").textContent = "Cannot reach the master: " + err.message +
          " (retrying every " + REFRESH_MS / 1000 + " s)";
        $("error").hidden = false;
        $("status").textContent = "stale";
      }
    } finally {
      inflight = false;
    }
  }

  function start() {
    stop();
    showMain();
    renderCrumbs();
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("token-input").value.trim();
      if (!value) return;
      sessionStorage.setItem(TOKEN_KEY, value);
      token = value;
      $("token-input").value = "";
      $("login-error").textContent = "";
      start();
    });
    $("logout").addEventListener("click", () => showLogin(""));
    window.addEventListener("hashchange", () => {
      readFragment();
      if (token) start();
    });
    readFragment();
    if (token) start();
    else showLogin("");
  });
})();
