// Shared by the livemod pages: token, same-origin requests, the live feed
// with reconnect, English/Hindi text. Chat text is untrusted: it is only
// ever put into the page with textContent.
"use strict";

const LM = (() => {
  const params = new URLSearchParams(location.search);
  // The token is used only for requests to this page's own origin.
  const token = params.get("token") || "";

  const STR = {
    en: {
      overlay_title: "Audience questions", pinned: "Pinned question", askers: "askers", asker: "asker",
      agent_requested: "agent requested", no_questions: "No questions yet",
      host_title: "Host controls", pin: "Pin", unpin: "Answered", answered: "Answered", dismiss: "Dismiss",
      open_overlay: "Open overlay", score: "score",
      mod_title: "Moderator console", queue: "Held & hidden", feed: "Live feed", all: "All",
      flagged: "Flagged only", approve: "Approve", hide: "Hide", unhide: "Unhide", timeout: "Timeout 10m",
      ban: "Ban", rate: "msg/s", total: "messages", visible: "visible", held: "held", hidden: "hidden",
      approved: "approved", bursts: "Rule bursts (last 5 min)", undo: "Undo", no_bursts: "No rule has hidden messages recently",
      queue_empty: "Nothing waiting", keys: "Keys: j/k move · a approve · h hide · u unhide · t timeout · b ban · l language",
      connected: "live", connecting: "connecting…", offline: "reconnecting…",
      mood: "Mood: negative messages per minute", negative_now: "negative this minute",
      agent_title: "Agent inbox", urgent: "Urgent", priority: "Priority", high: "high", normal: "normal", rating: "Rating", converted: "Converted", open: "Open", claimed: "Claimed", resolved: "Resolved", claim: "Claim",
      resolve: "Resolve", order: "Order", issue: "Issue", waiting: "waiting", waited: "waited", opening: "Opening messages", recent: "Recent messages",
      claimed_by: "Claimed by", none: "None", load_more: "Load more", inbox_unavailable: "Handoffs are not available on this server yet",
      lang: "हिन्दी", stream: "Stream", failed: "Action failed", undone: "messages unhidden", skipped: "left hidden (restricted user or already decided)",
      pick_stream: "Choose a stream", pick_hint: "This page shows one stream at a time. Streams with chat since the server started, busiest first:",
      no_streams: "No stream has had chat yet. Send messages to /v1/ingest?stream=ID, or run livemod demo.",
      all_streams: "All streams", per_sec: "msg/s", open_tickets: "open handoffs", choose: "choose a stream",
      streams_failed: "Could not list the streams", policy: "Policy", tools: "Tools", console: "Console",
      confirm_ban: "Ban", confirm_timeout: "Time out", reason: "Reason (kept in the audit log)", duration: "For",
      cancel: "Cancel", confirm: "Confirm", banned: "banned", timed_out: "timed out", unbanned: "unbanned", by: "by",
      index_title: "livemod", index_hint: "Pages this token can open:", you_are: "Token", role: "role",
      no_pages: "This token has the ingest role: it sends chat (ws /v1/ingest, POST /v1/messages) and opens no pages.",
      k_appeals: "appeals received / overturned / time to decide", k_series: "messages per minute, the last hour (hidden and held darker)",
      appeals: "Appeals", uphold: "Uphold", overturn: "Overturn", appeal_reason: "Reason for the viewer and the audit log",
      reviews: "Review sample", right: "Right", wrong: "Wrong",
      drafts: "Reply drafts", restricted: "Timeouts and bans", unban: "Unban", dead: "Dead webhook deliveries", retry: "Retry",
      kpis: "KPIs", audit: "Audit log", reject: "Reject", until: "until", ban_forever: "banned", nothing: "Nothing here",
      filter_user: "Filter by user id", refresh: "Refresh", pick_for_kpis: "Choose a stream to see its KPIs.",
      k_first: "first response, median / p90", k_resolution: "resolution rate", k_auto: "auto replies",
      k_fp: "false positive rate", k_meaningful: "meaningful comment rate", k_mps: "messages / s", k_dps: "decisions / s",
      a_time: "time", a_actor: "actor", a_action: "action", a_target: "target", a_stream: "stream", a_reason: "reason", a_rule: "rule",
    },
    hi: {
      overlay_title: "दर्शकों के सवाल", pinned: "पिन किया गया सवाल", askers: "लोगों ने पूछा", asker: "व्यक्ति ने पूछा",
      agent_requested: "एजेंट माँगा", no_questions: "अभी कोई सवाल नहीं",
      host_title: "होस्ट नियंत्रण", pin: "पिन करें", unpin: "जवाब दिया", answered: "जवाब दिया", dismiss: "हटाएँ",
      open_overlay: "ओवरले खोलें", score: "स्कोर",
      mod_title: "मॉडरेटर कंसोल", queue: "रोके और छिपाए गए", feed: "लाइव फ़ीड", all: "सभी",
      flagged: "केवल चिह्नित", approve: "मंज़ूर", hide: "छिपाएँ", unhide: "दिखाएँ", timeout: "टाइमआउट 10 मि.",
      ban: "प्रतिबंध", rate: "संदेश/से.", total: "संदेश", visible: "दिख रहे", held: "रोके गए", hidden: "छिपे",
      approved: "मंज़ूर", bursts: "नियम की झड़ी (पिछले 5 मि.)", undo: "वापस लें", no_bursts: "हाल में किसी नियम ने संदेश नहीं छिपाए",
      queue_empty: "कुछ बाकी नहीं", keys: "कुंजियाँ: j/k चुनें · a मंज़ूर · h छिपाएँ · u दिखाएँ · t टाइमआउट · b प्रतिबंध · l भाषा",
      connected: "लाइव", connecting: "जुड़ रहा है…", offline: "फिर से जुड़ रहा है…",
      mood: "मूड: हर मिनट नकारात्मक संदेश", negative_now: "इस मिनट नकारात्मक",
      agent_title: "एजेंट इनबॉक्स", urgent: "अत्यावश्यक", priority: "प्राथमिकता", high: "ऊँची", normal: "सामान्य", rating: "रेटिंग", converted: "बिक्री", open: "खुले", claimed: "लिए गए", resolved: "हल हुए", claim: "लें",
      resolve: "हल करें", order: "ऑर्डर", issue: "समस्या", waiting: "इंतज़ार", waited: "इंतज़ार किया", opening: "शुरुआती संदेश", recent: "हाल के संदेश",
      claimed_by: "लिया", none: "कोई नहीं", load_more: "और दिखाएँ", inbox_unavailable: "इस सर्वर पर अभी हैंडऑफ़ उपलब्ध नहीं हैं",
      lang: "English", stream: "स्ट्रीम", failed: "कार्रवाई विफल", undone: "संदेश फिर दिखाए", skipped: "छिपे रहे (प्रतिबंधित या पहले से तय)",
      pick_stream: "स्ट्रीम चुनें", pick_hint: "यह पेज एक समय में एक स्ट्रीम दिखाता है। सर्वर शुरू होने के बाद जिन स्ट्रीम में चैट हुई, सबसे व्यस्त पहले:",
      no_streams: "अभी किसी स्ट्रीम में चैट नहीं हुई। /v1/ingest?stream=ID पर संदेश भेजें, या livemod demo चलाएँ।",
      all_streams: "सभी स्ट्रीम", per_sec: "संदेश/से.", open_tickets: "खुले हैंडऑफ़", choose: "स्ट्रीम चुनें",
      streams_failed: "स्ट्रीम की सूची नहीं मिली", policy: "नियम", tools: "औज़ार", console: "कंसोल",
      confirm_ban: "प्रतिबंध", confirm_timeout: "टाइमआउट", reason: "कारण (ऑडिट लॉग में रहेगा)", duration: "अवधि",
      cancel: "रद्द करें", confirm: "पक्का करें", banned: "प्रतिबंधित", timed_out: "टाइमआउट", unbanned: "प्रतिबंध हटा", by: "द्वारा",
      index_title: "livemod", index_hint: "यह टोकन ये पेज खोल सकता है:", you_are: "टोकन", role: "भूमिका",
      no_pages: "यह ingest टोकन है: यह चैट भेजता है (ws /v1/ingest, POST /v1/messages), कोई पेज नहीं खोलता।",
      k_appeals: "अपीलें मिलीं / पलटी गईं / फ़ैसले का समय", k_series: "प्रति मिनट संदेश, पिछला घंटा (छिपाए और रोके गए गहरे)",
      appeals: "अपीलें", uphold: "फ़ैसला बरकरार", overturn: "फ़ैसला पलटें", appeal_reason: "दर्शक और ऑडिट लॉग के लिए कारण",
      reviews: "समीक्षा नमूना", right: "सही", wrong: "गलत",
      drafts: "जवाब के मसौदे", restricted: "टाइमआउट और प्रतिबंध", unban: "प्रतिबंध हटाएँ", dead: "विफल वेबहुक", retry: "फिर भेजें",
      kpis: "KPI", audit: "ऑडिट लॉग", reject: "अस्वीकार", until: "तक", ban_forever: "प्रतिबंधित", nothing: "यहाँ कुछ नहीं",
      filter_user: "यूज़र आईडी से छाँटें", refresh: "ताज़ा करें", pick_for_kpis: "KPI देखने के लिए स्ट्रीम चुनें।",
      k_first: "पहला जवाब, माध्यिका / p90", k_resolution: "समाधान दर", k_auto: "स्वचालित जवाब",
      k_fp: "गलत पहचान दर", k_meaningful: "सार्थक टिप्पणी दर", k_mps: "संदेश / से.", k_dps: "फ़ैसले / से.",
      a_time: "समय", a_actor: "किसने", a_action: "कार्रवाई", a_target: "किस पर", a_stream: "स्ट्रीम", a_reason: "कारण", a_rule: "नियम",
    },
  };
  const LABELS_HI = {
    spam: "स्पैम", toxic: "अपमानजनक", threat: "धमकी", flood: "बाढ़", link: "लिंक", question: "सवाल",
    purchase_intent: "खरीद", support: "सहायता", agent_request: "एजेंट", optout: "ऑप्ट-आउट", profanity: "अपशब्द", negative: "नकारात्मक",
  };
  const ISSUES_HI = { refund: "रिफंड", wrong_item: "गलत सामान", not_delivered: "नहीं पहुँचा", damaged: "खराब सामान", "return": "वापसी", cancel: "रद्द", status: "स्थिति", complaint: "शिकायत", vip: "वीआईपी", partnership: "साझेदारी", payment_no_order: "पैसे कटे, ऑर्डर नहीं", wrong_address: "गलत पता", cancel_before_shipping: "भेजने से पहले रद्द", product_safety: "उत्पाद सुरक्षा", threat_to_self: "खुद को खतरा" };

  let lang = params.get("lang") || sessionStorage.getItem("livemod.lang") || "en";
  if (!STR[lang]) lang = "en";

  function t(key) { return (STR[lang] && STR[lang][key]) || STR.en[key] || key; }
  function labelName(l) { return lang === "hi" && LABELS_HI[l] ? LABELS_HI[l] : l.replace("_", " "); }
  function issueName(i) { return lang === "hi" && ISSUES_HI[i] ? ISSUES_HI[i] : String(i || "").replaceAll("_", " "); }

  const listeners = [];
  const onLangList = []; // pickers to redraw in the new language
  function applyText() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
    for (const el of document.querySelectorAll("[data-tp]")) el.placeholder = t(el.dataset.tp);
    for (const f of listeners) f();
    for (const f of onLangList) f();
  }
  function setLang(l) {
    lang = STR[l] ? l : "en";
    sessionStorage.setItem("livemod.lang", lang);
    applyText();
  }
  function toggleLang() { setLang(lang === "en" ? "hi" : "en"); }

  // Bidirectional controls (RLO, LRI, …) in chat would reorder what a
  // reader sees ("\u202emoc.live" shows as "evil.com"): each is shown as
  // a visible marker instead, and chat text sits in elements isolated
  // with unicode-bidi: isolate (style.css, overlay.css), so right-to-left
  // words stay right-to-left without spilling onto their neighbours.
  const BIDI = { "\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF", "\u202d": "LRO", "\u202e": "RLO",
    "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI", "\u200e": "LRM", "\u200f": "RLM", "\u061c": "ALM" };
  const BIDI_RE = /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/g;
  function visible(s) { return String(s).replace(BIDI_RE, (c) => "\u27e8" + BIDI[c] + "\u27e9"); }

  // el builds an element; text goes in with textContent, never as HTML,
  // and with its bidirectional controls made visible.
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = visible(text);
    return e;
  }

  // api calls this origin's REST endpoints with the page's token.
  async function api(method, path, body) {
    const url = new URL(path, location.origin);
    if (url.origin !== location.origin) throw new Error("refusing to send the token to another origin");
    const res = await fetch(url, {
      method,
      headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    let data = null;
    try { data = await res.json(); } catch (e) { /* empty body */ }
    if (!res.ok) {
      const err = new Error((data && data.error) || res.status + " " + res.statusText);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  // subscribe opens /v1/subscribe on this origin and calls onLine with
  // each parsed line; it reconnects with backoff, forever.
  function subscribe(stream, view, onLine, onStatus) {
    let delay = 500;
    function connect() {
      onStatus && onStatus("connecting");
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const q = new URLSearchParams({ stream, view, token });
      const ws = new WebSocket(proto + "//" + location.host + "/v1/subscribe?" + q.toString());
      ws.onopen = () => { delay = 500; onStatus && onStatus("connected"); };
      ws.onmessage = (ev) => {
        const text = typeof ev.data === "string" ? ev.data : "";
        for (const line of text.split("\n")) {
          if (!line) continue;
          let obj;
          try { obj = JSON.parse(line); } catch (e) { continue; }
          onLine(obj);
        }
      };
      ws.onclose = () => {
        onStatus && onStatus("offline");
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    connect();
  }

  // toast shows a short message; messages stack in one column at the
  // bottom (the newest last, at most 4), never on top of each other.
  function toast(msg, info) {
    let box = document.getElementById("toasts");
    if (!box) {
      box = el("div", "toasts");
      box.id = "toasts";
      document.body.appendChild(box);
    }
    const d = el("div", "toast" + (info ? " info" : ""), msg);
    d.setAttribute("role", info ? "status" : "alert");
    box.appendChild(d);
    while (box.children.length > 4) box.firstElementChild.remove();
    setTimeout(() => d.remove(), info ? 3500 : 5000);
    return d;
  }

  // status shows a connection state in a badge; the state's key stays on
  // the badge, so a language switch translates it too.
  function status(elm, s) {
    elm.className = "status " + s;
    elm.dataset.t = s;
    elm.textContent = t(s);
  }

  // link is a same-origin page URL that keeps this page's token and language.
  function link(path, extra) {
    const q = new URLSearchParams(extra || {});
    if (token) q.set("token", token);
    if (lang !== "en") q.set("lang", lang);
    return path + "?" + q.toString();
  }

  // picker fills box with the streams the token may see and their live
  // numbers, each linking to path?stream=ID; it refreshes every 2 s and
  // returns a function that stops it.
  function picker(box, path, extra) {
    let timer = 0;
    async function load() {
      let res;
      try { res = await api("GET", "/v1/streams"); } catch (err) {
        box.replaceChildren(el("p", "empty-note", t("streams_failed") + ": " + err.message));
        return;
      }
      const rows = [];
      for (const s of res.streams || []) {
        const a = el("a", "pick", s.stream);
        a.href = link(path, Object.assign({ stream: s.stream }, extra || {}));
        const li = el("li", "pick-row");
        li.dataset.stream = s.stream;
        li.appendChild(a);
        li.appendChild(el("span", "n", s.messages + " " + t("total")));
        li.appendChild(el("span", "n", (Math.round(s.messages_per_second * 10) / 10) + " " + t("per_sec")));
        if (s.open_handoffs) li.appendChild(el("span", "n", s.open_handoffs + " " + t("open_tickets")));
        rows.push(li);
      }
      const ul = el("ul", "picker-list");
      ul.replaceChildren(...rows);
      box.replaceChildren(rows.length ? ul : el("p", "empty-note", t("no_streams")));
    }
    load();
    timer = setInterval(load, 2000);
    onLangList.push(load);
    return () => clearInterval(timer);
  }
  function ago(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + "m " + (s % 60) + "s";
    return Math.floor(m / 60) + "h " + (m % 60) + "m";
  }

  return {
    params, token, t, el, visible, api, subscribe, ago, labelName, issueName, setLang, toggleLang, applyText,
    toast, status, link, picker,
    get lang() { return lang; },
    onLang(f) { listeners.push(f); },
  };
})();
