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

  LM.onLang(render);
  LM.applyText();
  LM.api("GET", "/v1/questions?stream=" + encodeURIComponent(stream)).then((s) => { if (!state) { state = s; render(); } }).catch(() => {});
  LM.subscribe(stream, "overlay", (line) => {
    if (line.type === "trending" && line.stream === stream) { state = line; render(); }
  }, (s) => LM.status(status, s));
})();
