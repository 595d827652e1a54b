"""The public document routes: the document list, one clause, a document's clauses in order,
the chapters (for the search page's filter), and the viewer page /documents/{id}.

The viewer is rendered on the server from Jinja templates (autoescaped) so that a link such as
/documents/ccso-zh#4.5 lands on the clause with no script at all; viewer.js only adds the
reading aids (quoted sentences, the contents list following the reader, unknown anchors). The
page depends on the index version alone, so it is rendered once per version, in the thread
pool (a long document takes tens of milliseconds), and rate-limited like /api/search."""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from assistant import outline
from assistant.editions import Editions
from assistant.api.deps import AssistantDep, index_state
from assistant.api.ratelimit import TokenBuckets
from assistant.api.schemas import ClauseOut, DocumentOut, ErrorOut

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
PAGE_CACHE_SIZE = 16  # rendered viewer pages kept (documents × index versions)

router = APIRouter()


# -- JSON -----------------------------------------------------------------------------------------


class DocumentClausesOut(BaseModel):
    document: DocumentOut
    clauses: list[ClauseOut] = Field(description="Every clause of the document, in document order.")


class ChapterOut(BaseModel):
    document: str
    lang: str
    number: str = Field(description="The chapter number, the first number of its clauses (e.g. `4`).")
    title: str
    clauses: int


def find_document(assistant, document_id: str) -> dict | None:
    return next((doc for doc in assistant.documents() if doc["id"] == document_id), None)


@router.get("/api/documents", response_model=list[DocumentOut], tags=["documents"])
async def list_documents(assistant: AssistantDep) -> list[dict]:
    """The indexed documents."""
    return assistant.documents()


@router.get("/api/clauses/{clause_id}", response_model=ClauseOut, responses={404: {"model": ErrorOut}},
            tags=["documents"])
async def get_clause(clause_id: str, assistant: AssistantDep) -> dict:
    """One clause by id, e.g. `ccso-zh:4.5`."""
    clause = assistant.clause(clause_id)
    if clause is None:
        raise HTTPException(status_code=404, detail=f"no clause {clause_id!r}" + _id_hint(assistant, clause_id))
    return asdict(clause)


def _id_hint(assistant, clause_id: str) -> str:
    # `4.5` alone is the natural first try; the ids that carry that number are what was meant.
    if ":" in clause_id:
        return ""
    ids = [f"{doc['id']}:{clause_id}" for doc in assistant.documents()]
    found = [i for i in ids if assistant.clause(i) is not None]
    return f"; clause ids name their document: {', '.join(found)}" if found else \
        "; clause ids are <document id>:<clause number> (GET /api/documents lists the documents)"


@router.get(
    "/api/documents/{document_id}/clauses",
    response_model=DocumentClausesOut,
    responses={404: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    tags=["documents"],
)
async def document_clauses(document_id: str, assistant: AssistantDep) -> dict:
    """A document and all its clauses in document order (what the viewer shows)."""
    document = find_document(assistant, document_id)
    if document is None:
        raise HTTPException(status_code=404, detail=f"no document {document_id!r}")
    return {"document": document, "clauses": [asdict(c) for c in assistant.document_clauses(document_id)]}


@router.get("/api/chapters", response_model=list[ChapterOut], responses={503: {"model": ErrorOut}},
            tags=["documents"])
async def chapters(assistant: AssistantDep) -> list[dict]:
    """The numbered chapters of every document, in document order (for filtering by chapter)."""
    out: list[dict] = []
    for document in assistant.documents():
        out.extend(outline.chapters(document, assistant.document_clauses(document["id"])))
    return out


# -- the viewer page ------------------------------------------------------------------------------

_LABELS = {
    "en": {
        "contents": "Contents",
        "search": "Search the guidance",
        "skip": "Skip to the text",
        "clauses": "clauses",
        "edition": "Other editions",
        "permalink": "Link to this clause",
        "background": "Background, not guidance",
        "missing": "There is no clause “{n}” in this document. Pick one from the contents.",
        "not_found_title": "Document not found",
        "not_found": "There is no document called “{id}”.",
        "available": "Documents you can open:",
        "loading_title": "The guidance is loading",
        "loading": "The guidance index is still loading. This page reloads by itself in a few seconds.",
        "unavailable_title": "The guidance is unavailable",
        "unavailable": "The guidance index cannot be loaded just now; the operators have been told. Try again later.",
        "limited_title": "Too many requests",
        "limited": "Too many pages were asked for from your address. Wait {s} s and reload.",
    },
    "zh": {
        "contents": "目录",
        "search": "检索指导要求",
        "skip": "跳到正文",
        "clauses": "个条款",
        "edition": "其他版本",
        "permalink": "本条款链接",
        "background": "背景资料，非指导要求",
        "missing": "本文件中没有条款“{n}”。请从目录中选择。",
        "not_found_title": "没有找到文件",
        "not_found": "没有名为“{id}”的文件。",
        "available": "可以打开的文件：",
        "loading_title": "正在加载指导要求",
        "loading": "索引仍在加载，本页会在几秒后自动刷新。",
        "unavailable_title": "指导要求暂时无法使用",
        "unavailable": "索引暂时无法加载，已通知运维人员。请稍后再试。",
        "limited_title": "请求过于频繁",
        "limited": "请求过于频繁，请等待 {s} 秒后刷新。",
    },
}
_LANG_NAMES = {"zh": "中文", "en": "English"}


def _labels(lang: str) -> dict:
    return _LABELS["zh" if lang.startswith("zh") else "en"]


def _href(document_id: str, anchor: str) -> str:
    return f"{quote(document_id, safe='')}#{quote(anchor, safe='.-_()¶')}"


def render_viewer(document: dict, clauses: list, documents: list[dict], family: Editions) -> str:
    lang = document["lang"]
    t = _labels(lang)
    tree = outline.outline(clauses)
    numbers = outline.anchors(tree)
    others = set(family.others_of(document["id"]))
    editions = [{"id": d["id"], "lang": d["lang"], "label": _LANG_NAMES.get(d["lang"], d["lang"])}
                for d in documents if d["id"] in others]
    meta: dict[str, dict] = {}
    paragraphs: dict[str, list] = {}
    for clause in clauses:
        counterparts = ((e, family.counterpart(clause, e["id"])) for e in editions)
        meta[clause.id] = {
            "crumbs": list(clause.path[:-1]),
            "pages": outline.pages_text(outline.page_label(clause), lang),
            "editions": [{"lang": e["lang"], "label": e["label"], "href": _href(e["id"], other.number)}
                         for e, other in counterparts if other is not None],
        }
        paragraphs[clause.id] = [(start, outline.cross_references(text, numbers))
                                 for start, text in outline.paragraphs(clause.text)]
    return templates.get_template("viewer.html").render(
        lang=lang, title=document["title"], up="../", body_class="viewer-page", t=t, document=document,
        editions=editions, tree=tree, count=len(clauses), view={"meta": meta, "paragraphs": paragraphs},
    )


def _message(status: int, lang: str, heading: str, message: str, *, documents=(), refresh: int | None = None,
             headers: dict | None = None) -> HTMLResponse:
    html = templates.get_template("message.html").render(
        lang=lang, title=heading, up="../", body_class="message", t=_labels(lang), heading=heading,
        message=message, documents=list(documents), refresh=refresh, editions=[],
    )
    return HTMLResponse(html, status_code=status, headers=headers)


class _PageCache:
    """Rendered pages by (index version, document id); the oldest are dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, str], page: str) -> None:
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


_state_lock = threading.Lock()


def _app_state(request: Request) -> tuple[_PageCache, TokenBuckets | None]:
    """The page cache and the rate limiter's buckets, one per application."""
    state = request.app.state
    with _state_lock:
        if not hasattr(state, "viewer_cache"):
            state.viewer_cache = _PageCache(PAGE_CACHE_SIZE)
            # The same rate as /api/search (security.install sets it): a page is as costly as a search.
            rate = getattr(state, "search_rate_limit", None)
            state.viewer_buckets = TokenBuckets(rate) if rate is not None else None
        return state.viewer_cache, state.viewer_buckets


@router.get("/documents/", include_in_schema=False)
async def documents_index() -> RedirectResponse:
    return RedirectResponse("../search", status_code=307)


@router.get("/documents/{document_id}", include_in_schema=False)
def viewer_page(document_id: str, request: Request) -> HTMLResponse:
    """The whole document: title, contents, one anchor per clause (id = clause number). A plain
    def: FastAPI runs it in the thread pool, so rendering never blocks the event loop."""
    cache, buckets = _app_state(request)
    if buckets is not None:
        client = request.client.host if request.client else "unknown"
        wait = buckets.take(client)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            t = _labels("en")
            return _message(429, "en", t["limited_title"], t["limited"].format(s=seconds),
                            headers={"Retry-After": str(seconds), "Cache-Control": "no-store"})
    assistant = request.app.state.assistant
    if not assistant.ready:
        t = _labels("en")
        if index_state(request.app) == "unavailable":
            # A damaged index is not "loading": reloading every few seconds would never end.
            return _message(503, "en", t["unavailable_title"], t["unavailable"],
                            headers={"Retry-After": "300", "Cache-Control": "no-store"})
        return _message(503, "en", t["loading_title"], t["loading"], refresh=5,
                        headers={"Retry-After": "5", "Cache-Control": "no-store"})
    version = str(assistant.status().get("version", ""))
    key = (version, document_id)
    page = cache.get(key)
    if page is None:
        documents = assistant.documents()
        document = next((doc for doc in documents if doc["id"] == document_id), None)
        if document is None:
            t = _labels("en")
            return _message(404, "en", t["not_found_title"], t["not_found"].format(id=document_id),
                            documents=documents)
        page = render_viewer(document, assistant.document_clauses(document_id), documents, assistant.editions())
        cache.put(key, page)
    return HTMLResponse(page)
