// Host controls: pin, answered, dismiss. The overlay itself has no controls.
"use strict";

(() => {
  const stream = decodeURIComponent(location.pathname.split("/").pop() || "");
  document.getElementById("stream-name").textContent = LM.visible(stream);
  const list = document.getElementById("list");
  const pinned = document.getElementById("pinned");
  const status = document.getElementById("status");
  const link = document.getElementById("overlay-link");
  link.href = "/overlay/" + encodeURIComponent(stream) + "?token=" + encodeURIComponent(LM.token);
  document.getElementById("lang").addEventListener("click", LM.toggleLang);
  let state = null;

  const toast = LM.toast;

  async function act(cluster, action) {
    try {
      await LM.api("POST", "/v1/questions/" + encodeURIComponent(cluster) + "/" + action, { stream });
    } catch (e) {
      toast(LM.t("failed") + ": " + e.message);
    }
  }

  function row(q, isPinned) {
    const div = LM.el("div", "hq" + (isPinned ? " pinned" : ""));
    div.dataset.cluster = q.cluster;
    div.appendChild(LM.el("span", "q", q.text));
    const actions = LM.el("span", "actions");
    if (!isPinned) {
      const pin = LM.el("button", "primary", LM.t("pin"));
      pin.addEventListener("click", () => act(q.cluster, "pin"));
      pin.dataset.action = "pin";
      actions.appendChild(pin);
    }
    const ans = LM.el("button", "ok", LM.t("answered"));
    ans.dataset.action = "answered";
    ans.addEventListener("click", () => act(q.cluster, "answered"));
    const dis = LM.el("button", "", LM.t("dismiss"));
    dis.dataset.action = "dismiss";
    dis.addEventListener("click", () => act(q.cluster, "dismiss"));
    actions.append(ans, dis);
    div.appendChild(actions);
    div.appendChild(LM.el("span", "n", q.askers + " " + LM.t(q.askers === 1 ? "asker" : "askers") + " · " + LM.t("score") + " " + q.score));
    return div;
  }

  function render() {
    if (!state) return;
    pinned.replaceChildren(state.pinned ? row(state.pinned, true) : LM.el("p", "empty-note", LM.t("none")));
    const qs = state.questions || [];
    list.replaceChildren(...(qs.length ? qs.map((q) => row(q, false)) : [LM.el("p", "empty-note", LM.t("no_questions"))]));
    document.getElementById("agent-count").textContent = String(state.agent_requests || 0);
  }

  // The mood line: the share of negative messages in each of the last
  // minutes (GET /v1/kpis), for the host only — never on the overlay.
  const moodEl = document.getElementById("mood");
  let mood = [];
  function drawMood() {
    if (!mood.length) { moodEl.replaceChildren(LM.el("p", "empty-note", LM.t("none"))); return; }
    const NS = "http://www.w3.org/2000/svg", W = 300, H = 60;
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("role", "img");
    const last = mood[mood.length - 1];
    svg.setAttribute("aria-label", LM.t("mood") + ": " + Math.round(100 * last.share) + "%");
    const t0 = mood[0].minute, span = Math.max(last.minute - t0, 60000);
    const pts = mood.map((p) => ((W * (p.minute - t0)) / span).toFixed(1) + "," + (H - H * p.share).toFixed(1));
    const line = document.createElementNS(NS, "polyline");
    line.setAttribute("points", pts.length === 1 ? "0," + pts[0].split(",")[1] + " " + W + "," + pts[0].split(",")[1] : pts.join(" "));
    line.setAttribute("class", "mood-line");
    svg.appendChild(line);
    moodEl.replaceChildren(svg, LM.el("span", "n", Math.round(100 * last.share) + "% " + LM.t("negative_now")));
  }
  async function loadMood() {
    try {
      const k = await LM.api("GET", "/v1/kpis?stream=" + encodeURIComponent(stream));
      mood = (k && k.mood) || [];
      drawMood();
    } catch (e) { /* next time */ }
  }
  loadMood();
  setInterval(loadMood, 15000);

  LM.onLang(() => { render(); drawMood(); });
  LM.applyText();
  LM.api("GET", "/v1/questions?stream=" + encodeURIComponent(stream)).then((s) => { if (!state) { state = s; render(); } }).catch(() => {});
  LM.subscribe(stream, "overlay", (line) => {
    if (line.type === "trending" && line.stream === stream) { state = line; render(); }
  }, (s) => LM.status(status, s));
})();
