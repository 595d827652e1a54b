/*
 * The internal search page: search as you type, one result per clause, filters by document /
 * chapter / language, and the whole state kept in the URL (/search?q=...&document=...&lang=...
 * &chapter=...) so it can be shared. Each card shows the clause's matching sentences (the
 * server's `highlights`, the same spans /api/ask quotes) with "show the whole clause", a plain
 * relevance label, and one link to the viewer; the best 10 first, the others behind a "show more"
 * button. Results the server marks `weak` (below its
 * relevance floor) come after a divider; when none passes the floor the page says so, and a
 * query that only names a clause the guidance lacks ("clause 99.9") is told so, with the nearest.
 * Server text is inserted as text nodes only.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var FETCH_K = 50; // the chapter filter runs here, over the best 50 matches
  var WEAK_SHOWN = 5; // matches below the server's relevance floor shown after the divider
  // Cards shown before a "show more" button: a covered query can pass the floor with all 50
  // matches ("complaint time limit"), a page many screens long of which the reader wants the top.
  var RESULTS_SHOWN = 10;

  var STRINGS = {
    en: {
      brand: "Search the guidance",
      skip: "Skip to the results",
      queryLabel: "Search the guidance",
      placeholder: "Words, a question, or a clause number such as 4.5",
      document: "Document",
      chapter: "Chapter",
      language: "Language",
      allDocuments: "All documents",
      allChapters: "All chapters",
      allLanguages: "All languages",
      clear: "Clear filters",
      idle: "Type words, a question, or a clause number.",
      searching: "Searching…",
      count: function (n) { return (n === 1 ? "1 clause" : n + " clauses") + ", best match first"; },
      weakCount: function (n) { return "No clause matches. " + (n === 1 ? "The 1 weak match" : "The " + n + " weak matches") + " below may not be relevant."; },
      took: function (ms) { return "answered in " + ms + " ms"; },
      none: "No clause matches. Try other words or clear the filters.",
      noneInChapter: function (c) { return "None of the best matches is in chapter " + c + ". Try other words or another chapter."; },
      network: "Cannot reach the server. Check your connection; the search runs again when you type.",
      loadingIndex: "The guidance index is still loading. Trying again shortly…",
      rateLimited: function (s) { return "Too many searches. Wait " + s + " s, then type again."; },
      httpError: function (code) { return "The search failed (HTTP " + code + ")."; },
      byNumber: "clause number",
      relevance: { high: "strong match", medium: "good match", low: "weak match" },
      weakDivider: "Weaker matches: these may not be what you are looking for",
      showMore: function (n) { return "Show " + (n === 1 ? "1 more match" : n + " more matches"); },
      wholeClause: "Show the whole clause",
      background: "Background, not guidance",
      truncated: "(the clause continues: open it to read it whole)",
      snippetOnly: "Show only the matching sentences",
      // The server's `missing`: a query that only names a number the guidance does not have.
      missing: function (unit, number, doc) { return "There is no " + unit + " " + number + " in " + doc + "."; },
      nearest: function (unit) { return unit === "chapter" ? "Nearest chapters:" : unit === "section" ? "Nearest sections:" : "Nearest clauses:"; },
      missingWeak: "The matches below are not it: they only share words with the query.",
      units: { clause: "clause", article: "article", rule: "rule", chapter: "chapter", section: "section", paragraph: "paragraph" },
      chapterLabel: function (n, t) { return t ? n + " " + t : "Chapter " + n; }
    },
    zh: {
      brand: "检索指导要求",
      skip: "跳到检索结果",
      queryLabel: "检索指导要求",
      placeholder: "输入词语、问题或条款编号（如 4.5）",
      document: "文件",
      chapter: "章",
      language: "语言",
      allDocuments: "全部文件",
      allChapters: "全部章节",
      allLanguages: "全部语言",
      clear: "清除筛选",
      idle: "输入词语、问题或条款编号即可检索。",
      searching: "正在检索…",
      count: function (n) { return n + " 个条款，按相关度排列"; },
      weakCount: function (n) { return "没有匹配的条款。以下 " + n + " 个弱相关结果可能无关。"; },
      took: function (ms) { return "用时 " + ms + " 毫秒"; },
      none: "没有匹配的条款。请换个说法或清除筛选。",
      noneInChapter: function (c) { return "最相关的结果都不在第 " + c + " 章。请换个说法或选择其他章。"; },
      network: "无法连接到服务器。请检查网络，再次输入时会重新检索。",
      loadingIndex: "索引仍在加载，稍后自动重试…",
      rateLimited: function (s) { return "检索过于频繁，请等待 " + s + " 秒后再输入。"; },
      httpError: function (code) { return "检索失败（HTTP " + code + "）。"; },
      byNumber: "条款编号",
      relevance: { high: "高度相关", medium: "相关", low: "弱相关" },
      weakDivider: "以下为弱相关结果，可能不是你要找的内容",
      showMore: function (n) { return "再显示 " + n + " 个相关条款"; },
      wholeClause: "显示整个条款",
      background: "背景资料，非指导要求",
      truncated: "（条款较长，请打开查看全文）",
      snippetOnly: "只显示匹配的句子",
      missing: function (unit, number, doc) { return doc + "中没有第" + number + unit + "。"; },
      nearest: function (unit) { return unit === "章" ? "最接近的章：" : unit === "节" ? "最接近的节：" : unit === "款" ? "最接近的款：" : "最接近的条款："; },
      missingWeak: "以下结果并非所查编号的内容，只是与检索词有相同的字词。",
      units: { clause: "条", article: "条", rule: "条", chapter: "章", section: "节", paragraph: "款" },
      chapterLabel: function (n, t) { return t ? n + " " + t : "第 " + n + " 章"; }
    }
  };

  var uiLang = pickLang();
  var T = STRINGS[uiLang];

  function pickLang() {
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
    return String(langs[0] || "").toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  }

  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var docSelect = document.getElementById("document");
  var chapterSelect = document.getElementById("chapter");
  var langSelect = document.getElementById("lang");
  var clearButton = document.getElementById("clear");
  var statusLine = document.getElementById("status");
  var results = document.getElementById("results");
  var missingBox = document.getElementById("missing");

  var documents = [];
  var chapters = [];
  var debounceTimer = null;
  var retryTimer = null;
  var controller = null;
  var sequence = 0;
  var facetsReady = null;
  var answers = new Map(); // recent answers by request URL: backspacing costs no request
  var ANSWERS_KEPT = 40;

  // -- text helpers -------------------------------------------------------------------------------
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // -- state <-> URL -------------------------------------------------------------------------------
  function currentState() {
    return {
      q: input.value,
      document: docSelect.value,
      chapter: chapterSelect.value,
      lang: langSelect.value
    };
  }

  function stateFromUrl() {
    var params = new URLSearchParams(window.location.search);
    return {
      q: params.get("q") || "",
      document: params.get("document") || "",
      chapter: params.get("chapter") || "",
      lang: params.get("lang") || ""
    };
  }

  function urlFor(state) {
    var params = new URLSearchParams();
    ["q", "document", "lang", "chapter"].forEach(function (key) {
      var value = key === "q" ? state.q.trim() : state[key];
      if (value) params.set(key, value);
    });
    var query = params.toString();
    return window.location.pathname + (query ? "?" + query : "");
  }

  function syncUrl(push) {
    var url = urlFor(currentState());
    if (url === window.location.pathname + window.location.search) return;
    if (push) window.history.pushState(null, "", url);
    else window.history.replaceState(null, "", url);
  }

  function ensureOption(select, value) {
    if (!value) return;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) return;
    }
    select.appendChild(el("option", null, value)).value = value; // keep a shared URL's value
  }

  function applyState(state) {
    input.value = state.q;
    ensureOption(docSelect, state.document);
    ensureOption(chapterSelect, state.chapter);
    docSelect.value = state.document;
    langSelect.value = state.lang === "zh" || state.lang === "en" ? state.lang : "";
    relabelChapters();
    chapterSelect.value = state.chapter;
    updateClear();
  }

  function updateClear() {
    clearButton.hidden = !(docSelect.value || chapterSelect.value || langSelect.value);
  }

  // -- facets --------------------------------------------------------------------------------------
  function loadFacets() {
    function getJson(url) {
      return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
    }
    return Promise.all([getJson("api/documents"), getJson("api/chapters")]).then(function (data) {
      documents = data[0] || [];
      chapters = data[1] || [];
      var keep = docSelect.value;
      while (docSelect.options.length > 1) docSelect.remove(1);
      documents.forEach(function (doc) {
        var option = el("option", null, doc.title + " (" + doc.id + ")");
        option.value = doc.id;
        if (doc.lang) option.lang = doc.lang;
        docSelect.appendChild(option);
      });
      ensureOption(docSelect, keep);
      docSelect.value = keep;
      relabelChapters();
    }, function () { /* the filters stay usable with what the URL gave */ });
  }

  // One option per chapter number, labelled from the document (or language) in view.
  function relabelChapters() {
    var keep = chapterSelect.value;
    var doc = docSelect.value;
    var lang = langSelect.value || (doc ? "" : uiLang);
    var byNumber = {};
    var order = [];
    chapters.forEach(function (chapter) {
      if (doc && chapter.document !== doc) return;
      var entry = byNumber[chapter.number];
      if (!entry) {
        entry = byNumber[chapter.number] = { number: chapter.number, title: chapter.title, lang: chapter.lang };
        order.push(entry);
      } else if (lang && chapter.lang === lang && entry.lang !== lang) {
        entry.title = chapter.title;
        entry.lang = chapter.lang;
      }
    });
    order.sort(function (a, b) { return parseInt(a.number, 10) - parseInt(b.number, 10); });
    if (!order.length && !chapters.length) return; // facets not loaded: leave what is there
    while (chapterSelect.options.length > 1) chapterSelect.remove(1);
    order.forEach(function (entry) {
      var option = el("option", null, T.chapterLabel(entry.number, entry.title));
      option.value = entry.number;
      chapterSelect.appendChild(option);
    });
    ensureOption(chapterSelect, keep);
    chapterSelect.value = keep;
  }

  function documentTitle(id) {
    for (var i = 0; i < documents.length; i++) if (documents[i].id === id) return documents[i].title;
    return id;
  }

  // -- searching -----------------------------------------------------------------------------------
  function schedule() {
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(run, DEBOUNCE_MS);
  }

  function setStatus(text, kind) {
    statusLine.textContent = text;
    statusLine.removeAttribute("title");
    statusLine.className = "status" + (kind ? " is-" + kind : "");
  }

  function run() {
    clearTimeout(debounceTimer);
    clearTimeout(retryTimer);
    if (controller) controller.abort(); // a stale search must not overwrite a newer one
    controller = null;
    var state = currentState();
    var query = state.q.trim();
    var mine = ++sequence;
    if (!query) {
      showMissing(null);
      clear(results);
      results.removeAttribute("aria-busy");
      setStatus(T.idle);
      document.title = T.brand;
      return;
    }
    controller = new AbortController();
    var params = new URLSearchParams({ q: query, k: String(FETCH_K) });
    if (state.document) params.set("document", state.document);
    if (state.lang) params.set("lang", state.lang);
    results.setAttribute("aria-busy", "true");
    results.classList.add("is-stale");
    var url = "api/search?" + params.toString();
    if (answers.has(url)) {
      render(answers.get(url), state);
      return;
    }
    var showSearching = setTimeout(function () { if (mine === sequence) setStatus(T.searching); }, 250);
    fetch(url, { headers: { Accept: "application/json" }, signal: controller.signal })
      .then(function (response) {
        if (mine !== sequence) return;
        if (response.ok) {
          return response.json().then(function (data) {
            answers.set(url, data);
            if (answers.size > ANSWERS_KEPT) answers.delete(answers.keys().next().value);
            if (mine === sequence) render(data, state);
          });
        }
        var wait = parseInt(response.headers.get("Retry-After") || "", 10);
        if (response.status === 503) {
          fail(T.loadingIndex);
          retryTimer = setTimeout(run, (wait > 0 ? wait : 3) * 1000);
        } else if (response.status === 429) {
          fail(T.rateLimited(wait > 0 ? wait : 30));
        } else {
          return response.json().then(function (data) {
            fail(data && typeof data.detail === "string" ? data.detail : T.httpError(response.status));
          }, function () { fail(T.httpError(response.status)); });
        }
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") return;
        if (mine === sequence) fail(T.network);
      })
      .then(function () { clearTimeout(showSearching); });
  }

  function fail(message) {
    showMissing(null);
    results.removeAttribute("aria-busy");
    results.classList.remove("is-stale");
    clear(results);
    setStatus(message, "error");
  }

  function chapterOf(number) {
    var head = String(number).split(".")[0];
    return /^\d+$/.test(head) ? head : "";
  }

  function render(data, state) {
    var seen = new Set();
    var hits = (data.hits || []).filter(function (hit) {
      if (seen.has(hit.id)) return false; // one result per clause
      seen.add(hit.id);
      return !state.chapter || chapterOf(hit.number) === state.chapter;
    });
    results.removeAttribute("aria-busy");
    results.classList.remove("is-stale");
    clear(results);
    document.title = state.q.trim() + " · " + T.brand;
    results.setAttribute("data-query", state.q.trim());
    showMissing(data.missing || null);
    if (!hits.length) {
      setStatus(state.chapter && (data.hits || []).length ? T.noneInChapter(state.chapter) : T.none, "empty");
      return;
    }
    var strong = hits.filter(function (hit) { return hit.weak !== true; });
    var weak = hits.filter(function (hit) { return hit.weak === true; }).slice(0, WEAK_SHOWN);
    function spansOf(hit) { return Array.isArray(hit.highlights) ? hit.highlights : []; }
    // The server's time goes in a tooltip, so that screenshots of the page stay the same.
    if (strong.length) setStatus(T.count(strong.length));
    else setStatus(T.weakCount(weak.length), "empty");
    statusLine.title = T.took(Math.round(data.took_ms || 0));
    strong.slice(0, RESULTS_SHOWN).forEach(function (hit) { results.appendChild(card(hit, spansOf(hit))); });
    var rest = strong.slice(RESULTS_SHOWN);
    if (rest.length) {
      var more = el("li", "more-results");
      var button = el("button", "more-button", T.showMore(rest.length));
      button.type = "button";
      button.addEventListener("click", function () {
        var cards = rest.map(function (hit) { return card(hit, spansOf(hit)); });
        cards.forEach(function (node) { results.insertBefore(node, more); });
        results.removeChild(more);
        // Keyboard and screen-reader users carry on from the first card they had not seen.
        var link = cards[0].querySelector("h2 a");
        if (link) link.focus();
      });
      more.appendChild(button);
      results.appendChild(more);
    }
    if (weak.length) {
      results.appendChild(el("li", "weak-divider", T.weakDivider));
      weak.forEach(function (hit) { results.appendChild(card(hit, spansOf(hit))); });
    }
  }

  // "There is no clause 99.9 in …; nearest: …", said in the page's language from the server's
  // parts (its `message` is in the query's language, which may not be the page's).
  function showMissing(missing) {
    clear(missingBox);
    missingBox.hidden = !missing;
    if (!missing) return;
    var unit = T.units[missing.unit] || T.units.clause;
    missingBox.appendChild(el("p", "missing-text", T.missing(unit, missing.number,
      missing.document ? documentTitle(missing.document) : T.brand)));
    var nearest = Array.isArray(missing.nearest) ? missing.nearest : [];
    if (nearest.length) {
      var line = el("p", "missing-nearest");
      line.appendChild(el("span", null, T.nearest(unit)));
      nearest.forEach(function (s) {
        var link = el("a");
        link.href = /^\/documents\//.test(String(s.link)) ? s.link.slice(1) : "documents/" +
          encodeURIComponent(s.document) + "#" + encodeURIComponent(s.clause);
        link.lang = s.lang || "";
        link.appendChild(el("span", "result-num", s.clause));
        link.appendChild(document.createTextNode(String(s.title || "")));
        line.appendChild(link);
      });
      missingBox.appendChild(line);
    }
    missingBox.appendChild(el("p", "missing-weak", T.missingWeak));
  }

  var C = GuidanceCitation; // static/citation.js: spans and page labels, shared with the widget

  var SNIPPET_FALLBACK = 160; // characters of the clause shown when no sentence matched

  // The matching sentences, in clause order, "…" where sentences were left out. The server's
  // highlights are whole sentences (its sentence spans), so they are the snippet's sentences.
  function snippet(chars, spans) {
    var frag = document.createDocumentFragment();
    var chosen = spans;
    if (!chosen.length) {
      var to = Math.min(chars.length, SNIPPET_FALLBACK);
      frag.appendChild(C.marked(chars, 0, to, spans));
      if (to < chars.length) frag.appendChild(document.createTextNode("…"));
      return { node: frag, whole: to >= chars.length };
    }
    var at = 0;
    chosen.forEach(function (s, i) {
      var from = s[0];
      while (from < s[1] && /\s/.test(chars[from])) from++;
      var skipped = chars.slice(at, from).join("");
      if (skipped.trim()) frag.appendChild(document.createTextNode(i ? " … " : "… "));
      else if (i && skipped) frag.appendChild(document.createTextNode(" "));
      frag.appendChild(C.marked(chars, from, s[1], spans));
      at = s[1];
    });
    var rest = chars.slice(at).join("").trim();
    if (rest) frag.appendChild(document.createTextNode(" …"));
    var shown = chosen.reduce(function (n, s) { return n + s[1] - s[0]; }, 0);
    return { node: frag, whole: !rest && chosen[0][0] === 0 && shown >= chars.join("").trim().length };
  }

  function viewerHref(hit, spans) {
    // The server's link is a path from the site root; kept relative so a prefixed mount works.
    if (typeof hit.link === "string" && /^\/documents\//.test(hit.link)) return hit.link.slice(1);
    var hl = (spans || []).map(function (s) { return s[0] + "-" + s[1]; }).join(",");
    return "documents/" + encodeURIComponent(hit.document) + (hl ? "?hl=" + hl : "") + "#" +
      encodeURIComponent(hit.number);
  }

  var cardCount = 0;

  function card(hit, rawSpans) {
    var text = String(hit.text || "");
    var chars = Array.from(text);
    var spans = C.mergeSpans(rawSpans, chars.length);
    var item = el("li", "result" + (hit.weak === true ? " is-weak" : ""));
    item.setAttribute("data-id", hit.id);
    item.setAttribute("data-document", hit.document);
    item.setAttribute("data-lang", hit.lang);
    item.setAttribute("data-number", hit.number);
    if (hit.relevance) item.setAttribute("data-relevance", hit.relevance);
    item.lang = hit.lang;

    // One link per card: the title, with the clause number in it.
    var title = el("h2", "result-title");
    var titleLink = el("a");
    titleLink.href = viewerHref(hit, spans);
    if (hit.title !== hit.number) titleLink.appendChild(el("span", "result-num", hit.number)); // "Foreword Foreword" reads once
    titleLink.appendChild(document.createTextNode(String(hit.title || hit.number)));
    title.appendChild(titleLink);
    item.appendChild(title);

    var ancestors = (hit.path || []).slice(0, -1);
    if (ancestors.length) item.appendChild(el("p", "result-path", ancestors.join(" › ")));

    if (hit.kind === "background") item.appendChild(el("p", "result-kind", T.background));

    var cut = snippet(chars, spans);
    var short = el("p", "result-text result-snippet");
    short.appendChild(cut.node);
    item.appendChild(short);
    if (!cut.whole) {
      var full = el("p", "result-text result-full");
      full.id = "result-full-" + (++cardCount);
      full.hidden = true;
      full.appendChild(C.marked(chars, 0, chars.length, spans));
      if (hit.truncated === true) full.appendChild(document.createTextNode(" … " + T.truncated));
      item.appendChild(full);
      var toggle = el("button", "result-toggle", T.wholeClause);
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", "false");
      toggle.setAttribute("aria-controls", full.id);
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        toggle.textContent = open ? T.snippetOnly : T.wholeClause;
        full.hidden = !open;
        short.hidden = open;
      });
      item.appendChild(toggle);
    }

    var meta = el("p", "result-meta");
    meta.lang = uiLang;
    var bits = [documentTitle(hit.document), hit.lang === "zh" ? "中文" : hit.lang === "en" ? "English" : hit.lang];
    if (hit.page_label) bits.push(C.pagesText(hit.page_label, uiLang));
    if (hit.matched_by === "number") bits.push(T.byNumber);
    else if (hit.relevance && T.relevance[hit.relevance]) bits.push(T.relevance[hit.relevance]);
    bits.forEach(function (bit, i) {
      if (i) meta.appendChild(el("span", "sep", "·"));
      var span = el("span", null, bit);
      if (i === bits.length - 1 && (hit.relevance || hit.matched_by === "number")) span.className = "result-relevance";
      meta.appendChild(span);
    });
    item.appendChild(meta);
    return item;
  }

  // -- wiring --------------------------------------------------------------------------------------
  function translate() {
    document.documentElement.lang = uiLang;
    document.title = T.brand;
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      var text = T[node.getAttribute("data-i18n")];
      if (typeof text === "string") node.textContent = text;
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-placeholder]"), function (node) {
      var text = T[node.getAttribute("data-i18n-placeholder")];
      if (typeof text === "string") node.placeholder = text;
    });
  }

  function onFilterChange(event) {
    if (event && event.target === docSelect || event && event.target === langSelect) relabelChapters();
    updateClear();
    syncUrl(true);
    run();
  }

  translate();
  applyState(stateFromUrl());
  setStatus(T.idle);

  input.addEventListener("input", function () {
    syncUrl(false);
    schedule();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    syncUrl(false);
    run();
  });
  [docSelect, chapterSelect, langSelect].forEach(function (select) {
    select.addEventListener("change", onFilterChange);
  });
  clearButton.addEventListener("click", function () {
    docSelect.value = "";
    langSelect.value = "";
    relabelChapters();
    chapterSelect.value = "";
    onFilterChange();
    input.focus();
  });
  window.addEventListener("popstate", function () {
    applyState(stateFromUrl());
    run();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== input && !/^(INPUT|SELECT|TEXTAREA)$/.test(
      (document.activeElement || {}).tagName || "")) {
      event.preventDefault();
      input.focus();
    }
  });

  facetsReady = loadFacets();
  facetsReady.then(function () {
    // Options now exist: put the URL's filter values back (the query box is left alone,
    // the user may be typing in it).
    var state = stateFromUrl();
    state.q = input.value;
    applyState(state);
    // Results that arrived first named documents by id; draw them again with their titles
    // (from the answers already fetched, so no second request when the first one is done).
    if (input.value.trim()) run();
  });
  if (input.value.trim()) run();
})();
