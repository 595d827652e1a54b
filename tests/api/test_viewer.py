"""The viewer page and the document routes, rendered from the templates (fake embedder, no browser)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from assistant import outline
from assistant.api.app import create_app
from assistant.records import Clause


def _clause(number: str, text: str, path: list[str] | None = None) -> Clause:
    return Clause(id=f"d:{number}", document="d", number=number, title="T", path=path or [f"{number} T"],
                  text=text, page_start=None, page_end=None, lang="zh")


def test_cross_references_link_clause_numbers_but_not_quantities():
    numbers = {"4.3", "11.7.4", "5.3.1"}
    pieces = outline.cross_references("按11.7.4的规定，见4.3；保存3.5天，see 5.3.1, version 4.3.1.2, 9.9", numbers)
    assert [ref for _, ref in pieces if ref] == ["11.7.4", "4.3", "5.3.1"]
    assert "".join(text for text, _ in pieces) == "按11.7.4的规定，见4.3；保存3.5天，see 5.3.1, version 4.3.1.2, 9.9"
    assert outline.cross_references("4.3 hours later", numbers) == [("4.3 hours later", None)]
    assert outline.cross_references("", numbers) == [("", None)]


def test_paragraph_offsets_point_into_the_clause_text():
    text = "first line\n  second line \n\nthird"
    for start, paragraph in outline.paragraphs(text):
        assert text[start:start + len(paragraph)] == paragraph
    assert [p for _, p in outline.paragraphs(text)] == ["first line", "second line", "third"]


def test_outline_nests_clauses_under_bare_headings():
    tree = outline.outline([
        _clause("4.1", "a", ["4 Planning", "4.1 T"]),
        _clause("4.2", "b", ["4 Planning", "4.2 T"]),
    ])
    (chapter,) = tree.children
    assert chapter.clause is None and chapter.anchor == "4" and chapter.heading == ("4", "Planning")
    assert [child.anchor for child in chapter.children] == ["4.1", "4.2"]


def test_viewer_page_is_escaped_linked_cached_and_has_no_inline_code(fake_settings, fake_assistant):
    app = create_app(fake_settings, fake_assistant)
    with TestClient(app) as client:
        page = client.get("/documents/ccso-en")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        assert '<section class="clause clause-body depth-2" id="4.5"' in html
        # "in accordance with 4.3" (in 4.2) is a link to clause 4.3; "6.2", absent here, is not.
        assert re.search(r'accordance with <a class="xref" href="#4.3">4.3</a>', html)
        assert 'href="#6.2"' not in html
        assert 'class="clause-num" href="#4.5"' in html
        assert "<script src=\"../static/viewer.js\" defer></script>" in html
        assert not re.search(r"<script(?![^>]*src=)", html) and " style=" not in html
        assert client.get("/documents/ccso-en").text == html  # same version: the cached page
        assert app.state.viewer_cache.get((fake_assistant.status()["version"], "ccso-en")) == html

        missing = client.get("/documents/<b>nope")
        assert missing.status_code == 404
        assert "&lt;b&gt;nope" in missing.text and "<b>nope" not in missing.text
        assert 'href="ccso-zh"' in missing.text

        assert client.get("/api/documents/ccso-zh/clauses").json()["document"]["id"] == "ccso-zh"
        chapters = client.get("/api/chapters").json()
        assert any(c["document"] == "ccso-en" and c["number"] == "4" and c["clauses"] > 3 for c in chapters)


def test_viewer_is_rate_limited_like_the_search(fake_settings, fake_assistant):
    settings = fake_settings.model_copy(update={"rate_limit": "1/minute", "search_rate_limit": "2/minute"})
    with TestClient(create_app(settings, fake_assistant)) as client:
        assert client.get("/documents/ccso-zh").status_code == 200
        assert client.get("/documents/ccso-zh").status_code == 200
        refused = client.get("/documents/ccso-zh")
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "Too many" in refused.text


def test_viewer_says_when_the_index_is_still_loading(fake_settings):
    from assistant.embedding import FakeEmbedder
    from assistant.service import Assistant

    app = create_app(fake_settings, Assistant(fake_settings, embedder=FakeEmbedder()))
    client = TestClient(app)  # no lifespan: the index is never opened
    page = client.get("/documents/ccso-zh")
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5" and page.headers["cache-control"] == "no-store"
    assert '<meta http-equiv="refresh" content="5">' in page.text
    assert "still loading" in page.text


def test_viewer_says_unavailable_without_reloading_when_the_index_cannot_be_loaded(fake_settings):
    from assistant.embedding import FakeEmbedder
    from assistant.service import Assistant

    app = create_app(fake_settings, Assistant(fake_settings, embedder=FakeEmbedder()))
    client = TestClient(app)  # no lifespan: the index is never opened
    app.state.load_error = "the index in index/ is damaged: checksum mismatch"
    page = client.get("/documents/ccso-zh")
    assert page.status_code == 503
    assert page.headers["retry-after"] == "300" and page.headers["cache-control"] == "no-store"
    assert 'http-equiv="refresh"' not in page.text
    assert "unavailable" in page.text and "still loading" not in page.text
    assert "checksum" not in page.text  # the public page does not say what is wrong or where


def test_the_viewer_links_the_other_edition_by_the_rule_citations_use(fake_settings, fake_assistant):
    family = fake_assistant.editions()
    assert family.others_of("ccso-zh") == ("ccso-en",) and family.others_of("ccso-en") == ("ccso-zh",)
    with TestClient(create_app(fake_settings, fake_assistant)) as client:
        html = client.get("/documents/ccso-zh").text
        # The top bar names the other edition once; a clause links to its counterpart there.
        assert re.search(r'<nav class="editions"[^>]*><a hreflang="en" lang="en" href="ccso-en">English</a></nav>', html)
        assert 'class="clause-edition" hreflang="en" lang="en" href="ccso-en#4.5">English</a>' in html
        ask = client.post("/api/ask", json={"question": "第4.5条"}).json()
    cited = next(c for c in ask["citations"] if c["clause"] == "4.5")
    assert [o["id"] for o in cited["also_in"]] == ["ccso-en:4.5"]  # the same pair the viewer links


def test_a_same_language_document_sharing_clause_numbers_is_not_an_edition():
    from assistant.editions import Editions

    def clauses(document, lang, numbers):
        return [Clause(id=f"{document}:{n}", document=document, number=n, title="T", path=[f"{n} T"], text="x",
                       page_start=None, page_end=None, lang=lang) for n in numbers]

    numbers = ["1", "1.1", "1.2", "2", "2.1"]
    family = Editions(clauses("a", "zh", numbers) + clauses("b", "zh", numbers) + clauses("c", "en", numbers[:4]))
    assert family.others_of("a") == ("c",) and family.others_of("b") == ("c",)
    assert family.others_of("c") == ("a", "b")
    assert family.counterpart(clauses("a", "zh", ["2.1"])[0], "c") is None  # c has no 2.1
