/*
 * What the search page and the chat widget both draw from a citation the server sent: its
 * highlight spans as <mark>s, and its page label as words. The search page loads this file
 * before search.js; /widget.js is served with this file in front of the widget inside one
 * function, so a page that embeds the widget gets no extra global.
 *
 * The server decides what to mark (the sentences it picked) and the page range ("6", "6–7");
 * nothing here splits sentences, stems words or computes a range.
 */
var GuidanceCitation = (function () {
  "use strict";

  // Highlight spans index code points (the server counts Python characters), not UTF-16 units:
  // pass Array.from(text). Spans are clamped to the text, sorted, and overlapping or touching
  // ones merged.
  function mergeSpans(spans, length) {
    var cleaned = (Array.isArray(spans) ? spans : [])
      .filter(function (s) { return Array.isArray(s) && s.length >= 2; })
      .map(function (s) { return [Math.max(0, s[0] | 0), Math.min(length, s[1] | 0)]; })
      .filter(function (s) { return s[1] > s[0]; })
      .sort(function (a, b) { return a[0] - b[0]; });
    var merged = [];
    cleaned.forEach(function (s) {
      var last = merged[merged.length - 1];
      if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
      else merged.push([s[0], s[1]]);
    });
    return merged;
  }

  // chars[from, to) as a fragment, the parts inside the (merged) spans as <mark>s.
  function marked(chars, from, to, spans) {
    var frag = document.createDocumentFragment();
    var at = from;
    spans.forEach(function (s) {
      var a = Math.max(s[0], at);
      var b = Math.min(s[1], to);
      if (b <= a) return;
      if (a > at) frag.appendChild(document.createTextNode(chars.slice(at, a).join("")));
      var mark = document.createElement("mark");
      mark.textContent = chars.slice(a, b).join("");
      frag.appendChild(mark);
      at = b;
    });
    if (at < to) frag.appendChild(document.createTextNode(chars.slice(at, to).join("")));
    return frag;
  }

  // The whole text with its spans marked.
  function highlighted(text, spans) {
    var chars = Array.from(String(text || ""));
    return marked(chars, 0, chars.length, mergeSpans(spans, chars.length));
  }

  // The server's page label as a reader sees it, as outline.pages_text says it for the viewer
  // and the CLI: "p. 6", "pp. 6–7", "第 6 页"; "" without a label.
  function pagesText(label, lang) {
    if (label === null || label === undefined || label === "") return "";
    label = String(label);
    if (/^zh/.test(lang || "")) return "第 " + label + " 页";
    return (label.indexOf("–") >= 0 ? "pp. " : "p. ") + label;
  }

  return { mergeSpans: mergeSpans, marked: marked, highlighted: highlighted, pagesText: pagesText };
})();
