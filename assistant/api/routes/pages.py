"""The pages people see: the embeddable widget script, the internal search page and the
guidance viewer. The HTML carries no inline script or style, so it runs under a strict
Content-Security-Policy; the viewer is rendered on the server (every value escaped) so that a
link such as /documents/ccso-zh#4.5 lands on the clause with no script at all."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from assistant.records import Clause

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"

# Security headers (CSP, framing, nosniff; the widget's cross-origin ones) are set for every
# response in one place, assistant/api/security.py; the routes here set none.

router = APIRouter(include_in_schema=False)


@router.api_route("/widget.js", methods=["GET", "HEAD"])
async def widget_js() -> FileResponse:
    """The chat widget; sites embed it with one <script> tag."""
    return FileResponse(
        STATIC_DIR / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.api_route("/search", methods=["GET", "HEAD"])
async def search_page() -> FileResponse:
    """The internal search page; its script reads and writes the query string."""
    return FileResponse(STATIC_DIR / "search.html", media_type="text/html; charset=utf-8")


@router.get("/documents/")
async def documents_index() -> RedirectResponse:
    return RedirectResponse("../search", status_code=307)


@router.get("/documents/{document_id}")
async def viewer_page(document_id: str, request: Request) -> HTMLResponse:
    """The whole document: title, table of contents, one anchor per clause (id = clause number)."""
    assistant = request.app.state.assistant
    if not assistant.ready:
        return HTMLResponse(
            _not_ready_page(),
            status_code=503,
            headers={"Retry-After": "5", "Cache-Control": "no-store"},
        )
    documents = assistant.documents()
    document = next((doc for doc in documents if doc["id"] == document_id), None)
    if document is None:
        return HTMLResponse(_not_found_page(document_id, documents), status_code=404)
    clauses = assistant.document_clauses(document_id)
    editions = _editions(assistant, document, documents)
    return HTMLResponse(_viewer_page(document, clauses, editions))


# -- rendering ------------------------------------------------------------------------------------

_LABELS = {
    "en": {
        "contents": "Contents",
        "search": "Search the guidance",
        "skip": "Skip to the text",
        "clauses": "clauses",
        "page": "p.",
        "pages": "pp.",
        "edition": "Other editions",
        "permalink": "Link to this clause",
        "not_found_title": "Document not found",
        "not_found": "There is no document called “{id}”.",
        "available": "Documents you can open:",
        "loading_title": "The guidance is loading",
        "loading": "The guidance index is still loading. This page reloads by itself in a few seconds.",
        "lang_names": {"zh": "中文", "en": "English"},
    },
    "zh": {
        "contents": "目录",
        "search": "检索指导要求",
        "skip": "跳到正文",
        "clauses": "个条款",
        "page": "第",
        "pages": "第",
        "edition": "其他版本",
        "permalink": "本条款链接",
        "not_found_title": "没有找到文件",
        "not_found": "没有名为“{id}”的文件。",
        "available": "可以打开的文件：",
        "loading_title": "正在加载指导要求",
        "loading": "索引仍在加载，本页会在几秒后自动刷新。",
        "lang_names": {"zh": "中文", "en": "English"},
    },
}


def _labels(lang: str) -> dict:
    return _LABELS["zh" if lang.startswith("zh") else "en"]


def _page_text(clause: Clause, lang: str) -> str:
    start, end = clause.page_start, clause.page_end
    if start is None:
        return ""
    if lang.startswith("zh"):
        return f"第 {start} 页" if end in (None, start) else f"第 {start}–{end} 页"
    return f"p. {start}" if end in (None, start) else f"pp. {start}–{end}"


@dataclass
class _Node:
    label: str
    clause: Clause | None = None
    anchor: str | None = None
    children: list["_Node"] = field(default_factory=list)

    def child(self, label: str) -> "_Node":
        for node in self.children:
            if node.label == label:
                return node
        node = _Node(label)
        self.children.append(node)
        return node


def _outline(clauses: list[Clause]) -> _Node:
    """A tree from the clauses' title paths; headings without a body of their own (a chapter,
    say) become nodes with no clause."""
    root = _Node("")
    for clause in clauses:
        node = root
        for label in clause.path[:-1]:
            node = node.child(label)
        own = clause.path[-1] if clause.path else f"{clause.number} {clause.title}".strip()
        existing = next((n for n in node.children if n.label == own and n.clause is None), None)
        if existing is None:
            existing = _Node(own)
            node.children.append(existing)
        existing.clause = clause
    # Anchors: a clause's own number; a bare heading gets its leading number when free.
    taken = {clause.number for clause in clauses}
    used: set[str] = set()

    def assign(node: _Node) -> None:
        for child in node.children:
            if child.clause is not None:
                if child.clause.number not in used:  # ids stay unique even if a number repeats
                    child.anchor = child.clause.number
                    used.add(child.anchor)
            else:
                number = child.label.split(maxsplit=1)[0] if child.label.strip() else ""
                if number and re.match(r"^[\w.()（）¶-]+$", number) and number not in taken:
                    child.anchor = number
                    taken.add(number)
            assign(child)

    assign(root)
    return root


def _heading_text(node: _Node) -> tuple[str, str]:
    if node.clause is not None:
        number, title = node.clause.number, node.clause.title
        return ("", title) if number == title else (number, title)  # "前言 前言" reads once
    parts = node.label.split(maxsplit=1)
    if len(parts) == 2 and node.anchor == parts[0]:
        return parts[0], parts[1]
    return "", node.label


def _href(document_id: str, anchor: str) -> str:
    return f"{quote(document_id, safe='')}#{quote(anchor, safe='.-_()¶')}"


def _toc(node: _Node, depth: int = 0) -> str:
    if not node.children:
        return ""
    items = []
    for child in node.children:
        number, title = _heading_text(child)
        text = (f'<span class="toc-num">{escape(number)}</span> ' if number else "") + escape(title)
        if child.anchor:
            entry = f'<a href="#{escape(quote(child.anchor, safe=".-_()¶"))}">{text}</a>'
        else:
            entry = f"<span>{text}</span>"
        items.append(f"<li>{entry}{_toc(child, depth + 1)}</li>")
    return f'<ol class="toc-level-{min(depth, 3)}">' + "".join(items) + "</ol>"


def _sections(node: _Node, document: dict, editions: list[dict], depth: int = 1) -> str:
    out = []
    lang = document["lang"]
    labels = _labels(lang)
    for child in node.children:
        level = min(depth + 1, 6)
        number, title = _heading_text(child)
        anchor_attr = f' id="{escape(child.anchor)}"' if child.anchor else ""
        num_html = ""
        if number:
            if child.anchor:
                num_html = (
                    f'<a class="clause-num" href="#{escape(quote(child.anchor, safe=".-_()¶"))}" '
                    f'title="{escape(labels["permalink"])}">{escape(number)}</a> '
                )
            else:
                num_html = f'<span class="clause-num">{escape(number)}</span> '
        heading = f'<h{level} class="clause-heading">{num_html}<span class="clause-title">{escape(title)}</span></h{level}>'
        body = ""
        clause = child.clause
        if clause is not None:
            crumbs = " › ".join(escape(part) for part in clause.path[:-1])
            meta_bits = []
            if crumbs:
                meta_bits.append(f'<span class="clause-path">{crumbs}</span>')
            page = _page_text(clause, lang)
            if page:
                meta_bits.append(f'<span class="clause-pages">{escape(page)}</span>')
            for edition in editions:
                if clause.number in edition["numbers"]:
                    meta_bits.append(
                        f'<a class="clause-edition" hreflang="{escape(edition["lang"])}" '
                        f'href="{escape(_href(edition["id"], clause.number))}">'
                        f'{escape(edition["label"])}</a>'
                    )
            meta = f'<p class="clause-meta">{" · ".join(meta_bits)}</p>' if meta_bits else ""
            paragraphs = [p.strip() for p in re.split(r"\n+", clause.text) if p.strip()]
            text = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
            body = f'{meta}<div class="clause-text">{text}</div>'
            kind = "clause"
        else:
            kind = "heading-only"
        inner = _sections(child, document, editions, depth + 1)
        data = f' data-clause-id="{escape(clause.id)}"' if clause is not None else ""
        out.append(
            f'<section class="clause {kind} depth-{min(depth, 4)}"{anchor_attr}{data}>{heading}{body}{inner}</section>'
        )
    return "".join(out)


def _editions(assistant, document: dict, documents: list[dict]) -> list[dict]:
    """Other documents that use the same clause numbers (the other language edition)."""
    mine = {clause.number for clause in assistant.document_clauses(document["id"])}
    numbered = {n for n in mine if n[:1].isdigit()}
    names = _labels(document["lang"])["lang_names"]
    editions = []
    for other in documents:
        if other["id"] == document["id"]:
            continue
        numbers = {clause.number for clause in assistant.document_clauses(other["id"])}
        if numbered and len(numbered & numbers) >= max(3, len(numbered) // 2):
            label = names.get(other["lang"], other["lang"]) if other["lang"] != document["lang"] else other["title"]
            editions.append({"id": other["id"], "lang": other["lang"], "label": label, "title": other["title"],
                             "numbers": numbers})
    return editions


def _shell(lang: str, title: str, body: str, *, depth: int = 1, extra_head: str = "", body_class: str = "") -> str:
    up = "../" * depth
    return (
        "<!doctype html>\n"
        f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{escape(title)}</title>\n"
        f'<link rel="stylesheet" href="{up}static/pages.css">\n{extra_head}'
        f'</head>\n<body class="{escape(body_class)}">\n{body}\n</body>\n</html>\n'
    )


def _topbar(labels: dict, up: str, extra: str = "") -> str:
    return (
        f'<header class="topbar"><a class="brand" href="{up}search">'
        f'<span class="brand-mark" aria-hidden="true">§</span>{escape(labels["search"])}</a>{extra}</header>'
    )


def _viewer_page(document: dict, clauses: list[Clause], editions: list[dict]) -> str:
    lang = document["lang"]
    labels = _labels(lang)
    tree = _outline(clauses)
    edition_links = ""
    if editions:
        links = " ".join(
            f'<a hreflang="{escape(e["lang"])}" href="{escape(quote(e["id"], safe=""))}">{escape(e["label"])}</a>'
            for e in editions
        )
        edition_links = f'<nav class="editions" aria-label="{escape(labels["edition"])}">{links}</nav>'
    count = f'{len(clauses)} {labels["clauses"]}'
    meta = " · ".join(escape(part) for part in (document["id"], document["source"], count))
    body = (
        f'<a class="skip" href="#content">{escape(labels["skip"])}</a>'
        + _topbar(labels, "../", edition_links)
        + '<div class="viewer-layout">'
        + f'<nav class="toc" aria-labelledby="toc-title"><h2 id="toc-title" class="toc-title">{escape(labels["contents"])}</h2>'
        + _toc(tree)
        + "</nav>"
        + f'<main id="content" class="document" data-document="{escape(document["id"])}">'
        + f'<h1 class="doc-title">{escape(document["title"])}</h1><p class="doc-meta">{meta}</p>'
        + _sections(tree, document, editions)
        + "</main></div>"
    )
    return _shell(lang, document["title"], body, body_class="viewer-page")


def _not_found_page(document_id: str, documents: list[dict]) -> str:
    labels = _labels("en")
    items = "".join(
        f'<li><a href="{escape(quote(doc["id"], safe=""))}">{escape(doc["title"])}</a> '
        f'<span class="muted">({escape(doc["id"])})</span></li>'
        for doc in documents
    )
    body = (
        _topbar(labels, "../")
        + '<main class="message-page">'
        + f'<h1>{escape(labels["not_found_title"])}</h1>'
        + f'<p>{escape(labels["not_found"].format(id=document_id))}</p>'
        + (f'<p>{escape(labels["available"])}</p><ul>{items}</ul>' if items else "")
        + "</main>"
    )
    return _shell("en", labels["not_found_title"], body, body_class="message")


def _not_ready_page() -> str:
    labels = _labels("en")
    body = (
        _topbar(labels, "../")
        + f'<main class="message-page"><h1>{escape(labels["loading_title"])}</h1><p>{escape(labels["loading"])}</p></main>'
    )
    return _shell("en", labels["loading_title"], body, extra_head='<meta http-equiv="refresh" content="5">\n',
                  body_class="message")
