// Moderator console. Built to stay responsive at thousands of messages a
// second: lines update a bounded model at once; the DOM is touched once
// per animation frame, with a capped number of rows.
"use strict";

(() => {
  const FEED_MAX = 200;      // rows in the live feed
  const QUEUE_MAX = 200;     // rows in the held & hidden queue
  const MODEL_MAX = 5000;    // messages remembered for actions and filters
  const EARLY_MAX = 500;     // platform outcomes kept until their row arrives
  const early = new Map();   // message id → a platform outcome that came before its row
  const BURST_WINDOW = 5 * 60 * 1000;
  const LABELS = ["spam", "toxic", "threat", "flood", "link", "question", "purchase_intent", "support", "agent_request", "optout", "profanity"];

  const stream = LM.params.get("stream") || "";
  document.getElementById("stream-name").textContent = LM.visible(stream);
  const statusEl = document.getElementById("status");
  document.getElementById("tools-link").href = LM.link("/moderator/tools", stream ? { stream } : {});
  document.getElementById("policy-link").href = LM.link("/moderator/policy", stream ? { stream } : {});
  document.getElementById("lang").addEventListener("click", LM.toggleLang);
  if (!stream) {
    // No stream: the console would have nothing to show. Offer the streams
    // this token may see, with their live numbers, instead.
    document.getElementById("console-body").hidden = true;
    document.querySelector(".stats").querySelectorAll(".stat").forEach((e) => { e.hidden = true; });
    document.getElementById("picker").hidden = false;
    LM.status(statusEl, "choose");
    LM.picker(document.getElementById("picker-list"), "/moderator");
    document.addEventListener("keydown", (e) => { if (e.key === "l" && !e.ctrlKey && !e.metaKey && !e.altKey) LM.toggleLang(); });
    LM.applyText();
    return;
  }
  const feed = document.getElementById("feed");
  const queue = document.getElementById("queue");
  const model = new Map(); // id → item, insertion order = arrival order
  let pending = [];        // items that arrived since the last frame
  let dirtyQueue = false;
  const queueAdds = new Set(); // items that became held or hidden by an action
  let frame = 0;
  let filter = "all";      // "all", "flagged" or a label
  let selected = null;     // id of the selected row
  const counts = { total: 0, held: 0, hidden: 0, approved: 0 };
  let arrivals = 0, rate = 0;
  const bursts = new Map(); // rule → [{id, ts}]

  // actingRule mirrors classify.ActingRule: only a rule that hides or
  // holds makes a burst (a spam hide's "question.mark" does not), and a
  // restriction (user.ban, user.timeout) is lifted by unban, not undone.
  function actingRule(rule, action) {
    if (rule.startsWith("policy.")) return true;
    if (action === "hide") return /^(spam|flood|link)\./.test(rule) || /^model\.(spam|flood|link)$/.test(rule);
    if (action === "hold") return /^(toxic|threat)\./.test(rule) || /^model\.(toxic|threat|spam)$/.test(rule);
    return false;
  }

  function stateOf(action) { return action === "hide" ? "hidden" : action === "hold" ? "held" : "visible"; }

  const toast = LM.toast;
  const NAMES_MAX = 5000;
  const names = new Map(); // user id → display name, from the decisions seen
  function nameOf(id) { return names.get(id) || id; }
  const USER_ACTIONS = { ban: "banned", timeout: "timed_out", unban: "unbanned" };

  // ---- model -------------------------------------------------------
  function addDecision(d) {
    let it = model.get(d.id);
    if (it) { it.d = d; return; } // a snapshot after reconnect
    it = { d, state: stateOf(d.action), feedRow: null, queueRow: null };
    model.set(d.id, it);
    if (early.has(d.id)) { it.platform = early.get(d.id); early.delete(d.id); }
    if (d.user && d.user.id && d.user.name) {
      names.delete(d.user.id);
      names.set(d.user.id, d.user.name);
      if (names.size > NAMES_MAX) names.delete(names.keys().next().value);
    }
    counts.total++;
    arrivals++;
    bump(it.state, 1);
    if (d.action !== "allow") {
      const now = Date.now();
      for (const r of d.reasons || []) {
        if (!actingRule(r.rule, d.action)) continue;
        let list = bursts.get(r.rule);
        if (!list) bursts.set(r.rule, (list = []));
        list.push({ id: d.id, ts: d.ts || now });
        if (list.length > 2000) list.splice(0, list.length - 2000);
      }
    }
    if (model.size > MODEL_MAX) {
      const oldest = model.keys().next().value;
      const o = model.get(oldest);
      model.delete(oldest);
      if (o.queueRow) { o.queueRow.remove(); }
      if (o.feedRow) { o.feedRow.remove(); }
    }
    pending.push(it);
    schedule();
  }

  function bump(state, n) { if (state in counts) counts[state] += n; }

  function setState(id, state) {
    const it = model.get(id);
    if (!it || it.state === state) return;
    bump(it.state, -1);
    it.state = state;
    bump(state, 1);
    if (it.feedRow) paintRow(it.feedRow, it);
    if (it.queueRow) paintRow(it.queueRow, it);
    else if (state === "held" || state === "hidden") queueAdds.add(it);
    dirtyQueue = true;
    schedule();
  }

  function onLine(line) {
    if (line.type === "moderation") { if (line.stream === stream) setState(line.id, line.state); return; }
    if (line.type === "user") {
      if (line.stream === stream || !line.stream) {
        const what = USER_ACTIONS[line.action] ? LM.t(USER_ACTIONS[line.action]) : line.action;
        toast(nameOf(line.user) + ": " + what + (line.actor ? " (" + LM.t("by") + " " + line.actor + ")" : "") +
          (line.reason ? " — " + line.reason : ""), true);
      }
      return;
    }
    if (line.type === "platform") { if (line.stream === stream) onPlatform(line); return; }
    if (line.type) return;          // other event kinds
    if (line.stream !== stream || !line.id) return;
    addDecision(line);
  }

  // ---- platforms ---------------------------------------------------
  // What the platform made of an action (done, refused and why, or a
  // retry), on the message's row and as a toast.
  function onPlatform(p) {
    const what = p.platform + " " + p.action + ": " + p.state + (p.error ? " (" + p.error + ")" : "");
    const it = p.target && model.get(p.target);
    if (it) {
      it.platform = what;
      if (it.feedRow) paintRow(it.feedRow, it);
      if (it.queueRow) paintRow(it.queueRow, it);
    } else if (p.target) {
      // The outcome travels apart from the decision and can come first:
      // kept (a few hundred at most) until its row arrives.
      early.delete(p.target);
      early.set(p.target, what);
      if (early.size > EARLY_MAX) early.delete(early.keys().next().value);
    }
    if (p.state !== "done" || p.action !== "hide" || p.actor !== "auto") toast(what, p.state !== "refused");
  }

  // Each connector's state, polled: connected, reconnects, quota left.
  const conns = LM.el("span", "conns");
  document.querySelector(".bar").insertBefore(conns, document.querySelector(".stats"));
  async function pollConnectors() {
    try {
      const list = await LM.api("GET", "/v1/connectors");
      conns.textContent = "";
      for (const c of list || []) {
        if (c.stream !== stream) continue;
        let txt = c.name + " " + c.state;
        if (c.reconnects) txt += " ↻" + c.reconnects;
        if (c.quota_left >= 0) txt += " · quota " + c.quota_left + (c.follow_for ? " (" + c.follow_for + ")" : "");
        if (c.dry_run) txt += " · dry run";
        const b = LM.el("span", "status " + (c.connected ? "connected" : "offline"), txt);
        if (c.last_error) b.title = c.last_error;
        conns.appendChild(b);
      }
    } catch (e) { /* the console works without */ }
  }
  if (stream) {
    pollConnectors();
    setInterval(pollConnectors, 5000);
  }

  // ---- rendering ---------------------------------------------------
  function schedule() { if (!frame) frame = requestAnimationFrame(flush); }

  function matches(it) {
    if (filter === "all") return true;
    if (filter === "flagged") return it.d.action !== "allow" || (it.d.labels || []).length > 0;
    return (it.d.labels || []).includes(filter);
  }

  function buildRow(it) {
    const d = it.d;
    const row = LM.el("div", "row");
    row.setAttribute("role", "listitem");
    row.tabIndex = -1;
    row.dataset.id = d.id;
    row.appendChild(LM.el("span", "who", (d.user && (d.user.name || d.user.id)) || "?"));
    row.appendChild(LM.el("span", "text", d.text));
    const meta = LM.el("div", "meta");
    meta.appendChild(LM.el("span", "state"));
    for (const l of d.labels || []) meta.appendChild(LM.el("span", "label " + l, LM.labelName(l)));
    const reasons = (d.reasons || []).map((r) => r.rule + (r.detail ? ": " + r.detail : "")).join(" · ");
    if (reasons) meta.appendChild(LM.el("span", "reasons", reasons));
    row.appendChild(meta);
    row.appendChild(LM.el("div", "actions"));
    paintRow(row, it);
    return row;
  }

  function button(action, cls) {
    const b = LM.el("button", cls, LM.t(action));
    b.type = "button";
    b.dataset.action = action;
    return b;
  }

  function paintRow(row, it) {
    row.className = "row state-" + it.state + (selected === it.d.id ? " selected" : "");
    const st = row.querySelector(".state");
    st.className = "state " + it.state;
    st.textContent = LM.t(it.state) + (it.platform ? " · " + it.platform : "");
    const acts = row.querySelector(".actions");
    const list = [];
    if (it.state === "held") list.push(button("approve", "ok"), button("hide", "bad"));
    else if (it.state === "hidden") list.push(button("unhide", "ok"), button("approve", ""));
    else list.push(button("hide", "bad"));
    list.push(button("timeout", ""), button("ban", "bad"));
    acts.replaceChildren(...list);
  }

  function flush() {
    frame = 0;
    const batch = pending;
    pending = [];
    // Feed: only the newest FEED_MAX of the batch can be shown anyway.
    const frag = document.createDocumentFragment();
    const start = Math.max(0, batch.length - FEED_MAX);
    for (let i = batch.length - 1; i >= start; i--) {
      const it = batch[i];
      if (!model.has(it.d.id) || !matches(it)) continue;
      it.feedRow = buildRow(it);
      frag.appendChild(it.feedRow);
    }
    feed.prepend(frag);
    trim(feed, FEED_MAX, "feedRow");
    // Queue: held and hidden messages, newest first.
    const qfrag = document.createDocumentFragment();
    let added = 0;
    for (let i = batch.length - 1; i >= 0 && added < QUEUE_MAX; i--) {
      const it = batch[i];
      if ((it.state === "held" || it.state === "hidden") && !it.queueRow && model.has(it.d.id)) {
        it.queueRow = buildRow(it);
        qfrag.appendChild(it.queueRow);
        added++;
      }
    }
    for (const it of queueAdds) {
      if (!it.queueRow && model.has(it.d.id) && (it.state === "held" || it.state === "hidden")) {
        it.queueRow = buildRow(it);
        qfrag.prepend(it.queueRow);
      }
    }
    queueAdds.clear();
    queue.prepend(qfrag);
    if (dirtyQueue) {
      dirtyQueue = false;
      for (const row of Array.from(queue.children)) {
        const it = model.get(row.dataset.id);
        if (!it || (it.state !== "held" && it.state !== "hidden")) {
          if (it) it.queueRow = null;
          if (selected === row.dataset.id) moveSelection(1, row);
          row.remove();
        }
      }
    }
    trim(queue, QUEUE_MAX, "queueRow");
    renderCounts();
  }

  function trim(container, max, key) {
    while (container.children.length > max) {
      const row = container.lastElementChild;
      const it = model.get(row.dataset.id);
      if (it && it[key] === row) it[key] = null;
      row.remove();
    }
  }

  function renderCounts() {
    document.getElementById("n-total").textContent = counts.total;
    document.getElementById("n-held").textContent = counts.held;
    document.getElementById("n-hidden").textContent = counts.hidden;
    document.getElementById("n-approved").textContent = counts.approved;
    document.getElementById("n-rate").textContent = rate;
    document.getElementById("queue-count").textContent = "(" + queue.children.length + ")";
  }

  function rerenderFeed() {
    const items = Array.from(model.values());
    const rows = [];
    for (let i = items.length - 1; i >= 0 && rows.length < FEED_MAX; i--) {
      const it = items[i];
      if (!matches(it)) { it.feedRow = null; continue; }
      it.feedRow = buildRow(it);
      rows.push(it.feedRow);
    }
    feed.replaceChildren(...rows);
  }

  function rerenderAll() {
    for (const it of model.values()) { it.feedRow = null; }
    rerenderFeed();
    for (const row of queue.children) { const it = model.get(row.dataset.id); if (it) paintRow(row, it); }
    renderFilters();
    renderBursts();
    renderCounts();
  }

  // ---- filters -----------------------------------------------------
  const filtersEl = document.getElementById("filters");
  function renderFilters() {
    const btns = [];
    for (const f of ["all", "flagged", ...LABELS]) {
      const b = LM.el("button", "", f === "all" || f === "flagged" ? LM.t(f) : LM.labelName(f));
      b.type = "button";
      b.dataset.filter = f;
      b.setAttribute("aria-pressed", String(filter === f));
      btns.push(b);
    }
    filtersEl.replaceChildren(...btns);
  }
  filtersEl.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-filter]");
    if (!b) return;
    filter = b.dataset.filter;
    renderFilters();
    rerenderFeed();
  });

  // ---- rule bursts -------------------------------------------------
  const burstsEl = document.getElementById("bursts");
  function renderBursts() {
    const cutoff = Date.now() - BURST_WINDOW;
    const rows = [];
    const entries = [];
    for (const [rule, list] of bursts) {
      while (list.length && list[0].ts < cutoff) list.shift();
      const live = list.filter((x) => { const it = model.get(x.id); return it && (it.state === "hidden" || it.state === "held"); });
      if (!list.length) { bursts.delete(rule); continue; }
      if (live.length) entries.push([rule, live.length]);
    }
    entries.sort((a, b) => b[1] - a[1]);
    for (const [rule, n] of entries.slice(0, 6)) {
      const div = LM.el("div", "burst");
      div.appendChild(LM.el("code", "", rule));
      div.appendChild(LM.el("span", "", "× " + n));
      const b = button("undo", "");
      b.dataset.rule = rule;
      div.appendChild(b);
      rows.push(div);
    }
    burstsEl.replaceChildren(...(rows.length ? rows : [LM.el("span", "hint", LM.t("no_bursts"))]));
  }
  burstsEl.addEventListener("click", async (e) => {
    const b = e.target.closest("button[data-rule]");
    if (!b) return;
    try {
      const res = await LM.api("POST", "/v1/rules/" + encodeURIComponent(b.dataset.rule) + "/undo", { stream, since: Date.now() - BURST_WINDOW });
      const skipped = (res.skipped || []).length;
      toast(res.undone + " " + LM.t("undone") + (skipped ? " · " + skipped + " " + LM.t("skipped") : ""), true);
    } catch (err) { toast(LM.t("failed") + ": " + err.message); }
  });

  // ---- actions -----------------------------------------------------
  // ---- confirm a timeout or ban, with a reason ----------------------
  const dlg = document.getElementById("confirm");
  let confirming = null; // {it, action}
  function openConfirm(it, action, viaKey) {
    confirming = { it, action };
    const who = (it.d.user && (it.d.user.name || it.d.user.id)) || "?";
    document.getElementById("confirm-h").textContent = LM.t(action === "ban" ? "confirm_ban" : "confirm_timeout") + " " + who + "?";
    document.getElementById("confirm-text").textContent = it.d.text || "";
    document.getElementById("confirm-duration-row").hidden = action !== "timeout";
    const reason = document.getElementById("confirm-reason");
    reason.value = ((it.d.reasons || [])[0] || {}).rule || "";
    reason.dataset.tp = "reason";
    reason.placeholder = LM.t("reason");
    dlg.showModal();
    const focus = () => { reason.focus(); reason.select(); };
    // Opened by b or t: focus once the key is up, so that its letter is
    // never typed into the reason.
    if (viaKey) { dlg.querySelector("#confirm-cancel").focus(); document.addEventListener("keyup", focus, { once: true }); } else focus();
  }
  function closeConfirm() { confirming = null; if (dlg.open) dlg.close(); }
  document.getElementById("confirm-cancel").addEventListener("click", closeConfirm);
  dlg.addEventListener("close", () => { confirming = null; });
  document.getElementById("confirm-form").addEventListener("submit", async (e) => {
    e.preventDefault(); // no navigation: the page's CSP allows no form actions
    if (!confirming) return;
    const { it, action } = confirming;
    const body = { stream, reason: document.getElementById("confirm-reason").value.trim() };
    if (action === "timeout") body.seconds = +document.getElementById("confirm-duration").value;
    closeConfirm();
    try {
      // A connected platform's user is named with it: Twitch user 42 is not YouTube user 42.
      const uid = (it.d.platform === "twitch" || it.d.platform === "youtube" ? it.d.platform + ":" : "") + it.d.user.id;
      await LM.api("POST", "/v1/users/" + encodeURIComponent(uid) + "/" + action, body);
    } catch (err) { toast(LM.t("failed") + ": " + err.message); }
  });

  async function act(id, action, viaKey) {
    const it = model.get(id);
    if (!it) return;
    try {
      if (action === "timeout" || action === "ban") {
        openConfirm(it, action, viaKey);
      } else {
        await LM.api("POST", "/v1/messages/" + encodeURIComponent(id) + "/" + action, { stream });
      }
    } catch (err) { toast(LM.t("failed") + ": " + err.message); }
  }
  function onClick(e) {
    const row = e.target.closest(".row");
    if (!row) return;
    select(row.dataset.id);
    const b = e.target.closest("button[data-action]");
    if (b) act(row.dataset.id, b.dataset.action);
  }
  feed.addEventListener("click", onClick);
  queue.addEventListener("click", onClick);

  function select(id) {
    const prev = selected;
    selected = id;
    for (const pid of [prev, id]) {
      const it = pid && model.get(pid);
      if (!it) continue;
      if (it.feedRow) paintRow(it.feedRow, it);
      if (it.queueRow) paintRow(it.queueRow, it);
    }
  }

  function moveSelection(dir, from) {
    const container = queue.children.length ? queue : feed;
    const rows = Array.from(container.children);
    if (!rows.length) return;
    let i = from ? rows.indexOf(from) : rows.findIndex((r) => r.dataset.id === selected);
    i = i < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, i + dir));
    if (from && rows[i] === from) i = Math.min(rows.length - 1, i + 1) === i ? i - 1 : i + 1;
    const row = rows[i];
    if (!row || row === from) { selected = null; return; }
    select(row.dataset.id);
    row.scrollIntoView({ block: "nearest" });
    if (!from) row.focus({ preventScroll: true });
  }

  const KEYS = { a: "approve", h: "hide", u: "unhide", t: "timeout", b: "ban" };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (dlg.open) return; // the dialog takes its own keys (Esc cancels, Enter confirms)
    if (e.target.closest && e.target.closest("input, textarea, select")) return;
    const k = e.key;
    if (k === "j" || k === "ArrowDown") { moveSelection(1); e.preventDefault(); }
    else if (k === "k" || k === "ArrowUp") { moveSelection(-1); e.preventDefault(); }
    else if (k === "l") LM.toggleLang();
    else if (KEYS[k] && selected) { e.preventDefault(); act(selected, KEYS[k], true); }
  });
  setInterval(() => { rate = arrivals; arrivals = 0; renderCounts(); renderBursts(); }, 1000);

  LM.onLang(rerenderAll);
  renderFilters();
  LM.applyText();
  renderBursts();
  renderCounts();
  LM.subscribe(stream, "moderator", onLine, (s) => LM.status(statusEl, s));
})();
