"""The internal search page and the guidance viewer, in a real browser against the real server."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

RESULT = "#results > li.result"


def attrs(page, name: str) -> list[str]:
    return page.locator(RESULT).evaluate_all(f"els => els.map(e => e.getAttribute('{name}'))")


def query_of(page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


def test_search_filters_change_the_results_and_the_url(stack, open_page, screenshot_dir):
    page, _ = open_page(1280, 800, "zh-CN")
    page.goto(f"{stack.api}/search?q=培训 training")
    results = page.locator(RESULT)
    expect(results.first).to_be_visible()
    assert set(attrs(page, "data-document")) == {"ccso-zh", "ccso-en"}  # both editions match
    ids = attrs(page, "data-id")
    assert len(ids) == len(set(ids)), "one result per clause"
    # The query's words are highlighted: Chinese runs shared with the query, English word stems.
    marks = {m.lower() for m in page.locator(f"{RESULT} .result-text mark").all_inner_texts()}
    assert "培训" in marks
    assert any(m.startswith("train") for m in marks)

    page.get_by_label("文件").select_option("ccso-en")
    expect(page).to_have_url(re.compile(r"document=ccso-en"))
    expect(page.locator(f'{RESULT}:not([data-document="ccso-en"])')).to_have_count(0)
    expect(results.first).to_be_visible()

    page.get_by_label("文件").select_option("")
    page.get_by_label("语言").select_option("zh")
    expect(page.locator(f'{RESULT}:not([data-lang="zh"])')).to_have_count(0)
    expect(results.first).to_be_visible()
    assert query_of(page) == {"q": "培训 training", "lang": "zh"}

    chapter = page.get_by_label("章")
    expect(chapter.locator('option[value="5"]')).to_have_text("5 人员管理")
    chapter.select_option("5")
    # Chapter 5's clauses, and chapter 5 itself as a section (a heading without a body, h5).
    expect(page.locator(f"{RESULT}:not([data-number^='5.']):not([data-number='5'])")).to_have_count(0)
    expect(results.first).to_be_visible()
    assert query_of(page) == {"q": "培训 training", "lang": "zh", "chapter": "5"}
    numbers = attrs(page, "data-number")

    # The URL is the state: reloading (or sharing it) restores the query, filters and results.
    page.reload()
    expect(page.locator("#q")).to_have_value("培训 training")
    expect(page.get_by_label("语言")).to_have_value("zh")
    expect(page.get_by_label("章")).to_have_value("5")
    expect(results.first).to_be_visible()
    assert attrs(page, "data-number") == numbers
    page.screenshot(path=str(screenshot_dir / "search-desktop.png"), animations="disabled")

    # Each result opens the clause in the viewer.
    first = results.first
    href = first.locator("a.result-num").get_attribute("href")
    assert href == f"documents/ccso-zh#{first.get_attribute('data-number')}"


def test_results_that_arrive_before_the_document_list_get_the_titles_once_it_does(stack, open_page):
    page, _ = open_page(1280, 800, "zh-CN")

    def slow_documents(route):
        page.wait_for_timeout(1500)  # the search answers first
        route.continue_()

    page.route("**/api/documents", slow_documents)
    page.goto(f"{stack.api}/search?q=培训&lang=zh")
    meta = page.locator(f"{RESULT} .result-meta").first
    expect(meta).to_contain_text("呼叫中心服务质量和运营管理指导要求")
    expect(meta).not_to_contain_text("ccso-zh")


def test_search_as_you_type_debounces_and_drops_stale_answers(stack, open_page, screenshot_dir):
    page, _ = open_page(375, 740, "en-US")
    sent: list[str] = []
    aborted: list[str] = []
    held = []

    def hold_first(route):
        # Hold the first search until a newer one has been answered: its late answer must not win.
        if not held:
            held.append(route)
        else:
            route.continue_()

    page.on("request", lambda r: "/api/search" in r.url and sent.append(r.url))
    page.on("requestfailed", lambda r: "/api/search" in r.url and aborted.append(r.url))
    page.goto(f"{stack.api}/search?lang=en")
    expect(page.get_by_label("Language")).to_have_value("en")
    page.route(re.compile(r".*/api/search\?.*"), hold_first)

    box = page.get_by_role("searchbox")
    box.press_sequentially("super", delay=30)
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the first search was not sent"
    box.press_sequentially("visor coaching", delay=30)
    results = page.locator(RESULT)
    expect(page.locator("#results")).to_have_attribute("data-query", "supervisor coaching")
    expect(results.first).to_be_visible()
    try:
        held[0].continue_()  # the stale request was aborted by the page; releasing it is harmless
    except Exception:
        pass
    page.wait_for_timeout(400)
    expect(page.locator("#results")).to_have_attribute("data-query", "supervisor coaching")
    assert any("q=super&" in url for url in aborted), aborted
    assert len(sent) <= 6, f"{len(sent)} requests for 19 keystrokes: not debounced"
    assert query_of(page) == {"q": "supervisor coaching", "lang": "en"}
    expect(page.locator(f'{RESULT}:not([data-lang="en"])')).to_have_count(0)
    marks = {m.lower() for m in page.locator(f"{RESULT} mark").all_inner_texts()}
    assert marks & {"supervisor", "supervisors", "coaching"}, marks
    page.unroute(re.compile(r".*/api/search\?.*"))
    page.screenshot(path=str(screenshot_dir / "search-phone.png"), animations="disabled")

    # Clearing the box clears the results and the URL's query.
    box.fill("")
    expect(results).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/search\?lang=en$"))


def test_viewer_lands_on_the_clause_named_in_the_url(stack, open_page, screenshot_dir):
    page, _ = open_page(1280, 800, "zh-CN")
    response = page.goto(f"{stack.api}/documents/ccso-zh#4.5")
    assert response.status == 200
    expect(page.locator("h1")).to_have_text("呼叫中心服务质量和运营管理指导要求（试行本）（示例文本）")
    target = page.locator('[id="4.5"]')
    expect(target).to_be_in_viewport()
    assert target.evaluate("e => e.matches(':target')")
    expect(target.locator(".clause-heading")).to_have_text("4.5 企业高层领导支持")
    expect(target.locator(".clause-meta")).to_contain_text("4 规划及发展方向")
    highlighted = target.evaluate("e => getComputedStyle(e).backgroundColor")
    plain = page.locator('[id="4.4"]').evaluate("e => getComputedStyle(e).backgroundColor")
    assert highlighted != plain
    page.screenshot(path=str(screenshot_dir / "viewer-desktop.png"), animations="disabled")

    # The table of contents has every clause; following it moves the highlight.
    toc = page.get_by_role("navigation", name="目录")
    assert toc.locator("a").count() >= 40
    toc.locator('a[href="#5.3.2"]').click()
    expect(page).to_have_url(re.compile(r"#5\.3\.2$"))
    assert page.locator('[id="5.3.2"]').evaluate("e => e.matches(':target')")
    assert not target.evaluate("e => e.matches(':target')")

    # The same clause in the other edition.
    page.locator('[id="5.3.2"] a.clause-edition').click()
    expect(page).to_have_url(re.compile(r"/documents/ccso-en#5\.3\.2$"))
    expect(page.locator('[id="5.3.2"]')).to_be_in_viewport()


def test_viewer_says_when_a_document_does_not_exist(stack, open_page):
    page, _ = open_page(1280, 800, "en-US")
    response = page.goto(f"{stack.api}/documents/no-such-guidance#4.5")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Document not found")
    expect(page.locator("main")).to_contain_text("no-such-guidance")
    expect(page.get_by_role("link", name=re.compile("Call Center Service Quality"))).to_have_attribute("href", "ccso-en")


def test_page_routes_over_http(stack):
    widget = httpx.get(f"{stack.api}/widget.js")
    assert widget.status_code == 200
    assert widget.headers["content-type"].startswith("text/javascript")
    assert widget.headers["cross-origin-resource-policy"] == "cross-origin"
    search_js = httpx.get(f"{stack.api}/static/search.js")
    assert search_js.status_code == 200
    for script in (widget.text, search_js.text):  # server text goes in as text, never as markup
        assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function",
                             script)

    for path in ("/search", "/documents/ccso-zh"):
        page = httpx.get(f"{stack.api}{path}")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        for tag in re.findall(r"<[a-zA-Z][^>]*>", page.text):
            bare = re.sub(r'"[^"]*"', '""', tag)  # attribute names only
            assert not re.search(r"\s(on[a-z]+|style)\s*=", bare), tag
            assert not (tag.startswith("<script") and "src=" not in tag), tag

    clauses = httpx.get(f"{stack.api}/api/documents/ccso-zh/clauses").json()
    numbers = [clause["number"] for clause in clauses["clauses"]]
    assert clauses["document"]["id"] == "ccso-zh"
    assert numbers.index("4.4") + 1 == numbers.index("4.5")  # document order
    assert httpx.get(f"{stack.api}/api/documents/nope/clauses").status_code == 404

    chapters = httpx.get(f"{stack.api}/api/chapters").json()
    assert {"document": "ccso-zh", "lang": "zh", "number": "4", "title": "规划及发展方向", "clauses": 10} in chapters
    assert [c["number"] for c in chapters if c["document"] == "ccso-en"] == ["1", "2", "3", "4", "5"]
