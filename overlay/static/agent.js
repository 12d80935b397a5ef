// Agent inbox: handoffs open → claimed → resolved, live from the agent view.
"use strict";

(() => {
  const RESOLVED_MAX = 100;
  const stream = LM.params.get("stream") || "";
  // Without ?stream= the inbox shows every stream's tickets, live from
  // each stream's agent view.
  const nameEl = document.getElementById("stream-name");
  if (stream) nameEl.textContent = LM.visible(stream); else nameEl.dataset.t = "all_streams";
  const statusEl = document.getElementById("status");
  const cols = { urgent: document.getElementById("col-urgent"), open: document.getElementById("col-open"), claimed: document.getElementById("col-claimed"), resolved: document.getElementById("col-resolved") };
  const tickets = new Map(); // id → ticket
  // The server lists a page at a time, oldest first; next[state] is the
  // cursor of the page after the last one loaded ("" when none is left).
  const next = { open: "", claimed: "", resolved: "" };
  let frame = 0;

  const toast = LM.toast;

  function put(t) {
    if (!t || !t.id || (t.stream && stream && t.stream !== stream)) return;
    // The same change arrives twice, from the REST answer and from the
    // agent view, in either order: a late copy of an older version (say the
    // claim, after the resolve) must not bring the ticket back.
    const cur = tickets.get(t.id);
    if (cur && (cur.rev || 0) > (t.rev || 0)) return;
    tickets.set(t.id, t);
    const resolved = Array.from(tickets.values()).filter((x) => x.state === "resolved");
    if (resolved.length > RESOLVED_MAX) {
      resolved.sort((a, b) => (a.resolved_at || 0) - (b.resolved_at || 0));
      for (const x of resolved.slice(0, resolved.length - RESOLVED_MAX)) tickets.delete(x.id);
    }
    if (!frame) frame = requestAnimationFrame(render);
  }

  function card(t) {
    const div = LM.el("article", "ticket");
    div.setAttribute("role", "listitem");
    div.dataset.id = t.id;
    div.dataset.state = t.state;
    const top = LM.el("div", "top");
    top.appendChild(LM.el("span", "user", (t.user && (t.user.name || t.user.id)) || "?"));
    if (!stream && t.stream) top.appendChild(LM.el("span", "stream-tag", t.stream));
    for (const l of t.labels || []) top.appendChild(LM.el("span", "label " + l, LM.labelName(l)));
    for (const g of t.tags || []) top.appendChild(LM.el("span", "label tag-" + g, LM.t(g)));
    const wait = LM.el("span", "waiting");
    wait.dataset.created = t.created || 0;
    wait.dataset.until = t.state === "open" ? 0 : (t.claimed_at || t.resolved_at || 0);
    top.appendChild(wait);
    div.appendChild(top);
    div.appendChild(LM.el("p", "summary", t.summary || ""));
    const dl = LM.el("dl");
    dl.append(LM.el("dt", "", LM.t("order")), LM.el("dd", "order", t.order_id || "—"));
    dl.append(LM.el("dt", "", LM.t("issue")), LM.el("dd", "issue", t.issue ? LM.issueName(t.issue) : "—"));
    if (t.priority) dl.append(LM.el("dt", "", LM.t("priority")), LM.el("dd", "priority " + t.priority, LM.t(t.priority)));
    if (t.claimed_by) dl.append(LM.el("dt", "", LM.t("claimed_by")), LM.el("dd", "", t.claimed_by));
    if (t.rating) dl.append(LM.el("dt", "", LM.t("rating")), LM.el("dd", "rating", "★".repeat(t.rating)));
    if (t.converted) dl.append(LM.el("dt", "", LM.t("converted")), LM.el("dd", "converted", String(t.order_value || 0)));
    div.appendChild(dl);
    // The messages that opened the ticket first (pinned: the request
    // itself), then the newest of the rest.
    const all = t.messages || [];
    const pinned = Math.min(t.pinned || 0, all.length);
    const groups = [["opening", all.slice(0, pinned)], ["recent", all.slice(pinned).slice(-5)]];
    for (const [key, msgs] of groups) {
      if (!msgs.length) continue;
      div.appendChild(LM.el("span", "hint", LM.t(key)));
      const ul = LM.el("ul", "messages " + key);
      for (const m of msgs) ul.appendChild(LM.el("li", "", m.text));
      div.appendChild(ul);
    }
    const acts = LM.el("div", "actions");
    if (t.state === "open") {
      const b = LM.el("button", "primary", LM.t("claim"));
      b.type = "button"; b.dataset.action = "claim";
      acts.appendChild(b);
    }
    if (t.state === "open" || t.state === "claimed") {
      const b = LM.el("button", "ok", LM.t("resolve"));
      b.type = "button"; b.dataset.action = "resolve";
      acts.appendChild(b);
    }
    if (acts.children.length) div.appendChild(acts);
    return div;
  }

  function render() {
    frame = 0;
    const by = { urgent: [], open: [], claimed: [], resolved: [] };
    for (const t of tickets.values()) {
      // The urgent lane: active tickets at priority high, whoever has them.
      if (t.priority === "high" && t.state !== "resolved") by.urgent.push(t);
      else (by[t.state] || by.open).push(t);
    }
    // Priority first, then the longest waiting.
    const rank = (t) => (t.priority === "high" ? 0 : 1);
    by.urgent.sort((a, b) => rank(a) - rank(b) || (a.created || 0) - (b.created || 0));
    by.open.sort((a, b) => rank(a) - rank(b) || (a.created || 0) - (b.created || 0));
    by.claimed.sort((a, b) => rank(a) - rank(b) || (a.claimed_at || 0) - (b.claimed_at || 0));
    by.resolved.sort((a, b) => (b.resolved_at || 0) - (a.resolved_at || 0));
    for (const s of ["urgent", "open", "claimed", "resolved"]) {
      const list = by[s];
      const items = list.length ? list.map(card) : [LM.el("p", "empty-note", LM.t("none"))];
      if (next[s] && s !== "resolved" && s !== "urgent") { // the resolved column keeps only the latest anyway
        const b = LM.el("button", "more", LM.t("load_more"));
        b.type = "button"; b.dataset.more = s;
        items.push(b);
      }
      cols[s].replaceChildren(...items);
      document.getElementById("n-" + s).textContent = list.length + (next[s] ? "+" : "");
    }
    tick();
  }

  function tick() {
    const now = Date.now();
    for (const w of document.querySelectorAll(".waiting")) {
      const created = +w.dataset.created;
      if (!created) continue;
      const until = +w.dataset.until || now;
      w.textContent = LM.t(+w.dataset.until ? "waited" : "waiting") + " " + LM.ago(until - created);
    }
  }
  setInterval(tick, 1000);

  document.querySelector(".inbox").addEventListener("click", async (e) => {
    const m = e.target.closest("button[data-more]");
    if (m) {
      m.disabled = true;
      load(m.dataset.more, next[m.dataset.more]);
      return;
    }
    const b = e.target.closest("button[data-action]");
    if (!b) return;
    const id = b.closest(".ticket").dataset.id;
    b.disabled = true;
    try {
      const res = await LM.api("POST", "/v1/handoffs/" + encodeURIComponent(id) + "/" + b.dataset.action, {});
      if (res && res.id) put(res); else if (res && res.handoff) put(res.handoff);
    } catch (err) {
      b.disabled = false;
      toast(LM.t("failed") + ": " + err.message);
    }
  });
  document.getElementById("lang").addEventListener("click", LM.toggleLang);
  document.addEventListener("keydown", (e) => { if (e.key === "l" && !e.ctrlKey && !e.metaKey && !e.altKey) LM.toggleLang(); });

  async function load(state, after) {
    try {
      let path = "/v1/handoffs?stream=" + encodeURIComponent(stream) + "&state=" + state;
      if (after) path += "&after=" + encodeURIComponent(after);
      const res = await LM.api("GET", path);
      for (const t of (res && res.handoffs) || []) put(t);
      next[state] = (res && res.next) || "";
      if (!frame) frame = requestAnimationFrame(render);
    } catch (err) {
      if (after) { // the button comes back with the next render
        toast(LM.t("failed") + ": " + err.message);
        if (!frame) frame = requestAnimationFrame(render);
      }
      if (err.status === 404 || err.status === 405) {
        const n = document.getElementById("notice");
        n.hidden = false;
        n.dataset.t = "inbox_unavailable";
        n.textContent = LM.t("inbox_unavailable");
      }
    }
  }

  LM.onLang(render);
  LM.applyText();
  render();
  for (const s of ["open", "claimed", "resolved"]) load(s);
  const onHandoff = (line) => { if (line.type === "handoff") put(line.handoff); };
  if (stream) {
    LM.subscribe(stream, "agent", onHandoff, (s) => LM.status(statusEl, s));
  } else {
    // One subscription per stream the server lists (at most SUBS_MAX, the
    // most active), looked for again every 5 s; the badge shows the worst.
    const SUBS_MAX = 20;
    const subs = new Map(); // stream → state
    const nav = document.getElementById("streams");
    nav.hidden = false;
    const showStatus = () => {
      const states = Array.from(subs.values());
      LM.status(statusEl, !states.length ? "choose" : states.includes("offline") ? "offline" : states.includes("connecting") ? "connecting" : "connected");
    };
    const refresh = async () => {
      let res;
      try { res = await LM.api("GET", "/v1/streams"); } catch (err) { toast(LM.t("streams_failed") + ": " + err.message); return; }
      const links = [];
      for (const s of (res.streams || [])) {
        const a = LM.el("a", "pick", s.stream + (s.open_handoffs ? " (" + s.open_handoffs + ")" : ""));
        a.href = LM.link("/agent", { stream: s.stream });
        links.push(a);
        if (!subs.has(s.stream) && subs.size < SUBS_MAX) {
          subs.set(s.stream, "connecting");
          LM.subscribe(s.stream, "agent", onHandoff, (st) => { subs.set(s.stream, st); showStatus(); });
        }
      }
      nav.replaceChildren(LM.el("span", "hint", LM.t("pick_stream") + ":"), ...(links.length ? links : [LM.el("span", "hint", LM.t("no_streams"))]));
      showStatus();
    };
    refresh();
    setInterval(refresh, 5000);
  }
})();
