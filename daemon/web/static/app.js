// Cairn's dashboard. Every request goes to this daemon's own API with the
// session cookie. Memory text is only ever put on the page with
// textContent, never parsed as HTML.
"use strict";

const $ = (sel) => document.querySelector(sel);
const UNDO_MS = 5000; // a delete waits this long for Undo before it is sent

const state = { q: "", tag: "", cursor: "" };

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  if (resp.status === 401) {
    location.assign("/"); // the session ended: / now says how to get in
    throw new Error("signed out");
  }
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.error || resp.statusText);
  return data;
}

function notice(msg) { $("#notice").textContent = msg; }

function duration(s) {
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min`;
  return `${s} s`;
}

async function loadStatus() {
  const st = await api("GET", "/v1/status");
  $("#st-version").textContent = st.version;
  $("#st-pid").textContent = String(st.pid);
  $("#st-uptime").textContent = duration(st.uptime_s);
  $("#st-datadir").textContent = st.data_dir;
  $("#st-supervisor").textContent = st.supervisor || "unknown";
  $("#st-count").textContent = st.memories >= 0 ? String(st.memories) : "store not open";
  const stats = await api("GET", "/v1/stats").catch(() => null);
  if (stats) $("#st-dbsize").textContent = bytes(stats.db_bytes + stats.wal_bytes);
}

// bytes reads 1536 as "1.5 KiB".
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(n) : n.toFixed(1)) + " " + units[i];
}

async function loadTags() {
  const { tags } = await api("GET", "/v1/tags");
  const nav = $("#tags");
  nav.replaceChildren();
  for (const t of tags) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "chip";
    b.dataset.tag = t.tag;
    b.textContent = `#${t.tag} (${t.count})`;
    b.setAttribute("aria-pressed", String(state.tag === t.tag));
    b.addEventListener("click", () => {
      state.tag = state.tag === t.tag ? "" : t.tag;
      loadTags();
      loadList(false);
    });
    nav.append(b);
  }
}

// highlight appends text to el with each occurrence of a query word in a
// <mark>, building text nodes only.
function highlight(el, text, q) {
  const words = q.toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter((w) => w.length > 0);
  el.replaceChildren();
  if (words.length === 0) { el.textContent = text; return; }
  const lower = text.toLowerCase();
  let i = 0;
  while (i < text.length) {
    let at = -1, len = 0;
    for (const w of words) {
      const j = lower.indexOf(w, i);
      if (j >= 0 && (at < 0 || j < at || (j === at && w.length > len))) { at = j; len = w.length; }
    }
    if (at < 0) break;
    if (at > i) el.append(document.createTextNode(text.slice(i, at)));
    const m = document.createElement("mark");
    m.textContent = text.slice(at, at + len);
    el.append(m);
    i = at + len;
  }
  if (i < text.length) el.append(document.createTextNode(text.slice(i)));
}

function render(m) {
  const li = $("#item").content.firstElementChild.cloneNode(true);
  li.dataset.id = m.id;
  highlight(li.querySelector(".text"), m.text, state.q);
  li.querySelector(".when").textContent = new Date(m.created_at).toLocaleString();
  const chips = li.querySelector(".chips");
  for (const t of m.tags) {
    const s = document.createElement("span");
    s.className = "tag";
    s.textContent = "#" + t;
    chips.append(s);
  }
  const label = m.text.length > 40 ? m.text.slice(0, 40) + "…" : m.text;
  li.querySelector(".edit").setAttribute("aria-label", "Edit: " + label);
  li.querySelector(".delete").setAttribute("aria-label", "Delete: " + label);
  li.querySelector(".edit").addEventListener("click", () => openEditor(li, m));
  li.querySelector(".delete").addEventListener("click", () => startDelete(li, m));
  return li;
}

function openEditor(li, m) {
  const form = li.querySelector(".editor");
  form.hidden = false;
  form.querySelector(".e-text").value = m.text;
  form.querySelector(".e-tags").value = m.tags.join(" ");
  form.querySelector(".e-text").focus();
  form.querySelector(".cancel").onclick = () => { form.hidden = true; li.querySelector(".edit").focus(); };
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const text = form.querySelector(".e-text").value;
    const tags = form.querySelector(".e-tags").value.split(/[\s,]+/).filter(Boolean);
    const patch = {
      add_tags: tags.filter((t) => !m.tags.includes(t)),
      remove_tags: m.tags.filter((t) => !tags.includes(t)),
    };
    if (text !== m.text) patch.text = text;
    try {
      const updated = await api("PATCH", "/v1/memories/" + encodeURIComponent(m.id), patch);
      const fresh = render(updated);
      li.replaceWith(fresh);
      fresh.querySelector(".edit").focus();
      notice("Saved.");
      loadTags();
    } catch (e) {
      notice("Not saved: " + e.message);
    }
  };
}

// startDelete hides nothing yet: the memory is marked, and the DELETE is
// sent only when Undo has not been pressed within UNDO_MS. Closing the
// page before then keeps the memory.
function startDelete(li, m) {
  li.classList.add("deleting");
  const pending = li.querySelector(".pending");
  pending.hidden = false;
  const undo = pending.querySelector(".undo");
  undo.focus();
  const timer = setTimeout(async () => {
    try {
      await api("DELETE", "/v1/memories/" + encodeURIComponent(m.id));
      li.remove();
      notice("Deleted.");
      loadStatus();
      loadTags();
    } catch (e) {
      li.classList.remove("deleting");
      pending.hidden = true;
      notice("Not deleted: " + e.message);
    }
  }, UNDO_MS);
  undo.onclick = () => {
    clearTimeout(timer);
    li.classList.remove("deleting");
    pending.hidden = true;
    li.querySelector(".delete").focus();
    notice("Kept.");
  };
}

async function loadList(more) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  if (state.tag) p.append("tag", state.tag);
  p.set("limit", "20");
  if (more && state.cursor) p.set("cursor", state.cursor);
  const ol = $("#results");
  try {
    const page = await api("GET", "/v1/memories?" + p.toString());
    if (!more) ol.replaceChildren();
    for (const m of page.memories) ol.append(render(m));
    state.cursor = page.next_cursor || "";
    $("#more").hidden = !state.cursor;
    const what = state.q ? `Results for “${state.q}”` : "Recent memories";
    $("#list-title").textContent = state.tag ? `${what} tagged #${state.tag}` : what;
    notice(ol.children.length === 0 ? (state.q ? "Nothing matches." : "No memories yet.") : "");
  } catch (e) {
    notice("Could not load memories: " + e.message);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("#search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.q = $("#q").value.trim();
    loadList(false);
  });
  $("#more").addEventListener("click", () => loadList(true));
  $("#import-file").addEventListener("change", (ev) => importFile(ev.target));
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement;
    if (ev.key === "/" && !typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      $("#q").focus();
    }
  });
  loadStatus().catch((e) => notice("Could not load status: " + e.message));
  loadTags().catch(() => {});
  loadList(false);
  follow();
});

// importFile sends a JSON Lines file to /v1/import in batches under the
// daemon's body limit, as `cairn import` does, and says what happened.
async function importFile(input) {
  const file = input.files && input.files[0];
  if (!file) return;
  const out = $("#import-result");
  out.textContent = "Importing…";
  const lines = (await file.text()).split("\n");
  const total = { created: 0, duplicate: 0, expired: 0, differs: 0, errors: [] };
  const limit = 512 * 1024;
  let batch = [], size = 0, first = 1;
  const send = async () => {
    if (batch.length === 0) return;
    const resp = await fetch("/v1/import", { method: "POST", headers: { "Content-Type": "application/x-ndjson" }, body: batch.join("\n") + "\n" });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(data.error || resp.statusText);
    total.created += data.created;
    total.duplicate += data.duplicate;
    total.expired += data.expired || 0;
    total.differs += data.differs || 0;
    for (const e of data.errors || []) total.errors.push(`line ${first + e.line - 1}: ${e.error}`);
    first += batch.length;
    batch = []; size = 0;
  };
  try {
    for (const line of lines) {
      const n = new Blob([line]).size + 1;
      if (size + n > limit) await send();
      batch.push(line); size += n;
    }
    await send();
    const was = (n) => (n === 1 ? "was" : "were");
    out.textContent = `Imported ${total.created} new ${total.created === 1 ? "memory" : "memories"}; ${total.duplicate} ${was(total.duplicate)} already there.` +
      (total.expired ? ` ${total.expired} had expired and ${was(total.expired)} skipped.` : "") +
      (total.differs ? ` ${total.differs} had the id of a memory here with other content; the one here was kept.` : "") +
      (total.errors.length ? ` Refused: ${total.errors.join("; ")}` : "");
  } catch (e) {
    out.textContent = "Import failed: " + e.message;
  }
  input.value = "";
  loadStatus().catch(() => {});
  loadTags().catch(() => {});
  if (!state.q && !state.tag) loadList(false);
}

// follow keeps the page current from the daemon's event stream: a memory
// written or deleted anywhere (the CLI, an AI tool) updates the count at
// once, and the list and tags shortly after, unless a search, a tag filter
// or a longer page is showing, which a reload would pull from under the
// reader.
function follow() {
  const es = new EventSource("/v1/events");
  let timer = 0;
  es.addEventListener("memory", (ev) => {
    let data = {};
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    if (typeof data.count === "number" && data.count >= 0) $("#st-count").textContent = String(data.count);
    clearTimeout(timer);
    timer = setTimeout(() => {
      loadTags().catch(() => {});
      if (!state.q && !state.tag && $("#results").children.length <= 20 && !document.querySelector(".editor:not([hidden]), .deleting")) loadList(false);
    }, 300);
  });
  // EventSource reconnects by itself after the daemon restarts; a stream
  // refused for a lost session is the api() 401 path's to handle.
}

