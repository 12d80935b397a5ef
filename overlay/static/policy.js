// The policy page: read a stream's policy, preview a change on the
// stream's recent chat, save it. Chat text is shown with textContent only.
"use strict";

(() => {
  const stream = LM.params.get("stream") || "";
  const $ = (id) => document.getElementById(id);
  $("stream-name").textContent = stream ? LM.t("stream") + ": " + stream : "add ?stream=ID to the address";
  $("back").href = LM.link("/moderator", stream ? { stream } : {});
  const path = "/v1/streams/" + encodeURIComponent(stream) + "/policy";

  function say(text, bad) {
    $("msg").textContent = text;
    $("msg").className = bad ? "hint error" : "hint";
  }

  function parseDoc() {
    try {
      return JSON.parse($("doc").value || "{}");
    } catch (e) {
      say("Not JSON: " + e.message, true);
      return null;
    }
  }

  async function load() {
    if (!stream) return;
    try {
      const res = await LM.api("GET", path);
      $("effective").textContent = JSON.stringify(res.policy, null, 2);
      if (!$("doc").value) $("doc").value = JSON.stringify(res.policy, null, 2);
      $("status").textContent = LM.t("connected");
    } catch (e) {
      say(e.message, true);
    }
  }

  function showReport(rep) {
    $("summary").textContent = rep.messages + " messages: " + rep.newly_hidden + " newly hidden or held, " +
      rep.released + " released, " + rep.changed + " changed" + (rep.timeouts ? ", " + rep.timeouts + " timeouts" : "");
    const list = $("rules");
    list.replaceChildren();
    for (const r of rep.rules || []) {
      const item = LM.el("div", "item", null);
      item.setAttribute("role", "listitem");
      item.append(LM.el("b", "rule", r.rule));
      item.append(LM.el("span", "count", " +" + r.hidden + " hidden · " + r.released + " released"));
      for (const ex of r.examples || []) {
        const row = LM.el("div", "example", null);
        row.append(LM.el("span", "user", ex.user + ": "));
        row.append(LM.el("span", "text", ex.text));
        row.append(LM.el("span", "change", "  " + ex.before + " → " + ex.after));
        if (ex.detail) row.append(LM.el("span", "detail", " (" + ex.detail + ")"));
        item.append(row);
      }
      list.append(item);
    }
  }

  $("try").addEventListener("click", async () => {
    const doc = parseDoc();
    if (!doc) return;
    say("Trying…");
    try {
      const minutes = Math.max(1, Math.min(1440, parseInt($("minutes").value, 10) || 10));
      showReport(await LM.api("POST", path + "/try", { policy: doc, minutes }));
      say("Preview done: nothing was changed.");
    } catch (e) {
      say(e.message, true);
    }
  });

  $("save").addEventListener("click", async () => {
    const doc = parseDoc();
    if (!doc) return;
    try {
      const res = await LM.api("PUT", path, doc);
      $("effective").textContent = JSON.stringify(res.policy, null, 2);
      say("Saved: " + (res.changes || []).length + " change(s); the next message obeys it.");
    } catch (e) {
      say(e.message, true);
    }
  });

  load();
})();
