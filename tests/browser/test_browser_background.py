"""Background documents and the refusal contact line, in a real browser against a server whose
corpus adds the news report (kind "background") to the guidance and that sets
ASSISTANT_REFUSAL_CONTACT (the `background_api` fixture)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REFUSAL_CONTACT
from tests.support.axe import axe_problems

pytestmark = pytest.mark.browser

REPORT = "meeting-report-2022"
REPORT_QUESTION = "How many people attended the publicity and implementation meeting?"
GUIDANCE_QUESTION = "What does senior management need to do to support the call center?"
OFF_TOPIC = "How do I bake sourdough bread?"

# Each list of citations in the widget: the label above it and the chips in it, in order.
CITATION_LISTS = """() => {
    const root = document.querySelector('guidance-assistant').shadowRoot;
    const answer = [...root.querySelectorAll('.a')].pop();
    return [...answer.querySelectorAll('p.sources-label')].map(label => ({
        label: label.textContent,
        chips: [...label.nextElementSibling.querySelectorAll('button.chip')].map(chip => ({
            id: chip.getAttribute('data-clause-id'), background: chip.classList.contains('is-background'),
        })),
    }));
}"""


def open_widget(page, url: str):
    page.goto(url)
    page.get_by_role("button", name="Ask the guidance").click()
    dialog = page.get_by_role("dialog", name="Guidance assistant")
    return dialog, dialog.get_by_role("textbox", name="Your question")


def ask(page, dialog, textbox, question: str, api: str) -> dict:
    with page.expect_response(lambda r: r.url == f"{api}/api/ask" and r.request.method == "POST") as caught:
        textbox.fill(question)
        textbox.press("Enter")
    data = caught.value.json()
    expect(dialog.locator(".a").last).not_to_have_attribute("data-state", "loading", timeout=30_000)
    return data


def test_the_widget_shows_a_background_citation_as_background_never_under_the_cited_clauses(
        stack, background_api, open_page, axe_source):
    page, _ = open_page(1280, 800, "en-US")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en&api={background_api}")
    data = ask(page, dialog, textbox, REPORT_QUESTION, background_api)
    assert not data["abstained"], data.get("reason")
    kinds = {c["id"]: c["kind"] for c in data["citations"]}
    assert kinds and set(kinds.values()) == {"background"}, kinds  # no guidance clause answers this
    lists = page.evaluate(CITATION_LISTS)
    assert [entry["label"] for entry in lists] == ["Background (not guidance)"], lists
    assert all(chip["background"] for chip in lists[0]["chips"])
    assert [chip["id"] for chip in lists[0]["chips"]] == list(kinds)

    chip = dialog.locator(f'button.chip[data-clause-id="{data["citations"][0]["id"]}"]')
    chip.click()
    detail = dialog.locator(f"#{chip.get_attribute('aria-controls')}")
    expect(detail).to_be_visible()
    expect(detail.locator(".kind")).to_have_text("Background, not guidance")
    assert axe_problems(page, axe_source, "guidance-assistant") == []

    # A question the guidance answers cites guidance only, under "Sources", with no background label.
    data = ask(page, dialog, textbox, GUIDANCE_QUESTION, background_api)
    assert data["citations"] and {c["kind"] for c in data["citations"]} == {"guidance"}
    lists = page.evaluate(CITATION_LISTS)
    assert [entry["label"] for entry in lists] == ["Sources"], lists
    assert not any(chip["background"] for chip in lists[0]["chips"])
    expect(dialog.locator(".a").last.locator(".kind")).to_have_count(0)


def test_the_search_page_and_the_viewer_label_the_background_document(background_api, open_page, axe_source):
    page, _ = open_page(1280, 800, "en-US")
    page.goto(f"{background_api}/search?q=publicity and implementation meeting attendance")
    report = page.locator(f'#results > li.result[data-document="{REPORT}"]')
    expect(report.first).to_be_visible()
    for card in report.all():
        expect(card.locator(".result-kind")).to_have_text("Background, not guidance")
    guidance = page.locator(f'#results > li.result:not([data-document="{REPORT}"])')
    assert guidance.count(), "the guidance's clauses are listed too"
    expect(guidance.locator(".result-kind")).to_have_count(0)
    assert axe_problems(page, axe_source) == []

    page.goto(f"{background_api}/documents/{REPORT}")
    expect(page.locator(".doc-meta .kind-badge")).to_have_text("Background, not guidance")
    page.goto(f"{background_api}/documents/ccso-en")
    expect(page.locator(".kind-badge")).to_have_count(0)
    assert axe_problems(page, axe_source) == []


def test_a_refusal_in_the_widget_shows_the_contact_line_when_one_is_set(stack, background_api, open_page,
                                                                          axe_source):
    page, _ = open_page(1280, 800, "en-US")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en&api={background_api}")
    data = ask(page, dialog, textbox, OFF_TOPIC, background_api)
    assert data["abstained"] and data["contact"] == REFUSAL_CONTACT
    answer = dialog.locator(".a").last
    expect(answer).to_have_attribute("data-state", "abstained")
    expect(answer.locator(".contact")).to_have_text(REFUSAL_CONTACT)
    assert axe_problems(page, axe_source, "guidance-assistant") == []

    # Without the setting (the main server) a refusal has no contact line.
    page, _ = open_page(1280, 800, "en-US")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en")
    data = ask(page, dialog, textbox, OFF_TOPIC, stack.api)
    assert data["abstained"] and data.get("contact") is None
    expect(dialog.locator(".a").last.locator(".contact")).to_have_count(0)


@pytest.mark.parametrize("query", ["lorem ipsum dolor", "怎么烤酸面包？"])
def test_the_search_page_says_no_clause_matches_a_query_ask_refuses_despite_the_background_paragraphs(
        background_api, open_page, axe_source, query):
    # News paragraphs passed the cosine floor for nonsense ("xyzzy qwerty" on the shipped corpus,
    # these here) and the page called them good matches; the scope decision /api/ask makes (it
    # refuses these) now says that nothing matches.
    import httpx

    assert httpx.post(f"{background_api}/api/ask", json={"question": query}, timeout=60).json()["abstained"]
    page, _ = open_page(1280, 800, "en-US")
    # The page rewrites its address (history.replaceState) once it has searched, and Chromium may
    # drop a response body after that navigation, so the body is kept as the response passes.
    searched: list[dict] = []

    def keep(route):
        response = route.fetch()
        searched.append(response.json())
        route.fulfill(response=response)

    page.route("**/api/search?*", keep)
    page.goto(f"{background_api}/search?q={query}")
    expect(page.locator("#status")).to_contain_text("No clause matches")
    assert searched
    hits = searched[-1]["hits"]
    assert hits and all(hit["weak"] for hit in hits), [(h["id"], h["relevance"]) for h in hits if not h["weak"]]
    expect(page.locator("#results > li.result:not(.is-weak)")).to_have_count(0)
    assert axe_problems(page, axe_source) == []
