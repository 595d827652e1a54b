"""Refusals that help, and answers that say how sure they are, in the widget (issue 13 items 5
and 7): the server's reason in the question's language, the closest clauses as links that are
not answers, the search link, the "may not be covered" note, and an answer's lines as the server
breaks them."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.browser.test_browser_widget import ask_and_capture, open_widget
from tests.support.axe import axe_problems

pytestmark = pytest.mark.browser

OFF_TOPIC = "How do I bake sourdough bread?"
ZH_QUESTION = "企业高层领导支持有哪些要求？"
URI_COMPONENT_SAFE = "-_.!~*'()"  # what encodeURIComponent leaves as it is


def refusal_shows(answer, data: dict, api: str, question: str, lang: str) -> None:
    """What every refusal shows: the reason, the suggestions as links, the search link."""
    expect(answer).to_have_attribute("data-state", "abstained")
    notice = answer.locator(".notice")
    expect(notice).to_have_text(data["message"])
    expect(notice).to_have_attribute("lang", lang)
    links = answer.locator(".suggest a")
    expect(links).to_have_count(len(data["suggestions"]))
    for link, suggestion in zip(links.all(), data["suggestions"]):
        assert link.get_attribute("href") == api + suggestion["link"]
        expect(link).to_contain_text(suggestion["clause"])
    search = answer.locator("a.search-link")
    expect(search).to_have_attribute("href", f"{api}/search?q={quote(question, safe=URI_COMPONENT_SAFE)}")
    expect(search).to_contain_text(question)


@pytest.mark.parametrize("widget_lang, question, lang, starts", [
    ("zh", "第99.9条", "zh", "指导要求（ccso-zh）中没有第99.9条；最接近的条款："),
    ("zh", "clause 99.9", "en", "No clause 99.9 in ccso-en; nearest: "),  # the question's language, not the page's
    # A low-confidence refusal is said plainly: no confidence figures, no clause id (the list of
    # closest clauses follows it).
    ("en", OFF_TOPIC, "en", "The guidance does not appear to cover this question."),
    ("en", "怎么烤酸面包？", "zh", "指导要求似乎没有涵盖这个问题。"),
])
def test_a_refusal_shows_the_servers_reason_in_the_questions_language(stack, open_page, axe_source, widget_lang,
                                                                       question, lang, starts):
    page, _ = open_page(1280, 800, "zh-CN" if widget_lang == "zh" else "en-US")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang={widget_lang}", widget_lang)
    data = ask_and_capture(page, dialog, textbox, question, stack.api)
    assert data["abstained"] and data["message"].startswith(starts), data
    assert data["suggestions"], "a refusal names the closest clauses"
    answer = dialog.locator(".a").last
    refusal_shows(answer, data, stack.api, question, lang)
    # The reason replaces the fixed "does not cover" line, which would be wrong for a missing number.
    expect(answer).not_to_contain_text("指导要求中没有找到相关内容")
    expect(answer).not_to_contain_text("The guidance does not cover this.")
    label = "并非对你问题的回答" if widget_lang == "zh" else "not an answer"
    expect(answer.locator(".suggest-label")).to_contain_text(label)
    assert axe_problems(page, axe_source, "guidance-assistant") == []


def test_the_reason_is_put_in_as_text_never_as_markup(stack, open_page):
    """A reason carrying markup (a compromised or buggy server) shows as text, on a host page
    without any Content-Security-Policy, where injected markup would really run."""
    page, problems = open_page(1280, 800, "en-US")
    planted = '<img src=x onerror="alert(1)"><b>bold</b> no clause 99.9'

    def plant(route):
        response = route.fetch()
        body = response.json()
        body["message"] = planted
        route.fulfill(response=response, json=body)

    page.route(f"{stack.api}/api/ask", plant)
    dialog, textbox = open_widget(page, f"{stack.allowed}/plain.html?lang=en", "en")
    ask_and_capture(page, dialog, textbox, "clause 99.9", stack.api)
    answer = dialog.locator(".a").last
    expect(answer.locator(".notice")).to_have_text(planted)
    expect(answer.locator("img, b")).to_have_count(0)
    page.wait_for_timeout(300)
    assert problems.dialogs == []


def test_a_refusal_from_a_server_without_message_shows_its_reason_without_the_contact_line(stack, open_page):
    page, _ = open_page(1280, 800, "en-US")
    contact = "Ask the service desk: 010-1234 5678"

    def older_server(route):
        response = route.fetch()
        body = response.json()
        body.pop("message")
        body["reason"] = f"{body['reason']} {contact}"
        body["contact"] = contact
        route.fulfill(response=response, json=body)

    page.route(f"{stack.api}/api/ask", older_server)
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en", "en")
    data = ask_and_capture(page, dialog, textbox, "clause 99.9", stack.api)
    answer = dialog.locator(".a").last
    expect(answer.locator(".notice")).to_have_text(data["reason"][: -len(contact)].strip())
    expect(answer.locator(".contact")).to_have_text(contact)


def test_an_uncertain_answer_says_first_that_it_may_not_be_covered(stack, uncertain_api, open_page, axe_source):
    for lang, question, note in (("zh", ZH_QUESTION, "指导要求可能没有涵盖这个问题"),
                                 ("en", "What does senior management need to do to support the call center?",
                                  "This may not be covered by the guidance")):
        page, _ = open_page(390, 844, "zh-CN" if lang == "zh" else "en-US", is_mobile=True, has_touch=True)
        dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang={lang}&api={uncertain_api}", lang)
        data = ask_and_capture(page, dialog, textbox, question, uncertain_api)
        assert not data["abstained"] and data["uncertain"] is True, data
        answer = dialog.locator(".a").last
        expect(answer).to_have_attribute("data-uncertain", "true")
        flag = answer.locator(".uncertain")
        expect(flag).to_contain_text(note)
        expect(flag).to_be_in_viewport()
        # Above the answer, so a long answer cannot push it off the screen.
        assert answer.evaluate("a => a.firstElementChild.className") == "uncertain"
        assert axe_problems(page, axe_source, "guidance-assistant") == []

    # The main server's threshold answers the same question without the note.
    page, _ = open_page(1280, 800, "zh-CN")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=zh", "zh")
    data = ask_and_capture(page, dialog, textbox, ZH_QUESTION, stack.api)
    assert not data["abstained"] and data["uncertain"] is False
    expect(dialog.locator(".a").last.locator(".uncertain")).to_have_count(0)


@pytest.mark.parametrize("lang, question", [
    ("zh", "制定战略计划前应收集哪些信息"),
    ("en", "What information should be collected before drawing up the strategic plan?"),
])
def test_a_list_answer_shows_its_lead_in_and_each_item_on_a_line_of_its_own(stack, open_page, lang, question):
    page, _ = open_page(1280, 800, "zh-CN" if lang == "zh" else "en-US")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang={lang}", lang)
    data = ask_and_capture(page, dialog, textbox, question, stack.api)
    assert not data["abstained"], data["reason"]
    # A line per line of the answer; each [n] marker is its citation's button, showing n.
    said = [re.sub(r"\[(\d+)\]", r"\1", line).strip() for line in data["answer"].split("\n")]
    text = dialog.locator(".a").last.locator(".answer-text")
    shown = [line.strip() for line in text.inner_text().split("\n")]
    assert shown == said, (shown, said)
    lead = next(n for n, line in enumerate(shown) if line.startswith("a)"))
    assert lead > 0 and re.search(r"[:：]$", shown[lead - 1]), shown
    assert [line[:2] for line in shown[lead:lead + 4]] == ["a)", "b)", "c)", "d)"], shown
