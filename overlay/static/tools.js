// Moderator tools: what the REST API offers beside the live console —
// KPIs, reply drafts to approve or reject, appeals to uphold or overturn,
// sampled decisions to review, timeouts and bans to lift,
// dead webhook deliveries to retry, and the audit log. Everything from
// the server is put in with textContent.
"use strict";

(() => {
  const stream = LM.params.get("stream") || "";
  const nameEl = document.getElementById("stream-name");
  if (stream) nameEl.textContent = stream; else nameEl.dataset.t = "all_streams";
  document.getElementById("console-link").href = LM.link("/moderator", stream ? { stream } : {});
  document.getElementById("lang").addEventListener("click", LM.toggleLang);
  const q = (extra) => new URLSearchParams(Object.assign(stream ? { stream } : {}, extra || {})).toString();
  const el = LM.el;

  function when(ms) { return ms ? new Date(ms).toLocaleString(LM.lang === "hi" ? "hi-IN" : "en-GB") : "—"; }
  function button(key, cls, data) {
    const b = el("button", cls, LM.t(key));
    b.type = "button";
    Object.assign(b.dataset, data);
    return b;
  }
  function fill(box, rows) { box.replaceChildren(...(rows.length ? rows : [el("p", "empty-note", LM.t("nothing"))])); }
  async function post(path, body, done) {
    try { await LM.api("POST", path, body || {}); if (done) done(); } catch (err) { LM.toast(LM.t("failed") + ": " + err.message); }
  }

  // ---- KPIs --------------------------------------------------------
  const kpisBody = document.getElementById("kpis-body");
  let stopPicker = null;
  async function kpis() {
    if (!stream) {
      if (!stopPicker) {
        const p = el("p", "hint", LM.t("pick_for_kpis"));
        p.dataset.t = "pick_for_kpis";
        const list = el("div");
        kpisBody.replaceChildren(p, list);
        stopPicker = LM.picker(list, "/moderator/tools");
      }
      return;
    }
    let k;
    try { k = await LM.api("GET", "/v1/kpis?" + q({ since: String(Date.now() - 3600 * 1000) })); } catch (err) { kpisBody.replaceChildren(el("p", "empty-note", err.message)); return; }
    const pct = (r) => r && r.rate !== null && r.rate !== undefined ? Math.round(r.rate * 1000) / 10 + "% (" + r.n + "/" + r.of + ")" : "— (0)";
    const rows = [
      ["k_first", k.first_response_ms ? (k.first_response_ms.median / 1000).toFixed(1) + " s / " + (k.first_response_ms.p90 / 1000).toFixed(1) + " s (" + k.first_response_ms.n + ")" : "—"],
      ["k_resolution", pct(k.resolution_rate)],
      ["k_auto", k.auto_replies],
      ["k_fp", pct(k.false_positive_rate)],
      ["k_meaningful", pct(k.meaningful_comment_rate)],
      ["k_mps", Math.round(k.messages_per_second * 100) / 100],
      ["k_dps", Math.round(k.decisions_per_second * 100) / 100],
    ];
    if (k.appeals) rows.push(["k_appeals", k.appeals.received + " / " + k.appeals.overturned + " / " + Math.round(k.appeals.mean_time_to_decide_ms / 1000) + " s"]);
    const dl = el("dl", "kv");
    for (const [key, v] of rows) dl.append(el("dt", "", LM.t(key)), el("dd", "", v));
    kpisBody.replaceChildren(dl, series(k.series || []));
  }

  // The last hour, a bar a minute: messages, the hidden and held part darker.
  function series(points) {
    const NS = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 600 60");
    svg.setAttribute("class", "series");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", LM.t("k_series"));
    const max = Math.max(1, ...points.map((p) => p.messages));
    const start = Date.now() - 3600 * 1000;
    for (const p of points) {
      const x = Math.max(0, Math.floor((p.minute - start) / 60000)) * 10;
      for (const [v, cls] of [[p.messages, "all"], [p.hidden + p.held, "hidden"]]) {
        const h = Math.round((v / max) * 58);
        const r = document.createElementNS(NS, "rect");
        r.setAttribute("x", x); r.setAttribute("width", 8);
        r.setAttribute("y", 60 - h); r.setAttribute("height", h);
        r.setAttribute("class", cls);
        svg.appendChild(r);
      }
    }
    return svg;
  }

  // ---- reply drafts ------------------------------------------------
  const draftsBody = document.getElementById("drafts-body");
  async function drafts() {
    let res;
    try { res = await LM.api("GET", "/v1/replies/drafts?" + q({ state: "pending" })); } catch (err) { draftsBody.replaceChildren(el("p", "empty-note", err.message)); return; }
    fill(draftsBody, (res.drafts || []).map((d) => {
      const row = el("div", "item");
      row.setAttribute("role", "listitem");
      row.dataset.id = d.id;
      row.appendChild(el("p", "text", d.text));
      row.appendChild(el("span", "hint", (d.faq || "") + " · " + (d.stream || "") + " · " + when(d.ts)));
      const acts = el("div", "actions");
      acts.append(button("approve", "ok", { draft: d.id, act: "approve" }), button("reject", "bad", { draft: d.id, act: "reject" }));
      row.appendChild(acts);
      return row;
    }));
  }
  draftsBody.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-draft]");
    if (b) { b.disabled = true; post("/v1/replies/drafts/" + encodeURIComponent(b.dataset.draft) + "/" + b.dataset.act, {}, drafts); }
  });

  // ---- appeals ----------------------------------------------------
  const appealsBody = document.getElementById("appeals-body");
  async function appeals() {
    let res;
    try { res = await LM.api("GET", "/v1/appeals?" + q({ state: "open" })); } catch (err) { appealsBody.replaceChildren(el("p", "empty-note", err.message)); return; }
    fill(appealsBody, (res.appeals || []).map((a) => {
      const row = el("div", "item");
      row.setAttribute("role", "listitem");
      row.dataset.id = a.id;
      row.appendChild(el("p", "text", a.text));
      row.appendChild(el("span", "hint", a.user + (a.message_id ? " · " + a.message_id : "") + " · " + a.stream + " · " + when(a.created)));
      const acts = el("div", "actions");
      acts.append(button("uphold", "bad", { appeal: a.id, act: "uphold" }), button("overturn", "ok", { appeal: a.id, act: "overturn" }));
      row.appendChild(acts);
      return row;
    }));
  }
  appealsBody.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-appeal]");
    if (!b) return;
    const reason = window.prompt(LM.t("appeal_reason"));
    if (!reason) return;
    b.disabled = true;
    post("/v1/appeals/" + encodeURIComponent(b.dataset.appeal) + "/" + b.dataset.act, { reason }, appeals);
  });

  // ---- review sample -----------------------------------------------
  const reviewsBody = document.getElementById("reviews-body");
  async function reviews() {
    let res;
    try { res = await LM.api("GET", "/v1/reviews?" + q({ state: "open" })); } catch (err) { reviewsBody.replaceChildren(el("p", "empty-note", err.message)); return; }
    fill(reviewsBody, (res.reviews || []).map((r) => {
      const row = el("div", "item");
      row.setAttribute("role", "listitem");
      row.dataset.id = r.id;
      row.appendChild(el("p", "text", r.text));
      row.appendChild(el("span", "hint", r.action + " · " + r.rule + " · " + r.stream + " · " + when(r.ts)));
      const acts = el("div", "actions");
      acts.append(button("right", "ok", { review: r.id, act: "right" }), button("wrong", "bad", { review: r.id, act: "wrong" }));
      row.appendChild(acts);
      return row;
    }));
  }
  reviewsBody.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-review]");
    if (b) { b.disabled = true; post("/v1/reviews/" + encodeURIComponent(b.dataset.review) + "/" + b.dataset.act, {}, reviews); }
  });

  // ---- timeouts and bans -------------------------------------------
  const restrictedBody = document.getElementById("restricted-body");
  async function restricted() {
    let res;
    try { res = await LM.api("GET", "/v1/users/restricted"); } catch (err) { restrictedBody.replaceChildren(el("p", "empty-note", err.message)); return; }
    fill(restrictedBody, (res.restricted || []).map((r) => {
      const row = el("div", "item");
      row.setAttribute("role", "listitem");
      row.dataset.user = r.user;
      row.appendChild(el("b", "who", r.user));
      row.appendChild(el("span", "hint", r.until ? LM.t("timed_out") + " " + LM.t("until") + " " + when(r.until) : LM.t("ban_forever")));
      if (r.reason) row.appendChild(el("span", "reason", r.reason));
      const acts = el("div", "actions");
      acts.appendChild(button("unban", "ok", { unban: r.user }));
      row.appendChild(acts);
      return row;
    }));
  }
  restrictedBody.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-unban]");
    if (b) {
      b.disabled = true;
      post("/v1/users/" + encodeURIComponent(b.dataset.unban) + "/unban", { stream }, () => {
        LM.toast(b.dataset.unban + ": " + LM.t("unbanned"), true);
        restricted();
      });
    }
  });

  // ---- dead webhook deliveries -------------------------------------
  const deadBody = document.getElementById("dead-body");
  async function dead() {
    let res;
    try { res = await LM.api("GET", "/v1/webhooks/dead"); } catch (err) { deadBody.replaceChildren(el("p", "empty-note", err.message)); return; }
    fill(deadBody, (res.dead || []).map((d) => {
      const row = el("div", "item");
      row.setAttribute("role", "listitem");
      row.appendChild(el("b", "", d.ticket + " (" + d.id + ")"));
      row.appendChild(el("span", "hint", d.attempts + " × · " + when(d.dead_at)));
      if (d.last_error) row.appendChild(el("span", "reason", d.last_error));
      const acts = el("div", "actions");
      acts.appendChild(button("retry", "", { retry: d.id }));
      row.appendChild(acts);
      return row;
    }));
  }
  deadBody.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-retry]");
    if (b) { b.disabled = true; post("/v1/webhooks/dead/" + encodeURIComponent(b.dataset.retry) + "/retry", {}, dead); }
  });

  // ---- audit -------------------------------------------------------
  const auditBody = document.getElementById("audit-body");
  const auditUser = document.getElementById("audit-user");
  async function audit() {
    const extra = { limit: "100" };
    if (auditUser.value.trim()) extra.user = auditUser.value.trim();
    let res;
    try { res = await LM.api("GET", "/v1/audit?" + q(extra)); } catch (err) { auditBody.replaceChildren(el("p", "empty-note", err.message)); return; }
    const table = el("table", "audit");
    const head = el("tr");
    for (const h of ["time", "actor", "action", "target", "stream", "reason", "rule"]) head.appendChild(el("th", "", LM.t("a_" + h)));
    table.appendChild(head);
    for (const e of res.entries || []) {
      const tr = el("tr");
      for (const v of [when(e.ts), e.actor, e.action, e.target, e.stream, e.reason, e.rule]) tr.appendChild(el("td", "", v || ""));
      table.appendChild(tr);
    }
    auditBody.replaceChildren(table);
  }
  document.getElementById("audit-refresh").addEventListener("click", audit);
  auditUser.addEventListener("keydown", (e) => { if (e.key === "Enter") audit(); });

  function all() { kpis(); drafts(); appeals(); reviews(); restricted(); dead(); }
  LM.onLang(() => { all(); audit(); });
  LM.applyText(); // draws every section once
  setInterval(all, 5000);
  setInterval(audit, 15000);
})();
