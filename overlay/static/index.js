// The index: the pages this token may open, per stream where a page is
// for one stream. Stream names come from the server and go in as text.
"use strict";

(() => {
  const pagesEl = document.getElementById("pages");
  const who = document.getElementById("who");
  document.getElementById("lang").addEventListener("click", LM.toggleLang);
  const PAGES = {
    en: {
      moderator: ["Moderator console", "the live feed, held and hidden messages, actions"],
      tools: ["Moderator tools", "reply drafts, timeouts and bans, dead webhooks, KPIs, audit log"],
      agent: ["Agent inbox", "handoffs of every stream, or one"],
      host: ["Host controls", "pin, answered, dismiss"],
      overlay: ["Host overlay", "an OBS browser source"],
      metrics: ["Metrics", "Prometheus text, for a scraper"],
    },
    hi: {
      moderator: ["मॉडरेटर कंसोल", "लाइव फ़ीड, रोके और छिपाए गए संदेश"],
      tools: ["मॉडरेटर औज़ार", "जवाब के मसौदे, टाइमआउट और प्रतिबंध, विफल वेबहुक, KPI, ऑडिट"],
      agent: ["एजेंट इनबॉक्स", "सभी या एक स्ट्रीम के हैंडऑफ़"],
      host: ["होस्ट नियंत्रण", "पिन, जवाब दिया, हटाएँ"],
      overlay: ["होस्ट ओवरले", "OBS ब्राउज़र सोर्स"],
      metrics: ["मेट्रिक्स", "Prometheus के लिए"],
    },
  };
  let data = null;

  function page(key, href, streams, perStream) {
    const [title, what] = (PAGES[LM.lang] || PAGES.en)[key];
    const li = LM.el("li", "page");
    li.dataset.page = key;
    if (href) {
      const a = LM.el("a", "title", title);
      a.href = href;
      li.appendChild(a);
    } else {
      li.appendChild(LM.el("b", "title", title));
    }
    li.appendChild(LM.el("span", "hint", " — " + what));
    if (streams.length) {
      const ul = LM.el("ul", "streams");
      for (const s of streams) {
        const sl = LM.el("li");
        const a = LM.el("a", "", s.stream);
        a.href = perStream(s.stream);
        sl.appendChild(a);
        sl.appendChild(LM.el("span", "hint", " " + s.messages + " " + LM.t("total")));
        ul.appendChild(sl);
      }
      li.appendChild(ul);
    } else if (!href) {
      li.appendChild(LM.el("p", "hint", LM.t("no_streams")));
    }
    return li;
  }

  function render() {
    if (!data) return;
    const role = data.you.role;
    who.textContent = LM.t("you_are") + " " + data.you.name + " · " + LM.t("role") + " " + role;
    const can = (r) => role === r || role === "admin";
    const streams = data.streams || [];
    const items = [];
    const one = (path) => (s) => LM.link(path + encodeURIComponent(s));
    if (can("moderator")) {
      items.push(page("moderator", LM.link("/moderator"), streams, (s) => LM.link("/moderator", { stream: s })));
      items.push(page("tools", LM.link("/moderator/tools"), [], null));
    }
    if (can("agent")) items.push(page("agent", LM.link("/agent"), streams, (s) => LM.link("/agent", { stream: s })));
    if (can("host")) {
      items.push(page("host", "", streams, one("/host/")));
    }
    if (can("host") || can("moderator")) items.push(page("overlay", "", streams, one("/overlay/")));
    if (can("moderator")) items.push(page("metrics", LM.link("/metrics"), [], null));
    if (!items.length) items.push(LM.el("li", "page", LM.t("no_pages")));
    pagesEl.replaceChildren(...items);
  }

  async function load() {
    try { data = await LM.api("GET", "/v1/streams"); } catch (err) { LM.toast(LM.t("streams_failed") + ": " + err.message); return; }
    render();
  }
  LM.onLang(render);
  LM.applyText();
  load();
  setInterval(load, 5000);
})();
