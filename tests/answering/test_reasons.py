"""A refusal's reason said in the question's language (`message`, assistant/reasons.py), at the
API level and for every reason the service writes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.reasons import ZH_FALLBACK, said_to_asker
from assistant.service import Assistant

from tests.support.api import ask
from tests.support.corpus import GUIDANCE

CONTACT = "Call the service desk on 010-1234 5678."


@pytest.mark.parametrize("reason, zh", [
    ("no clause 99.9 in ccso-zh; nearest: 9.9, 9.1, 1.", "指导要求（ccso-zh）中没有第99.9条；最接近的条款：9.9、9.1、1。"),
    ("no clause 20 in ccso-zh.", "指导要求（ccso-zh）中没有第20条。"),
    ("no clause 7.", "指导要求中没有第7条。"),
    ("no chapter 20 in ccso-zh; nearest: 2, 10, 12.", "指导要求（ccso-zh）中没有第20章；最接近的章：第2章、第10章、第12章。"),
    ("no section 9.9 in ccso-zh.", "指导要求（ccso-zh）中没有第9.9节。"),
    ("no article 20.", "指导要求中没有第20条。"),
    ("The guidance has no clause that matches this question.", "指导要求中没有与这个问题相符的条款。"),
    ("No clause within the chosen document or language matches this question.", "所选文件或语言中没有与这个问题相符的条款。"),
])
def test_each_reason_the_service_writes_is_said_in_chinese_to_a_chinese_question(reason, zh):
    assert said_to_asker(reason, "zh") == zh
    # An English question gets the reason itself, as a sentence.
    assert said_to_asker(reason, "en") == reason[:1].upper() + reason[1:]


@pytest.mark.parametrize("closest", ["ccso-zh:5.3", "ccso-en:6.3.2", "meeting-report-2022:¶1"])
def test_a_low_confidence_refusal_is_said_without_its_figures_and_clause_id(closest):
    # The figures mean nothing to the public, and the clause named (the closest by cosine) is
    # often not among the suggestions listed under the message: the message would contradict them.
    reason = f"The guidance does not appear to cover this question (confidence 0.31, below 0.45; closest clause {closest})."
    assert said_to_asker(reason, "zh") == "指导要求似乎没有涵盖这个问题。"
    assert said_to_asker(reason, "en") == "The guidance does not appear to cover this question."


def test_a_reason_no_pattern_knows_is_not_said_in_english_to_a_chinese_reader():
    assert said_to_asker("Something new went wrong.", "zh") == ZH_FALLBACK
    assert said_to_asker("Something new went wrong.", "en") == "Something new went wrong."


def test_a_missing_clause_is_refused_in_the_questions_language_naming_the_suggested_clauses(client):
    body = ask(client, "第99.9条")
    assert body["abstained"] and body["reason"].startswith("no clause 99.9 in ccso-zh; nearest: ")
    match = re.fullmatch(r"指导要求（ccso-zh）中没有第99\.9条；最接近的条款：(.+)。", body["message"])
    assert match, body["message"]
    assert match.group(1).split("、") == [s["clause"] for s in body["suggestions"]]

    body = ask(client, "clause 99.9")
    assert body["message"] == "N" + body["reason"][1:]
    assert body["message"].startswith("No clause 99.9 in ccso-en; nearest: ")


def test_an_answer_has_no_message(client):
    body = ask(client, "第4.5条")
    assert not body["abstained"] and body["message"] is None


def test_a_low_confidence_refusal_is_said_in_chinese_without_the_figures_and_the_contact_line(tmp_path: Path):
    shutil.copytree(GUIDANCE, tmp_path / "corpus")
    settings = Settings(_env_file=None, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index",
                        embedder="fake", rate_limit="0", min_confidence=0.9999, refusal_contact=CONTACT)
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    answer = assistant.ask("通话录音保存多久")
    assert answer.abstained and answer.reason.endswith(CONTACT)
    # The abstention decision's own wording is known (not the fallback); the figures and the
    # clause id stay in `reason`, for logs.
    assert answer.message == "指导要求似乎没有涵盖这个问题。", answer.message
    assert re.search(r"\(confidence [\d.]+, below [\d.]+; closest clause ccso-zh:\S+\)\.", answer.reason), answer.reason
    assert CONTACT not in answer.message  # clients show `contact` on a line of its own

    answer = assistant.ask("How long are call recordings kept?")
    assert answer.abstained and answer.message == "The guidance does not appear to cover this question."
    assert re.search(r"closest clause ccso-en:\S+\)\. " + re.escape(CONTACT) + "$", answer.reason), answer.reason


def test_a_low_confidence_refusal_names_the_closest_clause_of_the_questions_edition(fake_assistant):
    from dataclasses import replace

    retriever = fake_assistant.live.retriever
    question = "How long are call recordings kept?"
    analysis = retriever.analyse(question)
    result = retriever.search(question, k=60, analysis=analysis)
    english = [h for h in result.hits if h.clause.lang == "en"]
    chinese = next(h for h in result.hits if h.clause.lang == "zh")
    # The other edition's clause is the closest by cosine: it is still not the one named.
    result.hits = [replace(chinese, sentence=0.999)] + english[:9]
    decision = fake_assistant.scope_model.decide(analysis, result, retriever, min_confidence=0.99999)
    assert decision.abstain and re.search(r"closest clause ccso-en:\S+\)\.$", decision.reason), decision.reason
    # Only the other edition among the top hits (a nonsense question's cosines can do that):
    # its clause is named by its counterpart in the question's edition, as the suggestions are.
    result.hits = [replace(chinese, sentence=0.999)]
    decision = fake_assistant.scope_model.decide(analysis, result, retriever, min_confidence=0.99999)
    assert f"ccso-en:{chinese.clause.number}" in fake_assistant.live.index.clause_by_id
    assert decision.reason.endswith(f"closest clause ccso-en:{chinese.clause.number})."), decision.reason


def test_a_search_for_a_missing_clause_says_so_as_the_ask_refusal_does(client):
    # /api/search shows weak matches for "clause 99.9"; `missing` says that no clause 99.9 exists
    # and which are nearest, by the same rule and in the same words as /api/ask's refusal.
    for query, unit, document in (("clause 99.9", "clause", "ccso-en"), ("第99.9条", "clause", "ccso-zh"),
                                  ("第二十章", "chapter", "ccso-zh"), ("Chapter 20", "chapter", "ccso-en")):
        refusal = ask(client, query)
        response = client.get("/api/search", params={"q": query})
        assert response.status_code == 200, response.text
        missing = response.json()["missing"]
        assert missing is not None, query
        assert missing["reason"] == refusal["reason"] and missing["message"] == refusal["message"]
        assert (missing["unit"], missing["document"]) == (unit, document)
        assert missing["number"] == ("20" if "20" in refusal["reason"] else "99.9")
        assert [s["id"] for s in missing["nearest"]] == [s["id"] for s in refusal["suggestions"]]
        assert missing["nearest"] and all(s["link"].startswith("/documents/") for s in missing["nearest"])
    # A clause that exists, a topic, and a number with a topic carry no such notice.
    for query in ("第4.5条", "data security", "clause 99.9 data security"):
        assert client.get("/api/search", params={"q": query}).json()["missing"] is None, query
