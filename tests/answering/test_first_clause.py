"""The right first clause for questions a new user asks (issues 13 + 12, u3-rank): the scope of the
guidance and a clause whose title is the asked topic."""

from __future__ import annotations

import pytest

from assistant.answering import title_fit
from assistant.lexical import tokenize
from assistant.query import strip_template
from assistant.records import Clause
from tests.support.api import ask


def _clause(number: str, title: str, text: str) -> Clause:
    return Clause(id=f"doc:{number}", document="doc", number=number, title=title, path=[f"{number} {title}"],
                  text=text, page_start=None, page_end=None, lang="en")


@pytest.mark.parametrize("question, topic", [
    ("What is the scope of this guidance?", "scope"),
    ("Who does this guidance apply to?", "scope"),
    ("Which call centers does this standard apply to?", "scope"),
    ("Does it apply to outsourced call centres too?", "scope: outsourced call centres"),
    ("What does this guidance cover?", "scope"),
    ("适用范围", "范围"),
    ("本指导要求的适用范围是什么", "范围"),
    ("知识库的适用范围", "知识库的适用范围"),  # the knowledge base's, not the guidance's
    # "Is X covered?" asks about X, not about the scope clause.
    ("Is data security covered by this guidance?", "data security"),
    # The scope of something else is that thing's topic.
    ("What is the scope of quality monitoring?", "What is the scope of quality monitoring?"),
])
def test_questions_about_what_the_guidance_applies_to_search_its_scope(question, topic):
    assert strip_template(question)[1] == topic


@pytest.mark.parametrize("question", [
    "What is the scope of this guidance?",
    "Who does this guidance apply to?",
    "Does it apply to outsourced call centres too?",
    "What does this guidance cover?",
])
def test_a_scope_question_cites_clause_1_first(client, question):
    body = ask(client, question)
    assert not body["abstained"], body["reason"]
    assert body["citations"][0]["clause"] == "1", [c["clause"] for c in body["citations"]]


def test_title_fit_is_one_when_the_title_is_the_topic():
    scope = _clause("1", "Scope", "This document applies to call centers.")
    kpi = _clause("8.2", "Key performance indicator system", "Indicators.")
    assert title_fit(scope, set(tokenize("scope"))) == 1.0
    assert title_fit(kpi, set(tokenize("key performance indicator"))) == 0.75
    assert title_fit(scope, set(tokenize("data security"))) == 0.0


def test_a_clause_titled_with_the_topic_is_cited_below_the_cosine_floor(fake_assistant):
    # Clauses that sound alike (cosine 0.83) and the scope clause, whose text is plainer (0.78,
    # under the floor of 0.83 - citation_margin): its title is the topic, so it is cited, first.
    from dataclasses import replace

    from assistant.answering import Calibration, compose_answer
    from assistant.query import analyse
    from assistant.retrieval import Hit

    index = fake_assistant.live.index
    by_id = index.clause_by_id
    alike = [Hit(by_id[f"ccso-en:{n}"], 4.0, 0.83, 1.0, "search", sentence=0.83) for n in ("11.7.1", "12.3", "11.4.1")]
    scope = Hit(by_id["ccso-en:1"], 3.5, 0.78, 0.9, "search", sentence=0.78)
    config = replace(fake_assistant.answer_config(), calibration=Calibration(0.9), title_weight=1.0, heading_weight=1.0)
    analysis = analyse("What is the scope of this guidance?")
    answer = compose_answer(analysis.text, alike + [scope], None, index, config, 5, analysis=analysis)
    assert [c.clause for c in answer.citations][0] == "1", [c.clause for c in answer.citations]


@pytest.mark.parametrize("question", ["What is the scope of this guidance?", "Who does this guidance apply to?"])
def test_a_scope_question_filtered_to_the_other_edition_cites_its_scope_clause_first(client, question):
    # The hits are the Chinese edition's clauses, the topic terms English: titles are read in
    # every edition (answering.answer_signals, the title-fit floor exception).
    body = ask(client, question, lang="zh")
    assert not body["abstained"], body["reason"]
    first = body["citations"][0]
    assert (first["document"], first["clause"]) == ("ccso-zh", "1"), [c["clause"] for c in body["citations"]]


def test_answer_signals_read_a_clauses_title_in_every_edition(fake_assistant):
    from assistant.answering import answer_signals
    from assistant.retrieval import Hit

    index = fake_assistant.live.index
    zh_scope = index.clause_by_id["ccso-zh:1"]
    (parts,) = answer_signals([Hit(zh_scope, 1.0, 0.8, 0.9, "search", sentence=0.8)], set(tokenize("scope")), index)
    assert parts["title"] == 1.0


def _ordered(fake_assistant, question: str, hits) -> list[str]:
    from dataclasses import replace

    from assistant.answering import Calibration, compose_answer
    from assistant.query import analyse

    config = replace(fake_assistant.answer_config(), calibration=Calibration(0.5))
    analysis = analyse(question)
    answer = compose_answer(analysis.text, hits, None, fake_assistant.live.index, config, 5, analysis=analysis)
    return [c.clause for c in answer.citations]


def test_a_part_whose_title_fits_as_well_and_says_it_closer_goes_before_the_clause_above_it(fake_assistant):
    # 4.3 (a body of its own, the topic in general) is ranked above its part 4.3.2; both titles
    # carry "strategic plan", and 4.3.2's best sentence is the closer one: the part answers.
    from assistant.retrieval import Hit

    by_id = fake_assistant.live.index.clause_by_id
    hits = [Hit(by_id["ccso-en:4.3"], 9.9, 0.87, 1.0, "search", sentence=0.86),
            Hit(by_id["ccso-en:4.2"], 9.5, 0.86, 0.9, "search", sentence=0.86),
            Hit(by_id["ccso-en:4.3.2"], 9.4, 0.87, 1.0, "search", sentence=0.87)]
    assert not by_id["ccso-en:4.3"].children  # a clause with a body, not a section
    assert _ordered(fake_assistant, "How often must the strategic plan be reviewed?", hits)[:3] == ["4.3.2", "4.3", "4.2"]


def test_a_clause_whose_own_text_answers_closer_stays_before_its_parts(fake_assistant):
    # The same ranking, but 4.3's own sentence ("should cover a period of 3 to 5 years") is the
    # closest: the clause above answers, not its part.
    from assistant.retrieval import Hit

    by_id = fake_assistant.live.index.clause_by_id
    hits = [Hit(by_id["ccso-en:4.3"], 9.9, 0.87, 1.0, "search", sentence=0.88),
            Hit(by_id["ccso-en:4.3.1"], 9.4, 0.86, 1.0, "search", sentence=0.86)]
    assert _ordered(fake_assistant, "How long does a strategic plan cover?", hits)[:2] == ["4.3", "4.3.1"]


def test_the_part_that_answers_takes_a_sections_place(fake_assistant):
    # 11.3 System security is a section (no body of its own); its part 11.3.2 Network security
    # fits "network security" better. The part takes the section's place, the section right after
    # it: what ranked between them (11.4.1) does not move up to first.
    from assistant.retrieval import Hit

    by_id = fake_assistant.live.index.clause_by_id
    assert by_id["ccso-en:11.3"].children
    hits = [Hit(by_id["ccso-en:11.3"], 9.9, 0.87, 1.0, "search", sentence=0.87),
            Hit(by_id["ccso-en:11.4.1"], 9.5, 0.86, 0.9, "search", sentence=0.86),
            Hit(by_id["ccso-en:11.3.2"], 8.0, 0.85, 1.0, "search", sentence=0.85)]
    assert _ordered(fake_assistant, "network security", hits)[:3] == ["11.3.2", "11.3", "11.4.1"]
