"""Clause-number lookups in the widget (issue 13 item 6): a number the guidance lacks is refused
with the nearest clauses offered, and a chapter opens as a section with its clauses listed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser_background import ask, open_widget
from tests.browser.test_browser_pages import search_json

pytestmark = pytest.mark.browser


def test_a_missing_clause_number_is_refused_with_the_nearest_clauses(stack, open_page):
    page, _ = open_page(1280, 800, "en-US")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en")
    data = ask(page, dialog, textbox, "clause 99.9", stack.api)
    assert data["abstained"] and data["reason"].startswith("no clause 99.9 in ccso-en; nearest:"), data["reason"]
    assert data["suggestions"], "the nearest clauses are offered"
    answer = dialog.locator(".a").last
    expect(answer).to_have_attribute("data-state", "abstained")
    links = answer.locator(".suggest a")
    expect(links).to_have_count(len(data["suggestions"]))
    for link, suggestion in zip(links.all(), data["suggestions"]):
        assert link.get_attribute("href") == stack.api + suggestion["link"]
        expect(link).to_contain_text(suggestion["clause"])


@pytest.mark.parametrize("question, section", [("Chapter 4", "ccso-en:4"), ("第四章", "ccso-zh:4")])
def test_a_chapter_lookup_cites_the_chapter_as_a_section_with_its_clauses(stack, open_page, question, section):
    page, _ = open_page(1280, 800, "en-US")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en")
    data = ask(page, dialog, textbox, question, stack.api)
    assert not data["abstained"] and data["citations"][0]["id"] == section
    children = data["citations"][0]["children"]
    assert children and all(child["clause"].startswith("4.") for child in children)
    chip = dialog.locator(f'button.chip[data-clause-id="{section}"]')
    chip.click()
    detail = dialog.locator(f"#{chip.get_attribute('aria-controls')}")
    expect(detail.locator(".cite-children a")).to_have_count(len(children))
    for child in children:
        expect(detail.locator(f'.cite-children a[href="{stack.api + child["link"]}"]')).to_contain_text(child["clause"])


@pytest.mark.parametrize("locale, query, said, nearest_label", [
    ("en-US", "clause 99.9", "There is no clause 99.9 in", "Nearest clauses:"),
    ("zh-CN", "第99.9条", "中没有第99.9条。", "最接近的条款："),
    # The unit is said as asked: a chapter stays a chapter, in the page's language.
    ("zh-CN", "第二十章", "中没有第20章。", "最接近的章："),
    ("en-US", "第二十章", "There is no chapter 20 in", "Nearest chapters:"),
])
def test_the_search_page_says_a_missing_clause_and_its_nearest(stack, open_page, axe_source, locale, query, said,
                                                                 nearest_label):
    from tests.support.axe import axe_problems

    data = search_json(stack, query)
    assert data["missing"] and data["missing"]["nearest"], data.get("missing")
    page, _ = open_page(1280, 800, locale)
    page.goto(f"{stack.api}/search?q={query}")
    notice = page.locator("#missing")
    expect(notice).to_be_visible()
    expect(notice.locator(".missing-text")).to_contain_text(said)
    expect(notice.locator(".missing-nearest")).to_contain_text(nearest_label)
    links = notice.locator(".missing-nearest a")
    expect(links).to_have_count(len(data["missing"]["nearest"]))
    for link, near in zip(links.all(), data["missing"]["nearest"]):
        assert link.get_attribute("href") == near["link"].lstrip("/")
        expect(link).to_contain_text(near["clause"])
    assert axe_problems(page, axe_source) == []
    # A query naming a clause that exists shows no such notice.
    page.goto(f"{stack.api}/search?q=第4.5条")
    expect(page.locator(".result").first).to_be_visible()
    expect(notice).to_be_hidden()
