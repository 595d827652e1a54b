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
      suggestionsLabel: "Closest clauses (not an answer to your question):",
      searchFor: function (q) { return "Search the guidance for “" + q + "”"; },
      uncertain: "This may not be covered by the guidance: check the cited clause before relying on it.",
      background: "Background, not guidance",
      backgroundSources: "Background (not guidance)",
      alsoIn: function (l) { return l === "zh" ? "中文版中的本条款" : "This clause in the English edition"; },
      children: "In this section:",
      truncated: "The clause continues: open it to read it whole.",
      newConversation: "New conversation",
      moreExamples: "Example questions",
      network: "Could not reach the assistant. Check your connection and try again.",
      timeout: "The assistant took too long to answer. Please try again.",
      retry: "Try again",
      rateLimited: function (s) { return "Too many questions. Please wait " + s + " s and ask again."; },
      busy: function (s) { return "The assistant is busy or still starting. Please try again in " + s + " s."; },
      httpError: function (code) { return "Something went wrong (HTTP " + code + "). Please try again later."; },
      clause: "Clause",
      document: "Document",
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
      suggestionsLabel: "最接近的条款（并非对你问题的回答）：",
      searchFor: function (q) { return "在指导要求中检索“" + q + "”"; },
      uncertain: "指导要求可能没有涵盖这个问题，请先核对所引条款原文。",
      background: "背景资料，非指导要求",
      backgroundSources: "背景资料（非指导要求）",
      alsoIn: function (l) { return l === "en" ? "This clause in the English edition" : "中文版中的本条款"; },
      children: "本节包括：",
      truncated: "条款较长，此处未全部显示，请打开查看全文。",
      newConversation: "新对话",
      moreExamples: "示例问题",
      network: "无法连接到助手，请检查网络后重试。",
      timeout: "助手响应超时，请重试。",
      retry: "重试",
      rateLimited: function (s) { return "提问过于频繁，请等待 " + s + " 秒后再问。"; },
      busy: function (s) { return "助手正忙或正在启动，请 " + s + " 秒后重试。"; },
      httpError: function (code) { return "出错了（HTTP " + code + "），请稍后再试。"; },
      clause: "条款",
      document: "文件",
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
    ".more { margin: 4px 0 8px; font-size: 14px; }",
    ".more summary { cursor: pointer; color: var(--ga-accent); font-size: 13px; font-weight: 600; }",
    ".more .examples { margin-top: 8px; }",
    ".suggest-label { margin: 10px 0 4px; font-size: 13px; color: var(--ga-muted); }",
    ".suggest { margin: 0; padding: 0 0 0 18px; font-size: 14px; }",
    ".suggest li { margin: 2px 0; }",
    ".suggest a, .search-link, .cite-also a, .cite-children a { color: var(--ga-accent); text-decoration: underline;",
    "  text-underline-offset: 2px; }",
    ".search-link { display: inline-block; margin-top: 8px; font-size: 14px; }",
    ".uncertain { margin: 0 0 10px; padding: 6px 10px; border-radius: 6px; background: #fff4d6; color: #5c4200;",
    "  font-size: 13px; }",
    ".kind { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 5px; background: #f4ead0;",
    "  color: #5c4200; font-size: 11px; font-weight: 600; vertical-align: 1px; }",
    ".chip.is-background { border-style: dashed; background: #fbf7ec; }",
    ".chip.is-background .chip-n { background: #7a5a00; }",
    ".cite.is-background { border-left-color: #b08a2e; }",
    ".cite-also, .cite-trunc { margin: 8px 0 0; font-size: 13px; }",
    ".cite-trunc { color: var(--ga-muted); }",
    ".cite-children { margin: 8px 0 0; font-size: 13px; }",
    ".cite-children ul { margin: 2px 0 0; padding-left: 18px; }",
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
    /* one line per cited clause, a list item per line (the server breaks them with \n) */
    ".answer-text { margin: 0; white-space: pre-line; }",
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
    /* full screen: small or coarse-pointer screens, phone landscape, 200 % zoom (fit() sets the classes) */
    ".root.is-full .panel { inset: 0; width: auto; height: auto; max-height: none; border: 0; border-radius: 0; }",
    ".root.is-full .launcher { right: 14px; bottom: 14px; }",
    ".root.is-full .chip-label { max-width: 220px; }",
    /* short screens: the conversation keeps the height, the chrome gives it up */
    ".root.is-short .header { padding: 6px 8px 6px 14px; align-items: center; }",
    ".root.is-short .header p { display: none; }",
    ".root.is-short .body { padding: 10px 12px 4px; }",
    ".root.is-short .form { padding: 6px 10px; }",
    ".root.is-short .input { min-height: 38px; max-height: 76px; padding: 8px 10px; }",
    ".root.is-short .send { width: 38px; height: 38px; }",
    ".root.is-short .foot { padding: 0 10px 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }",
    ".root.is-short .intro { margin-bottom: 6px; }"
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
  var ICON_NEW = ["M12 20h9", "M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z"];
  var ICON_SEND = ["M4 12l16-8-6 16-2.5-6.5z", "M11.5 13.5L20 4"];

  // static/citation.js, which /widget.js serves in front of this file: spans and page labels,
  // shared with the search page.
  var highlighted = GuidanceCitation.highlighted;

  // -- build the widget -----------------------------------------------------------------------
  var host, shadow, launcher, panel, body, log, form, input, sendButton, closeButton, introBlock;
  var newButton, moreExamples, rootNode;
  var store = { turns: [], open: false };
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
    newButton = el("button", "close new");
    newButton.type = "button";
    newButton.setAttribute("aria-label", T.newConversation);
    newButton.title = T.newConversation;
    newButton.appendChild(icon(ICON_NEW));
    newButton.hidden = true;
    header.appendChild(titles);
    header.appendChild(newButton);
    header.appendChild(closeButton);

    body = el("div", "body");
    introBlock = el("div", "intro-block");
    introBlock.appendChild(el("p", "intro", T.intro));
    if (examples.length) introBlock.appendChild(exampleList(T.examplesLabel));
    log = el("ol", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", T.title);
    // Once a conversation has started the examples stay one click away, under it.
    moreExamples = el("details", "more");
    moreExamples.hidden = true;
    moreExamples.appendChild(el("summary", null, T.moreExamples));
    if (examples.length) moreExamples.appendChild(exampleList(null));
    body.appendChild(introBlock);
    body.appendChild(log);
    if (examples.length) body.appendChild(moreExamples);

    form = el("form", "form");
    form.noValidate = true;
    var label = el("label", "sr", T.inputLabel);
    label.htmlFor = "ga-input";
    input = el("textarea", "input");
    input.id = "ga-input";
    input.rows = 1;
    input.maxLength = 500;  // ASSISTANT_MAX_QUESTION_CHARS by default; the server answers 400 past its own limit
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
    newButton.addEventListener("click", newConversation);
    rootNode = root;
    fit();
    window.addEventListener("resize", fit);
    if (window.visualViewport) window.visualViewport.addEventListener("resize", fit);
    FULL_QUERY.forEach(function (query) {
      if (query.addEventListener) query.addEventListener("change", fit);
    });
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

  function exampleList(label) {
    var list = el("div", "examples");
    if (label) list.appendChild(el("span", null, label));
    examples.forEach(function (text) {
      var example = el("button", "example", text);
      example.type = "button";
      example.addEventListener("click", function () {
        input.value = text;
        moreExamples.open = false;
        submit();
      });
      list.appendChild(example);
    });
    return list;
  }

  // Full screen on small or coarse-pointer screens, phone landscape and high zoom. A host page
  // without a viewport meta tag is laid out 980 px wide and shown zoomed out on a phone: the
  // widget then zooms itself back by the page's scale, so its text stays readable.
  var FULL_QUERY = [window.matchMedia("(pointer: coarse)"), window.matchMedia("(max-width: 700px)"),
    window.matchMedia("(max-height: 560px)")];
  function fit() {
    if (!rootNode) return;
    var scale = window.visualViewport && window.visualViewport.scale ? window.visualViewport.scale : 1;
    var narrowScreen = window.screen && window.screen.width > 0 && window.screen.width <= 700;
    var zoom = scale < 0.8 && (narrowScreen || FULL_QUERY[0].matches) ? 1 / scale : 1;
    var height = window.innerHeight / zoom;
    var full = zoom > 1 || narrowScreen || FULL_QUERY.some(function (q) { return q.matches; });
    rootNode.classList.toggle("is-full", full);
    rootNode.classList.toggle("is-short", full && height <= 500);
    rootNode.style.zoom = zoom > 1 ? String(Math.round(zoom * 100) / 100) : "";
  }

  // -- the conversation, kept for this browser tab (sessionStorage) -------------------------
  var STORE_KEY = "guidance-assistant:" + base + (documentFilter ? "#" + documentFilter : "");
  var KEPT_TURNS = 30;

  function loadStore() {
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      return saved && Array.isArray(saved.turns) ? saved : { turns: [], open: false };
    } catch (err) {
      return { turns: [], open: false }; // storage off (privacy mode) or damaged: start afresh
    }
  }

  function saveStore() {
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify(store));
    } catch (err) { /* full or off: the conversation just is not kept */ }
  }

  function remember(question, data) {
    store.turns.push({ question: question, answer: data });
    if (store.turns.length > KEPT_TURNS) store.turns.splice(0, store.turns.length - KEPT_TURNS);
    saveStore();
  }

  function restore() {
    store.turns.forEach(function (saved) {
      if (!saved || typeof saved.question !== "string" || !saved.answer) return;
      var slot = addTurn(saved.question);
      showAnswer(slot.answer, saved.answer, turnCount, saved.question);
    });
    updateConversation();
  }

  function newConversation() {
    if (pending) return;
    store.turns = [];
    saveStore();
    while (log.firstChild) log.removeChild(log.firstChild);
    updateConversation();
    input.focus();
  }

  function updateConversation() {
    var started = log.children.length > 0;
    introBlock.hidden = started;
    moreExamples.hidden = !started;
    newButton.hidden = !started;
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

  function open(quiet) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    fit();
    if (quiet !== true) input.focus();
    loadDocumentTitles();
    store.open = true;
    saveStore();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
    store.open = false;
    saveStore();
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

  function addTurn(question) {
    turnCount += 1;
    var turn = el("li", "turn");
    var q = el("p", "q");
    q.appendChild(el("span", "sr", T.you + ": "));
    q.appendChild(document.createTextNode(question));
    var a = el("div", "a");
    turn.appendChild(q);
    turn.appendChild(a);
    log.appendChild(turn);
    updateConversation();
    return { turn: turn, answer: a };
  }

  function ask(question) {
    var slot = addTurn(question);
    send(question, slot.answer, slot.turn, turnCount);
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
          return response.json().then(function (data) {
            showAnswer(slot, data, turnId, question);
            remember(question, data);
          });
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

  function link(href, cls, text) {
    var a = el("a", cls, text);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener";
    return a;
  }

  // Server links are paths on the assistant ("/documents/ccso-zh#4.5"); anything else is dropped.
  function serverLink(path) {
    return typeof path === "string" && /^\/(?!\/)/.test(path) ? base + path : null;
  }

  function clauseLink(citation) {
    return serverLink(citation.link) || base + "/documents/" + encodeURIComponent(String(citation.document || "")) +
      "#" + encodeURIComponent(String(citation.clause || ""));
  }

  // The server's reason, said in the question's language (`message`); a server without it sends
  // `reason` (English, the contact line at its end, shown on its own line below instead).
  function refusalReason(data) {
    if (typeof data.message === "string" && data.message.trim()) return data.message.trim();
    if (typeof data.reason !== "string" || !data.reason.trim()) return null;
    var reason = data.reason.trim();
    var contact = typeof data.contact === "string" ? data.contact.trim() : "";
    if (contact && reason.slice(-contact.length) === contact) reason = reason.slice(0, -contact.length).trim();
    return reason || null;
  }

  function showRefusal(slot, data, question) {
    reset(slot, "abstained");
    var reason = refusalReason(data);
    var notice = el("p", "notice", reason || T.abstained);
    if (reason) notice.lang = /[\u3400-\u9fff]/.test(reason) ? "zh" : "en";
    slot.appendChild(notice);
    var suggestions = Array.isArray(data.suggestions) ? data.suggestions : [];
    var shown = 0;
    if (suggestions.length) {
      var list = el("ul", "suggest");
      suggestions.forEach(function (s) {
        var href = serverLink(s && s.link);
        if (!href) return;
        var number = String(s.clause || "");
        var title = String(s.title || "");
        var item = el("li");
        item.lang = String(s.lang || "") || lang;
        item.appendChild(link(href, null, title && title !== number ? number + " " + title : number));
        list.appendChild(item);
        shown += 1;
      });
      if (shown) {
        slot.appendChild(el("p", "suggest-label", T.suggestionsLabel));
        slot.appendChild(list);
      }
    }
    if (!shown) slot.appendChild(el("p", "hint", T.abstainedHint));
    if (typeof data.contact === "string" && data.contact.trim()) slot.appendChild(el("p", "hint contact", data.contact));
    if (question) slot.appendChild(link(base + "/search?q=" + encodeURIComponent(question), "search-link",
      T.searchFor(question)));
  }

  function showAnswer(slot, data, turnId, question) {
    var citations = Array.isArray(data.citations) ? data.citations : [];
    if (data.abstained || !citations.length) {
      showRefusal(slot, data, question);
      return;
    }
    reset(slot, "answer");
    if (data.uncertain === true) slot.setAttribute("data-uncertain", "true");
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
    // Said before the answer, so it is read first and is on screen above a long answer.
    if (data.uncertain === true) slot.appendChild(el("p", "uncertain", T.uncertain));
    slot.appendChild(text);

    // Guidance first; background documents in their own list, labelled as such.
    var chipList = el("ul", "chips");
    var backgroundList = el("ul", "chips");
    citations.forEach(function (citation, i) {
      var background = citation.kind === "background";
      var detailId = "ga-cite-" + turnId + "-" + (i + 1);
      var chip = el("button", "chip" + (background ? " is-background" : ""));
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
      chip.title = (background ? T.background + ": " : T.clause + " ") + (citation.clause || "") + " " +
        (citation.title || "");
      var item = el("li");
      item.appendChild(chip);
      (background ? backgroundList : chipList).appendChild(item);
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
    if (chipList.children.length) {
      slot.appendChild(el("p", "sources-label", T.sources));
      slot.appendChild(chipList);
    }
    if (backgroundList.children.length) {
      slot.appendChild(el("p", "sources-label", T.backgroundSources));
      slot.appendChild(backgroundList);
    }
  }

  function citationDetail(citation, id) {
    var background = citation.kind === "background";
    var detail = el("article", "cite" + (background ? " is-background" : ""));
    detail.id = id;
    detail.hidden = true;
    detail.setAttribute("data-clause-id", String(citation.id || ""));
    detail.setAttribute("aria-label", T.clause + " " + (citation.clause || ""));
    var head = el("p", "cite-head");
    var number = String(citation.clause || "");
    var title = String(citation.title || "");
    head.appendChild(el("span", "cite-num", number));
    if (title && title !== number) head.appendChild(document.createTextNode(" " + title));
    if (background) head.appendChild(el("span", "kind", T.background));
    detail.appendChild(head);
    var path = Array.isArray(citation.path) ? citation.path.map(String) : [];
    if (path.length) detail.appendChild(el("p", "cite-path", path.join(" › ")));
    var meta = [(documentTitles && documentTitles[citation.document]) || String(citation.document || "")];
    if (citation.page_label) meta.push(GuidanceCitation.pagesText(citation.page_label, lang));
    detail.appendChild(el("p", "cite-meta", meta.join(" · ")));
    var quote = el("blockquote", "cite-text");
    quote.appendChild(highlighted(String(citation.text || ""), citation.highlights));
    detail.appendChild(quote);
    if (citation.truncated === true) detail.appendChild(el("p", "cite-trunc", T.truncated));
    var children = Array.isArray(citation.children) ? citation.children : [];
    if (children.length) {
      var box = el("div", "cite-children");
      box.appendChild(el("span", null, T.children));
      var list = el("ul");
      children.forEach(function (child) {
        var href = serverLink(child && child.link);
        if (!href) return;
        var n = String(child.clause || "");
        var t = String(child.title || "");
        var item = el("li");
        item.appendChild(link(href, null, t && t !== n ? n + " " + t : n));
        list.appendChild(item);
      });
      box.appendChild(list);
      if (list.children.length) detail.appendChild(box);
    }
    detail.appendChild(link(clauseLink(citation), "cite-link", T.open));
    (Array.isArray(citation.also_in) ? citation.also_in : []).forEach(function (other) {
      var href = serverLink(other && other.link);
      if (!href) return;
      var p = el("p", "cite-also");
      var a = link(href, null, T.alsoIn(String(other.lang || "")));
      if (other.lang) a.hreflang = String(other.lang);
      p.appendChild(a);
      detail.appendChild(p);
    });
    return detail;
  }

  function start() {
    build();
    store = loadStore();
    restore();
    if (store.open) open(true);
    window.GuidanceAssistant = { open: open, close: close, apiBase: base, lang: lang };
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
