"""A section's text gives each child's lead sentence, cut to a gist (assistant/sections.py): the
cut never ends inside an English word, as "Chapter 12" answered ("…the protection of users' ri…")."""

from __future__ import annotations

from assistant.sections import LEAD_CHARS, lead_sentence

LONG_EN = ("The call center shall respect and protect users' rights to information, choice, fair dealing, "
           "privacy and complaint, and shall treat the protection of users' rights and interests as an "
           "important part of the social responsibility described in 4.8.")
LONG_ZH = "呼叫中心应尊重和保护用户的知情权、选择权、公平交易权、隐私权和投诉权，" * 6 + "并将用户权益保护作为重要内容。"


def test_a_long_english_lead_is_cut_between_words():
    assert len(LONG_EN) > LEAD_CHARS
    lead = lead_sentence(LONG_EN)
    assert lead.endswith("…") and len(lead) <= LEAD_CHARS + 1
    kept = lead[:-1]
    assert LONG_EN.startswith(kept) and LONG_EN[len(kept)] == " ", lead  # a whole word ends there
    assert not kept.endswith((",", " "))


def test_a_long_chinese_lead_is_cut_at_the_limit():
    lead = lead_sentence(LONG_ZH)
    assert lead == LONG_ZH[:LEAD_CHARS].rstrip("，") + "…"


def test_a_short_lead_is_whole_and_a_lead_in_says_it_goes_on():
    assert lead_sentence("Complaints shall be answered within 5 working days.") == (
        "Complaints shall be answered within 5 working days.")
    assert lead_sentence("现场管理人员应逐级采取以下措施：") == "现场管理人员应逐级采取以下措施…"
