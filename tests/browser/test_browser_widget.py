"""The chat widget, embedded with one <script> tag on another origin, against the real server."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ZH_QUESTION = "企业高层领导支持有哪些要求？"
EN_QUESTION = "What does senior management need to do to support the call center?"
OFF_TOPIC = "How do I bake sourdough bread?"
INJECTION = "<img src=x onerror=alert(1)> 培训有哪些要求？"


# (launcher button, dialog title, question box) as the widget labels them in each language.
LABELS = {"zh": ("咨询指导要求", "指导要求助手", "你的问题"), "en": ("Ask the guidance", "Guidance assistant", "Your question")}


def open_widget(page, url: str, lang: str):
    """Load a host page and open the widget on it; returns (dialog, question box)."""
    launcher, title, box = LABELS[lang]
    page.goto(url)
    page.get_by_role("button", name=launcher).click()
    dialog = page.get_by_role("dialog", name=title)
    return dialog, dialog.get_by_role("textbox", name=box)


def ask(textbox, question: str) -> None:
    textbox.fill(question)
    textbox.press("Enter")


def shadow_active_element(page) -> str:
    """Class of the element focused inside the widget's shadow root ('' when none)."""
    return page.evaluate(
        "() => { const h = document.querySelector('guidance-assistant');"
        " const a = h && h.shadowRoot.activeElement; return a ? a.className || a.tagName : ''; }"
    )


def test_widget_answers_with_a_citation_that_expands_and_links_to_the_viewer(stack, open_page, screenshot_dir):
    page, problems = open_page(1280, 800, "zh-CN")
    page.goto(f"{stack.allowed}/site.html?lang=zh")  # strict CSP, hostile CSS, allowed origin

    launcher = page.get_by_role("button", name="咨询指导要求")
    expect(launcher).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    # The host page's `button { background: #d00000 !important }` does not reach inside.
    assert launcher.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(29, 79, 145)"
    assert launcher.evaluate("e => getComputedStyle(e).position") == "fixed"  # styles applied under CSP

    launcher.click()
    dialog = page.get_by_role("dialog", name="指导要求助手")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    textbox = dialog.get_by_role("textbox", name="你的问题")
    assert shadow_active_element(page) == "input", "focus moves into the panel when it opens"

    textbox.fill(ZH_QUESTION)
    textbox.press("Enter")
    expect(dialog.locator(".q").last).to_have_text("你: " + ZH_QUESTION)
    chip = dialog.locator('button.chip[data-clause-id="ccso-zh:4.5"]')
    expect(chip).to_be_visible(timeout=30_000)
    expect(dialog.locator(".a").last).to_have_attribute("data-state", "answer")
    expect(dialog.locator(".answer-text").last).not_to_be_empty()
    expect(chip).to_have_attribute("aria-expanded", "false")
    expect(chip).to_contain_text("4.5")
    expect(chip).to_contain_text("企业高层领导支持")

    detail = dialog.locator(f"#{chip.get_attribute('aria-controls')}")
    expect(detail).to_be_hidden()
    chip.click()
    expect(chip).to_have_attribute("aria-expanded", "true")
    expect(detail).to_be_visible()
    expect(detail.locator(".cite-head")).to_have_text("4.5 企业高层领导支持")
    expect(detail.locator(".cite-path")).to_have_text("4 规划及发展方向 › 4.5 企业高层领导支持")
    expect(detail.locator(".cite-meta")).to_contain_text("呼叫中心服务质量和运营管理指导要求")
    marks = detail.locator("blockquote mark")
    expect(marks.first).to_be_visible()
    quoted = detail.locator("blockquote").inner_text()
    for text in marks.all_inner_texts():
        assert text and text in quoted
    # The widget's own mark colour, not the host page's `mark { background: #00ff00 }`.
    assert marks.first.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 229, 138)"
    link = detail.get_by_role("link", name="在指导要求中查看该条款")
    # The viewer link, with the quoted spans where the server sends them.
    assert re.fullmatch(rf"{re.escape(stack.api)}/documents/ccso-zh(\?hl=[\d,-]+)?#4\.5", link.get_attribute("href"))

    page.screenshot(path=str(screenshot_dir / "widget-desktop.png"), animations="disabled")

    # The link lands on the clause in the viewer, highlighted.
    with page.context.expect_page() as opened:
        link.click()
    viewer = opened.value
    viewer.wait_for_load_state()
    target = viewer.locator('[id="4.5"]')
    expect(target).to_be_in_viewport()
    assert target.evaluate("e => e.matches(':target')")
    viewer.close()

    # Escape closes the dialog and gives focus back to the button.
    textbox.focus()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    assert shadow_active_element(page) == "launcher"
    assert problems.dialogs == []


def test_widget_brings_its_shared_helpers_without_a_global(stack, open_page):
    # /widget.js carries static/citation.js inside its own function: the host page gains only
    # window.GuidanceAssistant.
    page, _ = open_page(1280, 800, "en-US")
    page.goto(f"{stack.allowed}/site.html?lang=en")
    expect(page.get_by_role("button", name="Ask the guidance")).to_be_visible()
    assert page.evaluate("() => typeof window.GuidanceAssistant") == "object"
    assert page.evaluate("() => typeof window.GuidanceCitation") == "undefined"
    source = httpx.get(f"{stack.api}/widget.js").text
    assert "GuidanceCitation.highlighted" in source and "function pagesText" in source


def test_widget_keeps_keyboard_focus_inside_the_open_dialog(stack, open_page):
    page, _ = open_page(1280, 800, "zh-CN")
    page.goto(f"{stack.allowed}/site.html?lang=zh")
    page.get_by_role("button", name="咨询指导要求").press("Enter")
    dialog = page.get_by_role("dialog", name="指导要求助手")
    expect(dialog).to_be_visible()
    inside = []
    for _ in range(8):
        page.keyboard.press("Tab")
        inside.append(page.evaluate(
            "() => { const r = document.querySelector('guidance-assistant').shadowRoot;"
            " return !!(r.activeElement && r.getElementById('ga-panel').contains(r.activeElement)); }"
        ))
    assert all(inside), inside
    page.keyboard.press("Shift+Tab")
    assert shadow_active_element(page) != "launcher"


def test_widget_at_phone_width_in_english(stack, open_page, screenshot_dir):
    page, _ = open_page(375, 740, "en-US")
    # No data-lang on this page: the widget follows <html lang="en">.
    page.goto(f"{stack.allowed}/site.html?lang=en&data_lang=0")
    launcher = page.get_by_role("button", name="Ask the guidance")
    launcher.click()
    dialog = page.get_by_role("dialog", name="Guidance assistant")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box["x"] == 0 and box["width"] == 375, box  # full width on a phone

    textbox = dialog.get_by_role("textbox", name="Your question")
    textbox.fill(EN_QUESTION)
    dialog.get_by_role("button", name="Send").click()
    chip = dialog.locator('button.chip[data-clause-id="ccso-en:4.5"]')
    expect(chip).to_be_visible(timeout=30_000)
    chip.click()
    detail = dialog.locator(f"#{chip.get_attribute('aria-controls')}")
    expect(detail.locator(".cite-path")).to_have_text(
        "4 Planning and development direction › 4.5 Support from senior leadership"
    )
    expect(detail.locator("blockquote mark").first).to_be_visible()
    href = detail.get_by_role("link", name="Open this clause in the guidance").get_attribute("href")
    assert re.fullmatch(rf"{re.escape(stack.api)}/documents/ccso-en(\?hl=[\d,-]+)?#4\.5", href), href
    page.screenshot(path=str(screenshot_dir / "widget-phone.png"), animations="disabled")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_widget_says_when_the_guidance_does_not_cover_a_question(stack, open_page):
    page, _ = open_page(1280, 800, "zh-CN")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=zh", "zh")
    data = ask_and_capture(page, dialog, textbox, "怎么烤酸面包？", stack.api)
    answer = dialog.locator(".a").last
    expect(answer).to_have_attribute("data-state", "abstained", timeout=30_000)
    # The server's reason, in the question's language (tests/browser/test_browser_refusals.py).
    assert data["abstained"] and data["message"].startswith("指导要求似乎没有涵盖这个问题"), data
    expect(answer.locator(".notice")).to_have_text(data["message"])
    expect(answer.locator("button.chip")).to_have_count(0)


def test_an_origin_outside_the_allowlist_is_refused(stack, open_page):
    page, _ = open_page(1280, 800, "en-US")
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    dialog, textbox = open_widget(page, f"{stack.refused}/site.html?lang=en", "en")
    ask(textbox, EN_QUESTION)
    answer = dialog.locator(".a").last
    expect(answer).to_have_attribute("data-state", "error", timeout=30_000)
    expect(answer).to_contain_text("Could not reach the assistant")
    expect(answer.get_by_role("button", name="Try again")).to_be_visible()
    assert f"{stack.api}/api/ask" in failed

    # What the server said: nothing that lets the refused origin read the answer.
    body = {"question": EN_QUESTION}
    refused = httpx.post(f"{stack.api}/api/ask", json=body, headers={"Origin": stack.refused}, timeout=30)
    assert "access-control-allow-origin" not in refused.headers
    preflight = httpx.options(
        f"{stack.api}/api/ask",
        headers={"Origin": stack.refused, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    # ... while the allowed origin may.
    allowed = httpx.post(f"{stack.api}/api/ask", json=body, headers={"Origin": stack.allowed}, timeout=30)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == stack.allowed


def test_a_question_with_markup_is_shown_as_text(stack, open_page):
    page, problems = open_page(1280, 800, "zh-CN")
    # No CSP on plain.html: an injected handler would run there.
    dialog, textbox = open_widget(page, f"{stack.allowed}/plain.html?lang=zh", "zh")
    ask(textbox, INJECTION)
    answer = dialog.locator(".a").last
    expect(answer).not_to_have_attribute("data-state", "loading", timeout=30_000)
    expect(dialog.locator(".q").last).to_have_text("你: " + INJECTION)
    page.wait_for_timeout(300)  # time for an image error handler to fire, were there one
    images = page.evaluate(
        "() => document.querySelectorAll('img').length +"
        " document.querySelector('guidance-assistant').shadowRoot.querySelectorAll('img').length"
    )
    assert images == 0
    assert problems.dialogs == []


def test_loading_state_while_the_server_answers(stack, open_page):
    page, _ = open_page(1280, 800, "en-US")
    held = []
    page.route(f"{stack.api}/api/ask", lambda route: held.append(route))  # hold, then pass it on
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en", "en")
    ask(textbox, EN_QUESTION)

    answer = dialog.locator(".a").last
    expect(answer).to_have_attribute("aria-busy", "true")
    expect(answer).to_contain_text("Searching the guidance")
    send = dialog.get_by_role("button", name="Send")
    expect(send).to_be_disabled()  # one question at a time
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the question did not reach the network"
    held[0].continue_()  # to the real server
    expect(answer).to_have_attribute("data-state", "answer", timeout=30_000)
    expect(answer).not_to_have_attribute("aria-busy", "true")
    expect(answer.locator('button.chip[data-clause-id="ccso-en:4.5"]')).to_be_visible()
    textbox.fill("x")
    expect(send).to_be_enabled()


def test_rate_limited_state_uses_the_servers_retry_after(stack, limited_api, open_page):
    """Against a server limited to one question a minute: the second question gets the real
    429 (through the CORS layer, so the widget can read Retry-After)."""
    pytest.importorskip("assistant.api.ratelimit", reason="the rate limiter (ASSISTANT_RATE_LIMIT) is not installed")
    page, _ = open_page(1280, 800, "en-US")
    refusals = []
    page.on("response", lambda r: r.url == f"{limited_api}/api/ask" and r.status == 429 and refusals.append(r))
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en&api={limited_api}", "en")
    send = dialog.get_by_role("button", name="Send")

    ask(textbox, EN_QUESTION)
    expect(dialog.locator(".a").last).to_have_attribute("data-state", "answer", timeout=30_000)
    ask(textbox, "What does clause 5.3 say?")
    answer = dialog.locator(".a").last
    expect(answer).to_have_attribute("data-state", "error", timeout=30_000)
    assert refusals, "the server did not answer 429"
    wait = int(refusals[0].header_value("retry-after"))
    assert 1 <= wait <= 60
    expect(answer).to_contain_text(f"Too many questions. Please wait {wait} s")
    expect(send).to_be_disabled()  # no more questions until Retry-After has passed


# -- small screens, zoom, landscape -----------------------------------------------------------------


def panel_metrics(page) -> dict:
    """The panel and its conversation area, in screen pixels (CSS pixels times the page's scale)."""
    return page.evaluate(
        """() => {
            const r = document.querySelector('guidance-assistant').shadowRoot;
            const scale = window.visualViewport ? window.visualViewport.scale : 1;
            const box = e => { const b = e.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; };
            const zoom = parseFloat(getComputedStyle(r.querySelector('.root')).zoom) || 1;
            return { scale, zoom, innerWidth: window.innerWidth, innerHeight: window.innerHeight,
                     panel: box(r.getElementById('ga-panel')), body: box(r.querySelector('.body')),
                     input: box(r.getElementById('ga-input')) };
        }"""
    )


def test_widget_fills_a_phone_screen_even_when_the_host_page_has_no_viewport_meta(stack, open_page, screenshot_dir):
    page, _ = open_page(375, 667, "zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2)
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=zh&viewport=0", "zh")
    expect(dialog).to_be_visible()
    m = panel_metrics(page)
    assert m["innerWidth"] > 375 * 1.5, m  # the page is laid out wide and shown zoomed out
    assert m["zoom"] > 2, "the widget zooms itself back by the page's scale"
    k = m["scale"]  # page pixels -> screen pixels
    x, y, width, height = (v * k for v in m["panel"])
    assert abs(x) < 2 and abs(y) < 2 and abs(width - 375) < 4 and abs(height - 667) < 6, (m, width, height)
    assert m["input"][3] * k >= 36, "the question box is a finger's size on the screen"
    ask(textbox, ZH_QUESTION)
    expect(dialog.locator('button.chip[data-clause-id="ccso-zh:4.5"]')).to_be_visible(timeout=30_000)
    page.screenshot(path=str(screenshot_dir / "widget-phone-no-viewport-meta.png"), animations="disabled")


@pytest.mark.parametrize("size", [(740, 360), (640, 400)], ids=["phone-landscape", "desktop-200%-zoom"])
def test_widget_keeps_room_for_the_conversation_on_short_screens(stack, open_page, size):
    width, height = size
    touch = width == 740
    page, _ = open_page(width, height, "en-US", has_touch=touch, is_mobile=touch, device_scale_factor=2)
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en", "en")
    m = panel_metrics(page)
    assert m["panel"][2] >= width - 1 and m["panel"][3] >= height - 1, m  # full screen
    assert m["body"][3] >= height * 0.55, f"conversation area {m['body'][3]:.0f} px of {height}"
    ask(textbox, EN_QUESTION)
    expect(dialog.locator('button.chip[data-clause-id="ccso-en:4.5"]')).to_be_visible(timeout=30_000)
    expect(textbox).to_be_in_viewport()


# -- the conversation across page loads -----------------------------------------------------------------


def test_widget_keeps_the_conversation_across_page_loads_until_a_new_one(stack, open_page):
    page, _ = open_page(1280, 800, "zh-CN")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=zh", "zh")
    expect(dialog.get_by_role("button", name="新对话")).to_be_hidden()
    ask(textbox, ZH_QUESTION)
    chip = dialog.locator('button.chip[data-clause-id="ccso-zh:4.5"]')
    expect(chip).to_be_visible(timeout=30_000)
    answer = dialog.locator(".answer-text").last.inner_text()

    page.reload()
    dialog = page.get_by_role("dialog", name="指导要求助手")
    expect(dialog).to_be_visible()  # it was open: it opens again
    expect(dialog.locator(".q")).to_have_text(["你: " + ZH_QUESTION])
    expect(dialog.locator(".answer-text")).to_have_text([answer])
    chip = dialog.locator('button.chip[data-clause-id="ccso-zh:4.5"]')
    chip.click()  # the restored citation works like a fresh one
    expect(dialog.locator(f"#{chip.get_attribute('aria-controls')}")).to_be_visible()

    # The example questions stay one click away under the conversation.
    more = dialog.get_by_text("示例问题")
    more.click()
    example = dialog.locator(".more button.example").first
    expect(example).to_be_visible()
    example_text = example.inner_text()
    example.click()
    expect(dialog.locator(".q")).to_have_count(2)
    expect(dialog.locator(".q").last).to_have_text("你: " + example_text)
    expect(dialog.locator(".a").last).not_to_have_attribute("data-state", "loading", timeout=30_000)

    dialog.get_by_role("button", name="新对话").click()
    expect(dialog.locator(".turn")).to_have_count(0)
    expect(dialog.locator(".intro")).to_be_visible()
    page.reload()
    page.get_by_role("button", name="咨询指导要求").click()
    expect(page.get_by_role("dialog", name="指导要求助手").locator(".turn")).to_have_count(0)


# -- what an answer says beyond its text ----------------------------------------------------------------


def ask_and_capture(page, dialog, textbox, question: str, api: str) -> dict:
    with page.expect_response(lambda r: r.url == f"{api}/api/ask" and r.request.method == "POST") as caught:
        ask(textbox, question)
    data = caught.value.json()
    expect(dialog.locator(".a").last).not_to_have_attribute("data-state", "loading", timeout=30_000)
    return data


def test_a_refusal_offers_the_closest_clauses_and_a_search(stack, open_page, screenshot_dir):
    page, _ = open_page(1280, 800, "en-US")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=en", "en")
    data = ask_and_capture(page, dialog, textbox, OFF_TOPIC, stack.api)
    answer = dialog.locator(".a").last
    expect(answer).to_have_attribute("data-state", "abstained")
    search = answer.get_by_role("link", name=f"Search the guidance for “{OFF_TOPIC}”")
    expect(search).to_have_attribute("href", f"{stack.api}/search?q=How%20do%20I%20bake%20sourdough%20bread%3F")
    page.screenshot(path=str(screenshot_dir / "widget-refusal.png"), animations="disabled")
    if "suggestions" not in data:
        pytest.xfail("/api/ask sends no `suggestions` yet (h5-answers)")
    suggestions = data["suggestions"]
    assert suggestions, "an abstained answer names the closest clauses"
    links = answer.locator(".suggest a")
    expect(links).to_have_count(len(suggestions))
    expect(answer.locator(".suggest-label")).to_contain_text("not an answer")
    for link, suggestion in zip(links.all(), suggestions):
        assert link.get_attribute("href") == stack.api + suggestion["link"]
        expect(link).to_contain_text(suggestion["clause"])


def test_citations_show_their_kind_other_edition_and_section_children(stack, open_page):
    page, _ = open_page(1280, 800, "zh-CN")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=zh", "zh")
    data = ask_and_capture(page, dialog, textbox, "培训与发展有哪些要求？", stack.api)
    answer = dialog.locator(".a").last
    citations = data["citations"]
    if not citations or not all(key in citations[0] for key in ("kind", "also_in", "children", "link")):
        pytest.xfail("/api/ask citations carry no kind / also_in / children / link yet (h5-answers)")
    if data.get("uncertain"):
        expect(answer.locator(".uncertain")).to_contain_text("可能没有涵盖")
    else:
        expect(answer.locator(".uncertain")).to_have_count(0)
    for citation in citations:
        chip = answer.locator(f'button.chip[data-clause-id="{citation["id"]}"]')
        chip.click()
        detail = dialog.locator(f"#{chip.get_attribute('aria-controls')}")
        expect(detail).to_be_visible()
        assert detail.get_by_role("link", name="在指导要求中查看该条款").get_attribute("href") == stack.api + citation["link"]
        background = citation["kind"] == "background"
        expect(detail.locator(".kind")).to_have_count(1 if background else 0)
        for other in citation["also_in"]:
            expect(detail.locator(f'.cite-also a[href="{stack.api + other["link"]}"]')).to_be_visible()
        for child in citation["children"]:
            expect(detail.locator(f'.cite-children a[href="{stack.api + child["link"]}"]')).to_contain_text(child["clause"])
    sections = [c for c in citations if c["children"]]
    assert sections, "a topic question cites its section, with the sub-clauses listed"


def test_axe_finds_no_serious_problem_in_the_widget(stack, open_page, axe_source):
    from tests.support.axe import axe_problems

    page, _ = open_page(1280, 800, "zh-CN")
    dialog, textbox = open_widget(page, f"{stack.allowed}/site.html?lang=zh", "zh")
    assert axe_problems(page, axe_source, "guidance-assistant") == []
    ask(textbox, ZH_QUESTION)
    chip = dialog.locator('button.chip[data-clause-id="ccso-zh:4.5"]')
    expect(chip).to_be_visible(timeout=30_000)
    chip.click()
    ask(textbox, OFF_TOPIC)
    expect(dialog.locator(".a").last).to_have_attribute("data-state", "abstained", timeout=30_000)
    assert axe_problems(page, axe_source, "guidance-assistant") == []
