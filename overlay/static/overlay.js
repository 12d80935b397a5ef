// Host overlay: an OBS browser source. No controls; the list follows the
// overlay view of /v1/subscribe.
"use strict";

(() => {
  const stream = decodeURIComponent(location.pathname.split("/").pop() || "");
  if (LM.params.get("bg") === "transparent") document.body.classList.add("transparent");
  const top = Math.min(5, Math.max(3, parseInt(LM.params.get("top") || "5", 10) || 5));
  const list = document.getElementById("questions");
  const empty = document.getElementById("empty");
  const pinned = document.getElementById("pinned");
  const pinnedText = document.getElementById("pinned-text");
  const agents = document.getElementById("agents");
  const agentCount = document.getElementById("agent-count");
  let state = null;

  function render() {
    if (!state) return;
    const qs = (state.questions || []).slice(0, top);
    const items = [];
    for (const q of qs) {
      const li = LM.el("li", "question");
      li.dataset.cluster = q.cluster;
      li.appendChild(LM.el("span", "q-text", q.text));
      const badge = LM.el("span", "q-askers");
      badge.appendChild(LM.el("b", "q-count", q.askers));
      badge.appendChild(LM.el("span", "q-unit", LM.t(q.askers === 1 ? "asker" : "askers")));
      li.appendChild(badge);
      items.push(li);
    }
    list.replaceChildren(...items);
    empty.hidden = qs.length > 0 || !!state.pinned;
    if (state.pinned) {
      pinned.hidden = false;
      pinned.dataset.cluster = state.pinned.cluster;
      pinnedText.textContent = LM.visible(state.pinned.text);
    } else {
      pinned.hidden = true;
      delete pinned.dataset.cluster;
    }
    const n = state.agent_requests || 0;
    agents.hidden = n === 0;
    agentCount.textContent = String(n);
  }

  LM.onLang(render);
  LM.applyText();
  LM.subscribe(stream, "overlay", (line) => {
    if (line.type === "trending" && line.stream === stream) {
      state = line;
      render();
    }
  });
})();
