"""The acceptance questions, answered by the default pipeline with the real model."""

import pytest

from assistant.retrieval import question_lang

pytestmark = pytest.mark.integration


def test_executive_sponsorship_cites_clause_4_5(e5_assistant):
    answer = e5_assistant.ask("How do we get executive sponsorship for the call center?")
    assert not answer.abstained
    assert "4.5" in [c.clause for c in answer.citations[:3]]


@pytest.mark.parametrize("question, clause", [
    ("How long must call recordings be kept?", "11.6.1"),
    ("Can agents plug USB drives into their computers?", "11.3.3"),
])
def test_english_question_finds_the_chinese_clause(e5_assistant, question, clause):
    answer = e5_assistant.ask(question, lang="zh")
    assert not answer.abstained
    assert all(c.lang == "zh" for c in answer.citations)
    assert clause in [c.clause for c in answer.citations[:3]]
    assert answer.citations[0].highlights, "the answering Chinese sentence is highlighted"


def test_clause_number_is_cited_first(e5_assistant):
    answer = e5_assistant.ask("第4.5条")
    assert answer.citations[0].id == "ccso-zh:4.5"


def test_out_of_scope_question_abstains(e5_assistant):
    assert e5_assistant.ask("Who won the football world cup in 2018?").abstained
    assert e5_assistant.ask("红烧肉怎么做才好吃？").abstained


def test_chinese_question_is_answered_with_highlights(e5_assistant):
    answer = e5_assistant.ask("客户信息保密有哪些要求？")
    assert not answer.abstained
    top = answer.citations[0]
    assert top.lang == "zh" and top.highlights
    assert "[1]" in answer.answer


@pytest.mark.parametrize("question, section", [
    ("What does the guidance say about data security?", "11.7"),
    ("指导要求对数据安全有什么规定？", "11.7"),
])
def test_templated_questions_cite_their_section_first(e5_assistant, question, section):
    answer = e5_assistant.ask(question)
    threshold = e5_assistant.scope_model.threshold_for(question_lang(question))
    assert not answer.abstained and answer.confidence >= threshold
    first = answer.citations[0].clause
    assert first == section or first.startswith(section + ".")


@pytest.mark.parametrize("question", ["What is the capital of France?", "你好", "个人所得税怎么算"])
def test_mission_out_of_scope_questions_abstain(e5_assistant, question):
    answer = e5_assistant.ask(question)
    assert answer.abstained and answer.confidence < e5_assistant.scope_model.threshold_for(question_lang(question))
