"""A question's language when it mixes scripts (issue 13: "cite the clause in the question's
language once, with the other edition under also_in"): the language of its function words."""

from __future__ import annotations

import pytest

from assistant.query import analyse, question_lang
from tests.support.api import ask


@pytest.mark.parametrize("question, lang", [
    # English questions quoting a Chinese term: by the letters they were Chinese (3 of 15 letters).
    ("What does 数据安全 mean?", "en"),
    ("What is 占用率?", "en"),
    ("How long is 录音 kept?", "en"),
    # Chinese questions quoting English words, however many letters those have.
    ("data security requirements 是什么", "zh"),
    ("agent 的 job description 多久要 review 一次？", "zh"),
    ("occupancy 控制在多少比较合适？", "zh"),
    ("AHT怎么算", "zh"),
    # No function words on either side: the letter share decides, as for one script.
    ("outbound marketing 时段", "en"),
    ("EAP心理援助", "zh"),
    # One script: unchanged.
    ("数据安全有什么要求？", "zh"),
    ("What about data security?", "en"),
])
def test_a_mixed_question_is_in_the_language_of_its_function_words(question, lang):
    assert question_lang(question) == lang
    assert analyse(question).lang == lang


def test_an_english_question_quoting_a_chinese_term_cites_the_english_edition(client):
    body = ask(client, "What does 数据安全 mean?")
    assert not body["abstained"], body["reason"]
    first = body["citations"][0]
    assert first["document"] == "ccso-en", [c["id"] for c in body["citations"]]
    assert [a["lang"] for a in first["also_in"]] == ["zh"]
    assert all(c["document"] == "ccso-en" for c in body["citations"]), [c["id"] for c in body["citations"]]


def test_a_chinese_question_quoting_english_words_cites_the_chinese_edition(client):
    body = ask(client, "data security requirements 是什么")
    assert not body["abstained"], body["reason"]
    assert body["citations"][0]["document"] == "ccso-zh", [c["id"] for c in body["citations"]]
