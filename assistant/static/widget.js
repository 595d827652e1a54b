/*
 * Guidance assistant chat widget.
 *
 * Embed with one tag:
 *   <script src="https://assistant.example.org/widget.js" data-lang="zh" defer></script>
 *
 * Optional attributes on the script tag:
 *   data-lang       "zh" or "en" (default: the page's <html lang>, then English)
 *   data-document   only cite clauses of this document id (e.g. "ccso-zh")
 *   data-examples   example questions separated by "|" (shown before the first question)
 *
 * Everything lives in an open shadow root, so the host page's CSS cannot reach it and its CSS
 * cannot reach the host page. No innerHTML, no eval, no inline event handlers: text from the
 * server is always inserted as text nodes. The styles are a constructable stylesheet, which a
 * host page's Content-Security-Policy does not block.
 */
(function () {
  "use strict";

  if (window.GuidanceAssistant) return; // embedded twice: keep the first one
  window.GuidanceAssistant = { loading: true };

  var script = document.currentScript || findScript();
  var base = apiBase(script);

  function findScript() {
    var scripts = document.querySelectorAll("script[src]");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/widget\.js(?:[?#].*)?$/.test(scripts[i].src)) return scripts[i];
    }
    return null;
  }

  function apiBase(tag) {
    // The API lives where the script came from, so the widget works from any origin.
    if (!tag || !tag.src) return window.location.origin;
    var url = new URL(tag.src, window.location.href);
    return url.origin + url.pathname.replace(/\/widget\.js$/, "");
  }

  var STRINGS = {
    en: {
      launcher: "Ask the guidance",
      title: "Guidance assistant",
      subtitle: "Answers quote the clauses of the guidance",
      close: "Close",
      inputLabel: "Your question",
      placeholder: "Ask about the guidance…",
      send: "Send",
      intro: "Ask a question in Chinese or English. Every answer names the clauses it comes from.",
      examplesLabel: "For example:",
      examples: ["What support should senior management give the call center?", "What does clause 5.3 say?"],
      you: "You",
      loading: "Searching the guidance…",
      sources: "Sources",
      source: function (n) { return "Source " + n; },
      abstained: "The guidance does not cover this.",
      abstainedHint: "Try other words, or ask about a clause number such as 4.5.",
      network: "Could not reach the assistant. Check your connection and try again.",
      timeout: "The assistant took too long to answer. Please try again.",
      retry: "Try again",
      rateLimited: function (s) { return "Too many questions. Please wait " + s + " s and ask again."; },
      busy: function (s) { return "The assistant is busy or still starting. Please try again in " + s + " s."; },
      httpError: function (code) { return "Something went wrong (HTTP " + code + "). Please try again later."; },
      clause: "Clause",
      document: "Document",
      pages: function (a, b) { return b && b !== a ? "pp. " + a + "–" + b : "p. " + a; },
      open: "Open this clause in the guidance",
      footer: "Quoted from the guidance. Check the cited clause before relying on it."
    },
    zh: {
      launcher: "咨询指导要求",
      title: "指导要求助手",
      subtitle: "回答均引用指导要求的条款原文",
      close: "关闭",
      inputLabel: "你的问题",
      placeholder: "请输入关于指导要求的问题…",
      send: "发送",
      intro: "可以用中文或英文提问。每个回答都会标明所依据的条款。",
      examplesLabel: "例如：",
      examples: ["企业高层领导支持有哪些要求？", "第5.3条怎么规定的？"],
      you: "你",
      loading: "正在检索指导要求…",
      sources: "引用条款",
      source: function (n) { return "引用 " + n; },
      abstained: "指导要求中没有找到相关内容。",
      abstainedHint: "请换一种说法，或直接询问条款编号，例如“4.5”。",
      network: "无法连接到助手，请检查网络后重试。",
      timeout: "助手响应超时，请重试。",
      retry: "重试",
      rateLimited: function (s) { return "提问过于频繁，请等待 " + s + " 秒后再问。"; },
      busy: function (s) { return "助手正忙或正在启动，请 " + s + " 秒后重试。"; },
      httpError: function (code) { return "出错了（HTTP " + code + "），请稍后再试。"; },
      clause: "条款",
      document: "文件",
      pages: function (a, b) { return b && b !== a ? "第 " + a + "–" + b + " 页" : "第 " + a + " 页"; },
      open: "在指导要求中查看该条款",
      footer: "内容摘自指导要求，请以所引条款原文为准。"
    }
  };

  var lang = pickLang();
  var T = STRINGS[lang];
  var documentFilter = (script && script.getAttribute("data-document")) || null;
  var customExamples = script && script.getAttribute("data-examples");
  var examples = customExamples
    ? customExamples.split("|").map(function (s) { return s.trim(); }).filter(Boolean)
    : T.examples;
  var REQUEST_TIMEOUT_MS = 30000;

  function pickLang() {
    var wanted = (script && script.getAttribute("data-lang")) || document.documentElement.lang || "";
    return wanted.toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  }

  var CSS = [
    ":host { all: initial; }",
    ".root { --ga-accent: #1d4f91; --ga-accent-dark: #153a6b; --ga-ink: #1b2430; --ga-muted: #5b6675;",
    "  --ga-line: #dde3ea; --ga-soft: #f3f6fa; --ga-mark: #ffe58a;",
    "  font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei',",
    "    'Noto Sans CJK SC', Roboto, 'Helvetica Neue', Arial, sans-serif;",
    "  color: var(--ga-ink); -webkit-font-smoothing: antialiased; }",
    ".root *, .root *::before, .root *::after { box-sizing: border-box; }",
    "[hidden] { display: none !important; }",
    "button { font: inherit; color: inherit; cursor: pointer; }",
    "button:focus-visible, a:focus-visible, textarea:focus-visible {",
    "  outline: 3px solid #f0a500; outline-offset: 2px; }",
    ".sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;",
    "  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }",
    /* launcher */
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; display: inline-flex;",
    "  align-items: center; gap: 8px; padding: 12px 18px 12px 14px; border: 0; border-radius: 999px;",
    "  background: var(--ga-accent); color: #fff; font-weight: 600; font-size: 15px;",
    "  box-shadow: 0 6px 20px rgba(16, 40, 80, .28); }",
    ".launcher:hover { background: var(--ga-accent-dark); }",
    ".launcher svg { width: 22px; height: 22px; flex: none; }",
    /* panel */
    ".panel { position: fixed; right: 20px; bottom: 84px; z-index: 2147483001; width: 400px;",
    "  height: min(640px, calc(100vh - 108px)); display: flex; flex-direction: column; background: #fff;",
    "  border: 1px solid var(--ga-line); border-radius: 14px; overflow: hidden;",
    "  box-shadow: 0 18px 48px rgba(16, 40, 80, .24); }",
    ".header { display: flex; align-items: flex-start; gap: 12px; padding: 14px 14px 12px 18px;",
    "  background: var(--ga-accent); color: #fff; }",
    ".header h2 { margin: 0; font-size: 16px; font-weight: 650; line-height: 1.3; }",
    ".header p { margin: 2px 0 0; font-size: 13px; opacity: .85; }",
    ".header .titles { flex: 1; min-width: 0; }",
    ".close { flex: none; width: 34px; height: 34px; display: grid; place-items: center; border: 0;",
    "  border-radius: 8px; background: transparent; color: #fff; }",
    ".close:hover { background: rgba(255, 255, 255, .16); }",
    ".close svg { width: 18px; height: 18px; }",
    ".body { flex: 1; overflow-y: auto; padding: 16px 16px 8px; background: #fbfcfe;",
    "  overscroll-behavior: contain; }",
    ".intro { margin: 0 0 12px; color: var(--ga-muted); font-size: 14px; }",
    ".examples { display: flex; flex-direction: column; align-items: flex-start; gap: 6px; margin: 0 0 8px; }",
    ".examples span { font-size: 13px; color: var(--ga-muted); }",
    ".example { border: 1px solid var(--ga-line); background: #fff; border-radius: 999px; padding: 5px 12px;",
    "  font-size: 14px; color: var(--ga-accent); text-align: left; }",
    ".example:hover { border-color: var(--ga-accent); }",
    ".log { list-style: none; margin: 0; padding: 0; }",
    ".turn { margin: 0 0 18px; }",
    ".q { margin: 0 0 10px auto; max-width: 85%; width: fit-content; padding: 8px 12px;",
    "  border-radius: 14px 14px 4px 14px; background: var(--ga-accent); color: #fff;",
    "  white-space: pre-wrap; overflow-wrap: anywhere; }",
    ".a { max-width: 100%; padding: 12px 14px; border: 1px solid var(--ga-line); border-radius: 4px 14px 14px 14px;",
    "  background: #fff; overflow-wrap: anywhere; }",
    ".answer-text { margin: 0; }",
    ".ref { display: inline-block; min-width: 18px; margin: 0 2px; padding: 0 4px; border: 0; border-radius: 5px;",
    "  background: #e4ecf7; color: var(--ga-accent); font-size: 11px; font-weight: 700; line-height: 17px;",
    "  vertical-align: 2px; }",
    ".ref:hover { background: #cfdcf0; }",
    ".sources-label { margin: 12px 0 6px; font-size: 12px; font-weight: 650; letter-spacing: .02em;",
    "  color: var(--ga-muted); text-transform: uppercase; }",
    ".chips { list-style: none; display: flex; flex-wrap: wrap; gap: 6px; margin: 0; padding: 0; }",
    ".chips > li { max-width: 100%; }",
    ".chips > li.is-open { flex-basis: 100%; }",
    ".chip { display: inline-flex; align-items: center; gap: 6px; max-width: 100%; padding: 4px 10px 4px 4px;",
    "  border: 1px solid var(--ga-line); border-radius: 999px; background: var(--ga-soft); font-size: 13px; }",
    ".chip:hover { border-color: var(--ga-accent); }",
    ".chip[aria-expanded='true'] { background: #e4ecf7; border-color: var(--ga-accent); }",
    ".chip-n { flex: none; display: grid; place-items: center; width: 20px; height: 20px; border-radius: 50%;",
    "  background: var(--ga-accent); color: #fff; font-size: 11px; font-weight: 700; }",
    ".chip-label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 260px; }",
    ".chip-label b { font-weight: 700; }",
    ".cite { margin: 6px 0 4px; padding: 12px; border: 1px solid var(--ga-line); border-left: 4px solid var(--ga-accent);",
    "  border-radius: 8px; background: #fff; }",
    ".cite-head { margin: 0; font-weight: 650; }",
    ".cite-num { display: inline-block; margin-right: 4px; padding: 0 6px; border-radius: 5px; background: #e4ecf7;",
    "  color: var(--ga-accent); font-variant-numeric: tabular-nums; }",
    ".cite-path { margin: 2px 0 0; font-size: 13px; color: var(--ga-muted); }",
    ".cite-meta { margin: 2px 0 8px; font-size: 12px; color: var(--ga-muted); }",
    ".cite-text { margin: 0; padding: 8px 10px; border-radius: 6px; background: var(--ga-soft); font-size: 14px;",
    "  white-space: pre-wrap; }",
    "mark { background: var(--ga-mark); color: inherit; padding: 0 1px; border-radius: 2px; }",
    ".cite-link { display: inline-block; margin-top: 8px; font-size: 13px; color: var(--ga-accent);",
    "  text-decoration: underline; text-underline-offset: 2px; }",
    ".notice { margin: 0; font-weight: 600; }",
    ".hint { margin: 4px 0 0; font-size: 14px; color: var(--ga-muted); }",
    ".a.is-abstained { border-color: #e8d9a8; background: #fffbea; }",
    ".a.is-error { border-color: #f0c4c0; background: #fff5f4; }",
    ".a.is-error .notice { color: #9b1c13; }",
    ".retry { margin-top: 8px; padding: 5px 12px; border: 1px solid #d9a6a1; border-radius: 8px; background: #fff;",
    "  font-size: 14px; }",
    ".loading { display: flex; align-items: center; gap: 10px; color: var(--ga-muted); }",
    ".dots { display: inline-flex; gap: 4px; }",
    ".dots i { width: 6px; height: 6px; border-radius: 50%; background: var(--ga-accent); opacity: .3;",
    "  animation: ga-blink 1.2s infinite ease-in-out; }",
    ".dots i:nth-child(2) { animation-delay: .2s; } .dots i:nth-child(3) { animation-delay: .4s; }",
    "@keyframes ga-blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }",
    "@media (prefers-reduced-motion: reduce) { .dots i { animation: none; opacity: .6; } }",
    /* form */
    ".form { display: flex; align-items: flex-end; gap: 8px; padding: 10px 12px; border-top: 1px solid var(--ga-line);",
    "  background: #fff; }",
    ".input { flex: 1; min-height: 42px; max-height: 132px; resize: none; padding: 10px 12px; border: 1px solid #c5cfdb;",
    "  border-radius: 10px; font: inherit; color: inherit; background: #fff; line-height: 1.4; }",
    ".input:focus { border-color: var(--ga-accent); outline: none; box-shadow: 0 0 0 3px rgba(29, 79, 145, .18); }",
    ".send { flex: none; width: 42px; height: 42px; display: grid; place-items: center; border: 0; border-radius: 10px;",
    "  background: var(--ga-accent); color: #fff; }",
    ".send:hover { background: var(--ga-accent-dark); }",
    ".send:disabled { background: #9fb1c9; cursor: not-allowed; }",
    ".send svg { width: 20px; height: 20px; }",
    ".foot { margin: 0; padding: 0 12px 10px; font-size: 11.5px; color: var(--ga-muted); background: #fff; }",
    /* phone */
    "@media (max-width: 480px) {",
    "  .panel { inset: 0; width: 100%; height: 100%; max-height: none; border: 0; border-radius: 0; }",
    "  .launcher { right: 14px; bottom: 14px; }",
    "  .chip-label { max-width: 220px; }",
    "}"
  ].join("\n");

  // -- small DOM helpers (text only: never innerHTML) ------------------------------------------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  var SVG_NS = "http://www.w3.org/2000/svg";
  function icon(paths) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("fill", "none");
    svg.setAttribute("stroke", "currentColor");
    svg.setAttribute("stroke-width", "2");
    svg.setAttribute("stroke-linecap", "round");
    svg.setAttribute("stroke-linejoin", "round");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    paths.forEach(function (d) {
      var path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }
  var ICON_CHAT = ["M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z", "M8.5 10.5h7", "M8.5 14h4.5"];
  var ICON_CLOSE = ["M6 6l12 12", "M18 6L6 18"];
  var ICON_SEND = ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"];

  // Highlight spans index code points (the server counts Python characters), not UTF-16 units.
  function highlighted(text, spans) {
    var chars = Array.from(text || "");
    var cleaned = (spans || [])
      .map(function (s) { return [Math.max(0, s[0] | 0), Math.min(chars.length, s[1] | 0)]; })
      .filter(function (s) { return s[1] > s[0]; })
      .sort(function (a, b) { return a[0] - b[0]; });
    var merged = [];
    cleaned.forEach(function (s) {
      var last = merged[merged.length - 1];
      if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
      else merged.push([s[0], s[1]]);
    });
    var frag = document.createDocumentFragment();
    var at = 0;
    merged.forEach(function (s) {
      if (s[0] > at) frag.appendChild(document.createTextNode(chars.slice(at, s[0]).join("")));
      frag.appendChild(el("mark", null, chars.slice(s[0], s[1]).join("")));
      at = s[1];
    });
    if (at < chars.length) frag.appendChild(document.createTextNode(chars.slice(at).join("")));
    return frag;
  }

  // -- build the widget -----------------------------------------------------------------------
  var host, shadow, launcher, panel, body, log, form, input, sendButton, closeButton, introBlock;
  var pending = false;
  var blockedUntil = 0;
  var unblockTimer = null;
  var turnCount = 0;
  var documentTitles = null;

  function build() {
    host = document.createElement("guidance-assistant");
    host.setAttribute("data-api-base", base);
    shadow = host.attachShadow({ mode: "open" });
    adoptStyles(shadow);

    var root = el("div", "root");
    root.lang = lang;

    launcher = el("button", "launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-haspopup", "dialog");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "ga-panel");
    launcher.appendChild(icon(ICON_CHAT));
    launcher.appendChild(el("span", null, T.launcher));

    panel = el("section", "panel");
    panel.id = "ga-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "true");
    panel.setAttribute("aria-labelledby", "ga-title");
    panel.setAttribute("aria-describedby", "ga-subtitle");

    var header = el("header", "header");
    var titles = el("div", "titles");
    var title = el("h2", null, T.title);
    title.id = "ga-title";
    var subtitle = el("p", null, T.subtitle);
    subtitle.id = "ga-subtitle";
    titles.appendChild(title);
    titles.appendChild(subtitle);
    closeButton = el("button", "close");
    closeButton.type = "button";
    closeButton.setAttribute("aria-label", T.close);
    closeButton.appendChild(icon(ICON_CLOSE));
    header.appendChild(titles);
    header.appendChild(closeButton);

    body = el("div", "body");
    introBlock = el("div", "intro-block");
    introBlock.appendChild(el("p", "intro", T.intro));
    if (examples.length) {
      var list = el("div", "examples");
      list.appendChild(el("span", null, T.examplesLabel));
      examples.forEach(function (text) {
        var example = el("button", "example", text);
        example.type = "button";
        example.addEventListener("click", function () {
          input.value = text;
          submit();
        });
        list.appendChild(example);
      });
      introBlock.appendChild(list);
    }
    log = el("ol", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", T.title);
    body.appendChild(introBlock);
    body.appendChild(log);

    form = el("form", "form");
    form.noValidate = true;
    var label = el("label", "sr", T.inputLabel);
    label.htmlFor = "ga-input";
    input = el("textarea", "input");
    input.id = "ga-input";
    input.rows = 1;
    input.maxLength = 2000;
    input.placeholder = T.placeholder;
    input.setAttribute("autocomplete", "off");
    sendButton = el("button", "send");
    sendButton.type = "submit";
    sendButton.setAttribute("aria-label", T.send);
    sendButton.appendChild(icon(ICON_SEND));
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(sendButton);

    panel.appendChild(header);
    panel.appendChild(body);
    panel.appendChild(form);
    panel.appendChild(el("p", "foot", T.footer));

    root.appendChild(launcher);
    root.appendChild(panel);
    shadow.appendChild(root);
    document.body.appendChild(host);

    launcher.addEventListener("click", function () { isOpen() ? close() : open(); });
    closeButton.addEventListener("click", function () { close(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit();
    });
    input.addEventListener("keydown", function (event) {
      // Enter sends, Shift+Enter breaks the line; never while an IME is composing (Chinese input).
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        submit();
      }
    });
    input.addEventListener("input", autosize);
    panel.addEventListener("keydown", onPanelKeydown);
  }

  function adoptStyles(root) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (err) {
      // Older browsers: a <style> inside the shadow root (needs the host CSP to allow it).
      root.appendChild(el("style", null, CSS));
    }
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 132) + "px";
  }

  function isOpen() { return !panel.hidden; }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    input.focus();
    loadDocumentTitles();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("button, a[href], textarea, [tabindex]:not([tabindex='-1'])"),
      function (node) { return !node.disabled && node.offsetParent !== null; }
    );
  }

  function onPanelKeydown(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close();
      return;
    }
    if (event.key !== "Tab") return;
    // aria-modal: keep keyboard focus inside the dialog.
    var items = focusables();
    if (!items.length) return;
    var first = items[0];
    var last = items[items.length - 1];
    var active = shadow.activeElement;
    if (event.shiftKey && (active === first || !panel.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  function scrollToEnd() {
    body.scrollTop = body.scrollHeight;
  }

  // Bring the top of node into view (with `context` pixels above it) unless it is already well
  // inside the visible part of the conversation.
  function reveal(node, context) {
    var view = body.getBoundingClientRect();
    var top = node.getBoundingClientRect().top;
    if (top < view.top || top > view.bottom - 80) body.scrollTop += top - view.top - context;
  }

  // -- talking to the API ---------------------------------------------------------------------
  function loadDocumentTitles() {
    if (documentTitles) return;
    documentTitles = {};
    fetch(base + "/api/documents", { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (docs) {
        (docs || []).forEach(function (doc) { documentTitles[doc.id] = doc.title; });
      })
      .catch(function () { documentTitles = null; /* try again next time */ });
  }

  function setBlocked(seconds) {
    blockedUntil = Date.now() + seconds * 1000;
    updateSend();
    clearTimeout(unblockTimer);
    unblockTimer = setTimeout(updateSend, seconds * 1000 + 50);
  }

  function updateSend() {
    sendButton.disabled = pending || Date.now() < blockedUntil;
  }

  function submit() {
    var question = input.value.trim();
    if (!question || pending || Date.now() < blockedUntil) return;
    input.value = "";
    autosize();
    ask(question);
  }

  function ask(question) {
    introBlock.hidden = true;
    turnCount += 1;
    var turn = el("li", "turn");
    var q = el("p", "q");
    q.appendChild(el("span", "sr", T.you + ": "));
    q.appendChild(document.createTextNode(question));
    var a = el("div", "a");
    turn.appendChild(q);
    turn.appendChild(a);
    log.appendChild(turn);
    send(question, a, turn, turnCount);
  }

  function send(question, slot, turn, turnId) {
    pending = true;
    updateSend();
    showLoading(slot);
    scrollToEnd();

    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, REQUEST_TIMEOUT_MS);
    var payload = { question: question };
    if (documentFilter) payload.document = documentFilter;

    fetch(base + "/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload),
      signal: controller ? controller.signal : undefined,
      credentials: "omit"
    })
      .then(function (response) {
        if (response.ok) {
          return response.json().then(function (data) { showAnswer(slot, data, turnId); });
        }
        var wait = retryAfterSeconds(response.headers.get("Retry-After"));
        if (response.status === 429) {
          setBlocked(wait || 30);
          showError(slot, T.rateLimited(wait || 30), null);
          return;
        }
        if (response.status === 503) {
          showError(slot, T.busy(wait || 5), retry);
          return;
        }
        return response.json().then(
          function (data) {
            var detail = data && typeof data.detail === "string" ? data.detail : null;
            showError(slot, response.status < 500 && detail ? detail : T.httpError(response.status), null);
          },
          function () { showError(slot, T.httpError(response.status), null); }
        );
      })
      .catch(function (err) {
        var timedOut = err && err.name === "AbortError";
        showError(slot, timedOut ? T.timeout : T.network, retry);
      })
      .then(function () {
        clearTimeout(timer);
        pending = false;
        updateSend();
        // Long answers are read from the top: show the question, not the end of the text.
        scrollToEnd();
        reveal(turn, 8);
      });

    function retry() { send(question, slot, turn, turnId); }
  }

  function retryAfterSeconds(header) {
    if (!header) return 0;
    var seconds = parseInt(header, 10);
    if (!isNaN(seconds)) return Math.max(1, seconds);
    var when = Date.parse(header);
    return isNaN(when) ? 0 : Math.max(1, Math.ceil((when - Date.now()) / 1000));
  }

  function reset(slot, state) {
    while (slot.firstChild) slot.removeChild(slot.firstChild);
    slot.className = "a" + (state ? " is-" + state : "");
    slot.removeAttribute("aria-busy");
    slot.setAttribute("data-state", state || "answer");
  }

  function showLoading(slot) {
    reset(slot, "loading");
    slot.setAttribute("aria-busy", "true");
    var row = el("div", "loading");
    var dots = el("span", "dots");
    dots.setAttribute("aria-hidden", "true");
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    dots.appendChild(el("i"));
    row.appendChild(dots);
    row.appendChild(el("span", null, T.loading));
    slot.appendChild(row);
  }

  function showError(slot, message, retry) {
    reset(slot, "error");
    slot.appendChild(el("p", "notice", message));
    if (retry) {
      var again = el("button", "retry", T.retry);
      again.type = "button";
      again.addEventListener("click", function () {
        if (!pending) retry();
      });
      slot.appendChild(again);
    }
  }

  function showAnswer(slot, data, turnId) {
    var citations = Array.isArray(data.citations) ? data.citations : [];
    if (data.abstained || !citations.length) {
      reset(slot, "abstained");
      slot.appendChild(el("p", "notice", T.abstained));
      slot.appendChild(el("p", "hint", T.abstainedHint));
      return;
    }
    reset(slot, "answer");
    var chips = [];
    var text = el("p", "answer-text");
    String(data.answer || "").split(/(\[\d+\])/).forEach(function (part) {
      var marker = /^\[(\d+)\]$/.exec(part);
      var n = marker ? parseInt(marker[1], 10) : 0;
      if (marker && n >= 1 && n <= citations.length) {
        var ref = el("button", "ref", String(n));
        ref.type = "button";
        ref.setAttribute("aria-label", T.source(n));
        ref.addEventListener("click", function () {
          var chip = chips[n - 1];
          if (chip.getAttribute("aria-expanded") !== "true") chip.click();
          chip.focus();
        });
        text.appendChild(ref);
      } else if (part) {
        text.appendChild(document.createTextNode(part));
      }
    });
    slot.appendChild(text);

    slot.appendChild(el("p", "sources-label", T.sources));
    var chipList = el("ul", "chips");
    citations.forEach(function (citation, i) {
      var detailId = "ga-cite-" + turnId + "-" + (i + 1);
      var chip = el("button", "chip");
      chip.type = "button";
      chip.setAttribute("aria-expanded", "false");
      chip.setAttribute("aria-controls", detailId);
      chip.setAttribute("data-clause-id", String(citation.id || ""));
      chip.appendChild(el("span", "chip-n", String(i + 1)));
      var chipLabel = el("span", "chip-label");
      var number = String(citation.clause || "");
      var title = String(citation.title || "");
      chipLabel.appendChild(el("b", null, number));
      if (title && title !== number) chipLabel.appendChild(document.createTextNode(" " + title));
      chip.appendChild(chipLabel);
      chip.title = T.clause + " " + (citation.clause || "") + " " + (citation.title || "");
      var item = el("li");
      item.appendChild(chip);
      chipList.appendChild(item);
      chips.push(chip);

      // The clause opens right under its chip (the chip row breaks around it).
      var detail = citationDetail(citation, detailId);
      item.appendChild(detail);
      chip.addEventListener("click", function () {
        var expanded = chip.getAttribute("aria-expanded") === "true";
        chip.setAttribute("aria-expanded", expanded ? "false" : "true");
        detail.hidden = expanded;
        item.classList.toggle("is-open", !expanded);
        if (!expanded) reveal(detail, 56);
      });
    });
    slot.appendChild(chipList);
  }

  function citationDetail(citation, id) {
    var detail = el("article", "cite");
    detail.id = id;
    detail.hidden = true;
    detail.setAttribute("data-clause-id", String(citation.id || ""));
    detail.setAttribute("aria-label", T.clause + " " + (citation.clause || ""));
    var head = el("p", "cite-head");
    var number = String(citation.clause || "");
    var title = String(citation.title || "");
    head.appendChild(el("span", "cite-num", number));
    if (title && title !== number) head.appendChild(document.createTextNode(" " + title));
    detail.appendChild(head);
    var path = Array.isArray(citation.path) ? citation.path.map(String) : [];
    if (path.length) detail.appendChild(el("p", "cite-path", path.join(" › ")));
    var meta = [(documentTitles && documentTitles[citation.document]) || String(citation.document || "")];
    if (citation.page_start !== null && citation.page_start !== undefined) {
      meta.push(T.pages(citation.page_start, citation.page_end));
    }
    detail.appendChild(el("p", "cite-meta", meta.join(" · ")));
    var quote = el("blockquote", "cite-text");
    quote.appendChild(highlighted(String(citation.text || ""), citation.highlights));
    detail.appendChild(quote);
    var link = el("a", "cite-link", T.open);
    link.href = base + "/documents/" + encodeURIComponent(String(citation.document || "")) + "#" +
      encodeURIComponent(String(citation.clause || ""));
    link.target = "_blank";
    link.rel = "noopener";
    detail.appendChild(link);
    return detail;
  }

  function start() {
    build();
    window.GuidanceAssistant = { open: open, close: close, apiBase: base, lang: lang };
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
