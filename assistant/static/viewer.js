/*
 * The guidance viewer's reading aids. The page works without it (the server rendered every
 * clause with an anchor, and CSS marks the :target clause); this script adds:
 * - the sentences a citation quoted, marked inside the target clause (?hl=start-end,... in the
 *   link, character offsets in the clause text as the API counts them: code points);
 * - a notice when the URL names a clause the document does not have;
 * - the contents list open on wide screens, collapsed on phones, following the reading position.
 * Text is only ever inserted as text nodes.
 */
(function () {
  "use strict";

  var main = document.getElementById("content");
  var toc = document.getElementById("toc"); // the <details> holding the contents list
  var tocNav = toc ? toc.parentNode : null; // its scrolling box
  var notice = document.getElementById("anchor-missing");
  var wide = window.matchMedia("(min-width: 761px)");

  // "#4.5", or "#4.5?hl=0-42" from a link that put the spans after the anchor.
  function hashParts() {
    var raw = window.location.hash.slice(1);
    var cut = raw.indexOf("?");
    var anchor = cut < 0 ? raw : raw.slice(0, cut);
    try {
      anchor = decodeURIComponent(anchor);
    } catch (err) { /* keep it as it is */ }
    return { anchor: anchor, query: cut < 0 ? "" : raw.slice(cut + 1) };
  }

  function currentAnchor() {
    return hashParts().anchor;
  }

  function target() {
    var anchor = currentAnchor();
    return anchor ? document.getElementById(anchor) : null;
  }

  // -- quoted sentences -------------------------------------------------------------------------
  function quotedSpans() {
    var value = new URLSearchParams(window.location.search).get("hl") ||
      new URLSearchParams(hashParts().query).get("hl") || "";
    var spans = [];
    value.split(",").forEach(function (part) {
      var m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
      if (m && +m[2] > +m[1]) spans.push([+m[1], +m[2]]);
    });
    return spans.sort(function (a, b) { return a[0] - b[0]; });
  }

  function markParagraph(p, spans) {
    var offset = parseInt(p.getAttribute("data-start"), 10) || 0;
    var walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    var pos = offset;
    var marked = 0;
    nodes.forEach(function (node) {
      var chars = Array.from(node.data);
      var start = pos;
      var end = pos + chars.length;
      pos = end;
      var cuts = spans.filter(function (s) { return s[0] < end && s[1] > start; });
      if (!cuts.length) return;
      var frag = document.createDocumentFragment();
      var at = 0;
      cuts.forEach(function (s) {
        var a = Math.max(0, s[0] - start);
        var b = Math.min(chars.length, s[1] - start);
        if (b <= at) return; // overlapping spans: already marked
        a = Math.max(a, at);
        if (a > at) frag.appendChild(document.createTextNode(chars.slice(at, a).join("")));
        var mark = document.createElement("mark");
        mark.className = "quoted";
        mark.textContent = chars.slice(a, b).join("");
        frag.appendChild(mark);
        at = b;
        marked += 1;
      });
      if (at < chars.length) frag.appendChild(document.createTextNode(chars.slice(at).join("")));
      node.parentNode.replaceChild(frag, node);
    });
    return marked;
  }

  function markQuoted() {
    var spans = quotedSpans();
    var section = target();
    if (!spans.length || !section) return;
    var own = section.querySelector(".clause-own");
    if (!own) return;
    Array.prototype.forEach.call(own.querySelectorAll(".clause-text p[data-start]"), function (p) {
      markParagraph(p, spans);
    });
  }

  // -- unknown anchors --------------------------------------------------------------------------
  function checkAnchor() {
    var anchor = currentAnchor();
    if (!notice) return;
    if (anchor && !document.getElementById(anchor)) {
      notice.textContent = (notice.getAttribute("data-template") || "{n}").replace("{n}", anchor);
      notice.hidden = false;
    } else {
      notice.hidden = true;
      notice.textContent = "";
    }
  }

  // -- contents list ----------------------------------------------------------------------------
  function placeToc() {
    if (!toc) return;
    toc.open = wide.matches;
  }

  var links = {};
  if (toc) {
    Array.prototype.forEach.call(toc.querySelectorAll("a[data-anchor]"), function (a) {
      links[a.getAttribute("data-anchor")] = a;
    });
  }
  var current = null;

  function setCurrent(anchor) {
    var link = links[anchor];
    if (!link || link === current) return;
    if (current) {
      current.classList.remove("is-current");
      current.removeAttribute("aria-current");
    }
    current = link;
    link.classList.add("is-current");
    link.setAttribute("aria-current", "location");
    // Keep the entry in view inside the contents list, without moving the page.
    if (toc.open && tocNav.scrollHeight > tocNav.clientHeight) {
      var box = tocNav.getBoundingClientRect();
      var r = link.getBoundingClientRect();
      if (r.top < box.top + 40 || r.bottom > box.bottom - 8) {
        tocNav.scrollTop += r.top - box.top - box.height / 3;
      }
    }
  }

  // The reading position is the last clause whose heading has reached the top of the window
  // (just under the sticky top bar, where a link lands).
  var headings = Array.prototype.slice.call(main ? main.querySelectorAll("section[id] > .clause-own") : []);
  var ticking = false;
  function follow() {
    ticking = false;
    var line = Math.min(window.innerHeight / 3, 140);
    var best = null;
    var lo = 0;
    var hi = headings.length - 1;
    while (lo <= hi) { // document order = vertical order: binary search the last one above the line
      var mid = (lo + hi) >> 1;
      if (headings[mid].getBoundingClientRect().top <= line) { best = headings[mid]; lo = mid + 1; } else { hi = mid - 1; }
    }
    if (!best && headings.length) best = headings[0];
    if (best) setCurrent(best.parentNode.id);
  }
  function onScroll() {
    if (!ticking) {
      ticking = true;
      window.requestAnimationFrame(follow);
    }
  }

  // Without the query part after it, the anchor is :target and CSS marks it; with one, mark it here.
  function markTarget() {
    Array.prototype.forEach.call(document.querySelectorAll("section.is-target"), function (node) {
      node.classList.remove("is-target");
    });
    var section = target();
    if (section && hashParts().query) section.classList.add("is-target");
  }

  placeToc();
  markTarget();
  if (wide.addEventListener) wide.addEventListener("change", placeToc);
  markQuoted();
  checkAnchor();
  var landed = target();
  if (landed) landed.scrollIntoView(); // the contents list may have changed the layout above it
  follow();
  window.addEventListener("scroll", onScroll, { passive: true });
  window.addEventListener("resize", onScroll);
  window.addEventListener("hashchange", function () {
    markTarget();
    checkAnchor();
    onScroll();
  });
})();
