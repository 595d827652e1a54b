"""Answer composition at the API level (issue 13): sections, editions, kinds, readable answers,
plain clause lookups, refusals with suggestions, and /api/search's relevance and highlights."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.answering import (
    AnswerConfig,
    Calibration,
    order_by_answer,
    page_label,
    substantive,
)
from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.extract import extractive_answer
from assistant.kinds import KindsError, read_kinds
from assistant.parts import MAX_PARTS, question_parts
from assistant.sections import add_sections
from assistant.records import Citation, Clause
from assistant.retrieval import Hit
from assistant.text import sentence_spans
from assistant.service import Assistant
from assistant.units import units_of

from assistant.lookups import asked_unit, nearest_numbers
from tests.support.api import ask
from tests.support.corpus import GUIDANCE, fake_assistant_over
from tests.support.paths import DATA


def _clause(number: str, text: str, *, document: str = "doc", title: str = "", path=None, lang: str = "en",
            pages=(None, None)) -> Clause:
    return Clause(id=f"{document}:{number}", document=document, number=number, title=title,
                  path=path if path is not None else [f"{number} {title}".strip()], text=text,
                  page_start=pages[0], page_end=pages[1], lang=lang)


# -- 2. sections --------------------------------------------------------------------------------


def test_a_heading_without_a_body_becomes_a_section_of_its_children():
    clauses = [
        _clause("5.4.1", "Training shall cover all staff. It is planned yearly.", title="Training system",
                path=["5 Personnel", "5.4 Training", "5.4.1 Training system"]),
        _clause("5.4.2", "New staff get 40 hours.", title="Pre-service training",
                path=["5 Personnel", "5.4 Training", "5.4.2 Pre-service training"]),
        _clause("5.5", "Careers are planned.", title="Careers", path=["5 Personnel", "5.5 Careers"]),
    ]
    out = add_sections(clauses)
    assert [c.number for c in out] == ["5", "5.4", "5.4.1", "5.4.2", "5.5"]
    section = out[1]
    assert section.id == "doc:5.4" and section.title == "Training" and section.path == ["5 Personnel", "5.4 Training"]
    assert section.children == ["doc:5.4.1", "doc:5.4.2"]
    # Retrieval text: each child's title and lead sentence, not the whole child.
    assert section.text == "Training system: Training shall cover all staff.\nPre-service training: New staff get 40 hours."
    assert out[0].children == ["doc:5.4", "doc:5.5"]
    # The parser's clauses are left as they were.
    assert all(not c.children for c in out if c.number in ("5.4.1", "5.4.2", "5.5"))


def test_chapter_lookups_open_the_chapter_as_a_section(client):
    for question, wanted in (("第十二章", "ccso-zh:12"), ("第十二条", "ccso-zh:12"), ("Chapter 12", "ccso-en:12")):
        body = ask(client, question)
        assert not body["abstained"], question
        first = body["citations"][0]
        assert first["id"] == wanted, question
        children = first["children"]
        assert [c["clause"] for c in children][:3] == ["12.1", "12.2", "12.3"]
        assert children[0]["link"] == f"/documents/{first['document']}#12.1"
        assert children[0]["title"]


def test_a_topic_question_about_a_section_cites_it_with_its_children(client):
    # The fake embedder's hashed n-grams collide: for the bare topic "访问控制" (what the asking
    # template leaves) its cosines put 12.4.1 first, so the question carries a few more words.
    body = ask(client, "系统访问控制怎么做")
    first = body["citations"][0]
    assert first["clause"] == "11.4" and [c["clause"] for c in first["children"]] == ["11.4.1", "11.4.2", "11.4.3"]
    # The answer speaks from the section first: its children's lead sentences.
    assert body["answer"].split("\n")[0].endswith("[1]")


def test_a_section_goes_below_a_part_of_it_that_fits_as_well():
    section = _clause("7.3", "Writing: Each process shall be documented.", title="Process control",
                      path=["7 Processes", "7.3 Process control"])
    section.children = ["doc:7.3.1"]
    child = _clause("7.3.1", "Each process shall be documented, including:", title="Contents of process documents",
                    path=["7 Processes", "7.3 Process control", "7.3.1 Contents of process documents"])
    other = _clause("8.1", "Performance is managed.", title="Performance")
    from assistant.lexical import tokenize

    hits = [Hit(section, 3.0, 0.8, 1.0, "search", sentence=0.9), Hit(other, 2.0, 0.8, 1.0, "search", sentence=0.8),
            Hit(child, 1.0, 0.8, 1.0, "search", sentence=0.85)]
    ordered = order_by_answer(hits, None, set(tokenize("contents of a process document")), None, CONFIG)
    assert [h.clause.number for h in ordered] == ["7.3.1", "7.3", "8.1"]
    # A question that fits the section's own title better keeps the section first.
    ordered = order_by_answer(hits, None, set(tokenize("process control")), None, CONFIG)
    assert [h.clause.number for h in ordered][0] == "7.3"


def test_the_clause_words_and_meaning_both_put_first_is_cited_first():
    """10.2.3 (CTI) says in one sentence, in the question's words, that a transferred caller need
    not repeat themselves; its passage cosine, diluted by the rest of the clause, ranked it last."""
    from assistant.lexical import tokenize

    cti = _clause("10.2.3", "Information provided by the customer shall be transferred with the call.",
                  title="Computer telephony integration")
    closure = _clause("9.4.4", "Complaints are closed when the customer agrees.", title="Complaint closure")
    fcr = _clause("3.1.5", "Share of contacts resolved at the first contact.", title="First call resolution rate")
    terms = set(tokenize("do callers repeat the problem after a transfer"))
    hits = [Hit(fcr, 3.5, 0.90, 0.45, "search", sentence=0.92), Hit(closure, 3.3, 0.91, 0.20, "search", sentence=0.90),
            Hit(cti, 3.0, 0.89, 1.00, "search", sentence=0.94)]
    assert [h.clause.number for h in order_by_answer(hits, None, terms, None, CONFIG)][0] == "10.2.3"
    # Agreed, but its sentence is hardly closer than the first clause's: the usual order stands.
    close = [hits[0], hits[1], Hit(cti, 3.0, 0.89, 1.00, "search", sentence=0.93)]
    assert [h.clause.number for h in order_by_answer(close, None, terms, None, CONFIG)][0] == "3.1.5"
    # Words and meaning disagree: the usual order stands.
    split = [Hit(fcr, 3.5, 0.90, 0.45, "search", sentence=0.95), hits[1], hits[2]]
    assert [h.clause.number for h in order_by_answer(split, None, terms, None, CONFIG)][0] == "3.1.5"
    # A question that names a clause number is a lookup: the agreement moves nothing.
    named = [Hit(closure, 1.0, 0.91, 0.20, "number", sentence=0.90), hits[0], hits[2]]
    assert [h.clause.number for h in order_by_answer(named, None, terms, None, CONFIG)][0] != "10.2.3"
    # A clause whose title says the topic better keeps its place.
    titled = _clause("3.1.6", "Transfers are counted.", title="Transfer problem rate")
    with_title = [Hit(titled, 3.6, 0.90, 0.30, "search", sentence=0.90), *hits]
    assert [h.clause.number for h in order_by_answer(with_title, None, terms, None, CONFIG)][0] == "3.1.6"
    # The parent of the first clause does not displace it.
    parent = _clause("9.4", "Complaints are handled by a procedure.", title="Complaint handling")
    child = _clause("9.4.2", "Complaints are resolved within 5 working days.", title="Complaint time limits",
                    path=["9.4 Complaint handling", "9.4.2 Complaint time limits"])
    nested = [Hit(child, 3.5, 0.90, 0.40, "search", sentence=0.91), Hit(parent, 3.0, 0.89, 1.0, "search", sentence=0.95)]
    assert [h.clause.number for h in order_by_answer(nested, None, set(tokenize("time limit")), None, CONFIG)][0] == "9.4.2"


def test_a_question_one_child_answers_better_cites_the_child_before_its_section(client):
    body = ask(client, "客户信息保密有什么要求")
    numbers = [c["clause"] for c in body["citations"]]
    assert numbers[0] == "11.5"
    assert "11" not in numbers or numbers.index("11") > numbers.index("11.5")


def test_the_viewer_and_documents_list_leave_sections_out(client, fake_assistant):
    clauses = client.get("/api/documents/ccso-zh/clauses").json()["clauses"]
    assert "12" not in [c["number"] for c in clauses] and "12.1" in [c["number"] for c in clauses]
    # ...but the section is a clause of its own through the clause route.
    section = client.get("/api/clauses/ccso-zh:12").json()
    assert section["children"][0] == "ccso-zh:12.1"


# -- 3. one clause, one citation ------------------------------------------------------------------


def test_each_clause_is_cited_once_in_the_questions_language_with_the_other_edition_under_also_in(client):
    for question, lang, other in (("通话录音保存期限是多久", "zh", "en"), ("how long are call recordings kept", "en", "zh")):
        body = ask(client, question)
        numbers = [c["clause"] for c in body["citations"]]
        assert len(numbers) == len(set(numbers)), numbers
        assert all(c["lang"] == lang for c in body["citations"])
        first = body["citations"][0]
        assert first["clause"] == "11.6.1"
        other_doc = f"ccso-{other}"
        assert first["also_in"] == [{"id": f"{other_doc}:11.6.1", "lang": other, "link": f"/documents/{other_doc}#11.6.1"}]


def test_the_lang_filter_ranks_across_editions_then_cites_the_requested_edition(client):
    for question, lang in (("通话录音保存期限是多久", "en"), ("how long are call recordings kept", "zh"),
                           ("制定战略计划前应收集哪些信息", "en")):
        unfiltered = ask(client, question)
        filtered = ask(client, question, lang=lang)
        assert filtered["citations"] and all(c["lang"] == lang for c in filtered["citations"])
        assert filtered["citations"][0]["clause"] == unfiltered["citations"][0]["clause"]


# -- 4. guidance before background ---------------------------------------------------------------


def test_documents_carry_their_kind(client):
    kinds = {d["id"]: d["kind"] for d in client.get("/api/documents").json()}
    assert kinds == {"ccso-zh": "guidance", "ccso-en": "guidance", "meeting-report-2022": "background"}


def test_background_is_cited_only_when_asked_for_or_when_no_guidance_qualifies(client):
    question = "Who attended the publicity and implementation meeting in Beijing?"
    plain = ask(client, question)
    kinds = {c["kind"] for c in plain["citations"]}
    # Never mixed in unasked: either the guidance answers, or only background does (labelled so).
    assert kinds in ({"guidance"}, {"background"})
    if kinds == {"background"}:
        assert all(c["document"] == "meeting-report-2022" for c in plain["citations"])
    wider = ask(client, question, include_background=True)
    background = [c for c in wider["citations"] if c["document"] == "meeting-report-2022"]
    assert background and all(c["kind"] == "background" for c in background)
    only = ask(client, question, document="meeting-report-2022")
    assert only["citations"] and all(c["kind"] == "background" for c in only["citations"])
    # Labelled in the answer text too, never read as the guidance's word.
    assert all(line.startswith("Background (not the guidance): ") for line in only["answer"].split("\n"))
    guidance_question = ask(client, "通话录音保存期限是多久")
    assert {c["kind"] for c in guidance_question["citations"]} == {"guidance"}


def test_a_date_line_or_bare_heading_is_never_an_answer():
    assert not substantive(_clause("¶1", "Publicity and implementation meeting\n2022-10-22\n  • Detail",
                                   title="Publicity and implementation meeting"))
    assert not substantive(_clause("¶2", "2022-10-22"))
    assert substantive(_clause("¶3", "Nearly 200 people attended the meeting in Beijing on June 27."))


@pytest.mark.parametrize("question", ["What happened at the 2022 meeting?", "2022-10-22", "Detail"])
def test_a_date_line_a_bulleted_label_or_a_repeated_heading_is_never_quoted(client, question):
    """The news page's first paragraph starts with its title, its date and "• Detail": the
    paragraph says something, and only its sentences that say something are quoted."""
    from assistant.answering import says_nothing

    body = ask(client, question, document="meeting-report-2022")
    assert body["citations"], body
    for citation in body["citations"]:
        headings = (citation["title"], *citation["path"])
        quoted = [citation["text"][start:end] for start, end in citation["highlights"]]
        assert quoted and not any(says_nothing(q, headings) for q in quoted), (citation["clause"], citation["text"][:200], quoted)
    for line in body["answer"].split("\n"):
        said = re.sub(r"^Background \(not the guidance\): |(?:\s*\[\d+\])+$", "", line)
        assert not says_nothing(said), body["answer"]
        assert said.strip() != "Publicity and implementation meeting for the guida", body["answer"]


def test_says_nothing():
    from assistant.answering import says_nothing

    assert says_nothing("2022-10-22") and says_nothing("  • Detail") and says_nothing("2022年10月22日")
    assert says_nothing("Data security", ("Data security", "11.7 Data security"))
    assert not says_nothing("Nearly 200 people attended the meeting.")
    assert not says_nothing("a) Scope and incident classification")
    assert not says_nothing("暂停培训")  # a list item without its marker still says something


def test_the_kinds_sidecar_is_checked(tmp_path: Path):
    assert read_kinds(tmp_path) == {}
    (tmp_path / "documents.toml").write_text('[report]\nkind = "news"\n', encoding="utf-8")
    with pytest.raises(KindsError, match="kind must be one of guidance, background"):
        read_kinds(tmp_path)
    (tmp_path / "documents.toml").write_text("[report\n", encoding="utf-8")
    with pytest.raises(KindsError, match="cannot read"):
        read_kinds(tmp_path)


# -- 5. readable extractive answers --------------------------------------------------------------


def test_a_list_comes_with_its_lead_in_and_all_its_items(client):
    for question in ("制定战略计划前应收集哪些信息", "What information should be collected before drawing up the strategic plan?"):
        answer = ask(client, question)["answer"]
        lines = answer.split("\n")
        assert re.search(r"[:：]$", lines[0]), answer
        assert [line[:2] for line in lines[1:5]] == ["a)", "b)", "c)", "d)"], answer


def _citation(text: str, highlights, lang: str = "en", number: str = "1") -> Citation:
    return Citation(id=f"doc:{number}", document="doc", clause=number, title="", path=[], page_start=None,
                    page_end=None, lang=lang, text=text, highlights=highlights, score=0.5)


def _scores(text: str, best: int, others: float = 0.1) -> list:
    from assistant.units import ScoredSentence

    return [ScoredSentence(s, e, 0.9 if i == best else others) for i, (s, e) in enumerate(sentence_spans(text))]


CONFIG = AnswerConfig(calibration=Calibration(0.5))


def test_an_item_never_appears_without_its_lead_in():
    text = "Complaints are handled fairly. A complaint is escalated when:\na) it is not resolved in 5 days;\nb) the customer asks."
    spans = sentence_spans(text)
    scored = _scores(text, best=3)  # the best sentence is item b)
    citation = _citation(text, [spans[3]])
    answer = extractive_answer("when is a complaint escalated", [citation], [scored], CONFIG, False)
    assert answer == "A complaint is escalated when:\na) it is not resolved in 5 days;\nb) the customer asks. [1]"
    assert citation.highlights == spans[1:]


def test_sentences_keep_their_order_and_are_never_repeated():
    text = "First rule applies. Second rule applies. First rule applies."
    spans = sentence_spans(text)
    from assistant.units import ScoredSentence

    scored = [ScoredSentence(*spans[0], 0.9), ScoredSentence(*spans[1], 0.88), ScoredSentence(*spans[2], 0.9)]
    citation = _citation(text, spans)
    answer = extractive_answer("which rule applies", [citation], [scored], CONFIG, False)
    assert answer == "First rule applies. Second rule applies. [1]"


def test_a_fragment_never_starts_mid_sentence():
    text = "Recordings shall be kept for\nsix months at least. Access is logged."
    units = units_of(text, sentence_spans(text))
    assert [text[u.start:u.end] for u in units] == ["Recordings shall be kept for\nsix months at least.", "Access is logged."]


def test_a_sentence_with_the_asked_for_number_is_preferred():
    text = "Complaints shall be handled promptly and politely. Complaints shall be resolved within 5 working days."
    spans = sentence_spans(text)
    from assistant.units import ScoredSentence

    scored = [ScoredSentence(*spans[0], 0.82), ScoredSentence(*spans[1], 0.80)]
    citation = _citation(text, [spans[0]])
    config = AnswerConfig(calibration=Calibration(0.5), highlight_margin=0.0, answer_sentences=1)
    answer = extractive_answer("how long may a complaint take to resolve?", [citation], [scored], config, False)
    assert answer == "Complaints shall be resolved within 5 working days. [1]"
    # Without a question about a number, the closest sentence wins.
    citation = _citation(text, [spans[0]])
    assert extractive_answer("how are complaints handled?", [citation], [scored], config, False).startswith("Complaints shall be handled")


def test_the_answer_is_grouped_per_clause(client):
    body = ask(client, "how long are call recordings kept and who may access them")
    groups = body["answer"].split("\n")
    markers = [re.findall(r"\[(\d+)\]", g) for g in groups]
    assert all(len(m) == 1 for m in markers), body["answer"]
    assert len({m[0] for m in markers}) == len(markers)


# -- 1. the right first clause ------------------------------------------------------------------


def test_citations_are_ordered_by_how_well_each_answers():
    # Equal fused scores: the clause whose best sentence is closer and whose title names the topic wins.
    a = _clause("1", "Staff get training.", title="Working hours")
    b = _clause("2", "Staff get training.", title="Training")
    hits = [Hit(a, 1.0, 0.8, 1.0, "search", sentence=0.80), Hit(b, 1.0, 0.8, 1.0, "search", sentence=0.80)]
    from assistant.lexical import tokenize

    config = AnswerConfig(calibration=Calibration(0.5), sentence_weight=4.0, title_weight=0.5)
    ordered = order_by_answer(hits, None, set(tokenize("training")), None, config)
    assert [h.clause.number for h in ordered] == ["2", "1"]
    # A much closer sentence beats a title match.
    hits = [Hit(a, 1.0, 0.8, 1.0, "search", sentence=0.95), Hit(b, 1.0, 0.8, 1.0, "search", sentence=0.80)]
    ordered = order_by_answer(hits, None, set(tokenize("training")), None, config)
    assert [h.clause.number for h in ordered] == ["1", "2"]


def test_a_clause_under_a_heading_that_names_the_topic_is_cited_before_one_whose_title_shares_a_word():
    # "staff training": 5.9's own title has "staff", 5.4.3's has "training" -- a tie on titles; the
    # heading above 5.4.3 (5.4 Training and development) names the topic, 5.9's heading does not.
    outsourced = _clause("5.9", "Outsourced staff follow the same training requirements.",
                         title="Management of outsourced and agency staff",
                         path=["5 Personnel management", "5.9 Management of outsourced and agency staff"])
    in_service = _clause("5.4.3", "Staff take refresher training every year.", title="In-service training",
                         path=["5 Personnel management", "5.4 Training and development", "5.4.3 In-service training"])
    from assistant.lexical import tokenize

    hits = [Hit(outsourced, 1.2, 0.8, 1.0, "search", sentence=0.80),
            Hit(in_service, 1.0, 0.8, 0.9, "search", sentence=0.80)]
    terms = set(tokenize("staff training"))
    assert [h.clause.number for h in order_by_answer(hits, None, terms, None, CONFIG)] == ["5.4.3", "5.9"]
    # Without the heading signal the better fused score would win: the signal is what decides.
    no_heading = AnswerConfig(calibration=Calibration(0.5), heading_weight=0.0)
    assert [h.clause.number for h in order_by_answer(hits, None, terms, None, no_heading)] == ["5.9", "5.4.3"]


def test_answer_signals_are_shares_of_the_topic_terms():
    clause = _clause("5.4.3", "Staff take refresher training every year.", title="In-service training",
                     path=["5 Personnel management", "5.4 Training and development", "5.4.3 In-service training"])
    from assistant.answering import answer_signals
    from assistant.lexical import tokenize

    (parts,) = answer_signals([Hit(clause, 1.0, 0.8, 0.9, "search", sentence=0.8)], set(tokenize("staff training")),
                              None)
    assert parts["title"] == 0.5 and parts["heading"] == 0.5 and parts["coverage"] == 1.0
    # Heading numbers are not topic words: "5" in the question does not match "5 Personnel management".
    (parts,) = answer_signals([Hit(clause, 1.0, 0.8, 0.9, "search")], set(tokenize("5 personnel")), None)
    assert parts["heading"] == 0.5


def test_a_named_clause_asked_about_in_chinese_words_is_a_lookup(client):
    # "讲的是什么" only asks what the clause says: its character bigrams are no topic.
    for question in ("第4.5条讲的是什么", "第4.5条的内容是什么"):
        body = ask(client, question)
        assert not body["abstained"], body["reason"]
        assert body["citations"][0]["clause"] == "4.5", [c["clause"] for c in body["citations"]]
        assert len(body["citations"]) == 1  # a lookup cites the clause, not what else matched
    body = ask(client, "第99.9条讲的是什么")
    assert body["abstained"] and body["reason"].startswith("no clause 99.9 in ccso-zh")


# -- 6. clause lookups said plainly -------------------------------------------------------------


def test_a_number_the_guidance_lacks_is_a_plain_refusal_with_the_nearest_clauses(client):
    body = ask(client, "clause 99.9")
    assert body["abstained"] and body["citations"] == []
    assert body["reason"].startswith("no clause 99.9 in ccso-en; nearest: ")
    assert body["uncertain"] is False  # a refusal, not an answer that may not be covered
    nearest = body["reason"].split("nearest: ")[1].rstrip(".").split(", ")
    assert [s["clause"] for s in body["suggestions"]] == nearest
    body = ask(client, "第99.9条")
    assert body["abstained"] and body["reason"].startswith("no clause 99.9 in ccso-zh; nearest: ")


def test_a_chapter_the_guidance_lacks_named_in_chinese_numerals_is_said_in_digits(client):
    # The fixture stops at chapter 12: "第二十章" is chapter 20, said as the numbers are written,
    # and in the unit it was asked by (a chapter is not said as an article).
    for question, unit, zh in (("第二十章", "chapter", "章"), ("第二十条", "clause", "条"), ("第二十节", "section", "节")):
        body = ask(client, question)
        assert body["abstained"] and body["reason"].startswith(f"no {unit} 20 in ccso-zh; nearest: "), body["reason"]
        nearest = body["reason"].split("nearest: ")[1].rstrip(".").split(", ")
        assert nearest and [s["clause"] for s in body["suggestions"]] == nearest
        assert body["message"].startswith(f"指导要求（ccso-zh）中没有第20{zh}；"), body["message"]
        assert "第20条" not in body["message"] or zh == "条"


def test_a_missing_chapter_is_said_as_a_chapter_and_its_nearest_are_chapters(client):
    for question, document in (("Chapter 20", "ccso-en"), ("第二十章", "ccso-zh")):
        body = ask(client, question)
        assert body["reason"].startswith(f"no chapter 20 in {document}; nearest: "), body["reason"]
        assert all("." not in s["clause"] for s in body["suggestions"]), body["suggestions"]
    body = ask(client, "Chapter 20")
    assert body["message"].startswith("No chapter 20 in ccso-en; nearest: ")
    body = ask(client, "第二十章")
    said = body["message"].split("最接近的章：")[1].rstrip("。").split("、")
    assert said == [f"第{s['clause']}章" for s in body["suggestions"]], body["message"]
    # "section 99.9" keeps its word too.
    assert ask(client, "section 99.9")["reason"].startswith("no section 99.9 in ccso-en")


def test_asked_unit_keeps_the_unit_of_the_question():
    assert asked_unit("第二十章", "二十") == "chapter"
    assert asked_unit("第 5.3 条怎么规定", "5.3") == "clause"
    assert asked_unit("第3节", "3") == "section"
    assert asked_unit("What does Chapter 12 cover?", "12") == "chapter"
    assert asked_unit("see Article 7", "7") == "article"
    assert asked_unit("99.9", "99.9") == "clause"
    # The unit belongs to the number it names: "chapter 2" says nothing about "4.5".
    assert asked_unit("chapter 2 and 4.5", "4.5") == "clause"


def test_nearest_numbers_look_like_the_asked_one():
    assert nearest_numbers("99.9", ["1", "9.9", "9.1", "12.4", "4.5"])[0] == "9.9"
    assert nearest_numbers("11.77", ["11.7", "11.7.1", "2"])[0] == "11.7"


def _corpus(tmp_path: Path, files: dict[str, str]) -> Assistant:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = Settings(_env_file=None, corpus_dir=corpus, index_dir=tmp_path / "index", embedder="fake", rate_limit="0")
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    return assistant


GUIDE = """# Guide

## 1 Scope

This guide applies to every call centre that answers customers by telephone.

## 2 Hours

Call centres shall answer calls from 8:00 to 21:00 every day.

## Annex A Forms

The complaint form shall record the caller, the time and the outcome.
"""

REPORT = """# Report

## 1 Opening

The meeting opened with a speech by the chair about the new guide.
"""


def test_a_bare_number_prefers_the_guidance_and_annexes_are_lookups(tmp_path: Path):
    assistant = _corpus(tmp_path, {"guide.md": GUIDE, "report.md": REPORT,
                                   "documents.toml": '[report]\nkind = "background"\n'})
    answer = assistant.ask("1")
    assert not answer.abstained and answer.citations[0].document == "guide"
    assert answer.citations[0].kind == "guidance"
    annex = [c for c in assistant.live.index.clauses if c.document == "guide" and "A" in c.number]
    if annex:  # the parser recognised the annex heading
        number = annex[0].number
        for question in ("Annex A", "附录A"):
            cited = assistant.ask(question)
            assert not cited.abstained and cited.citations[0].clause == number, question


# -- 7. useful refusals -------------------------------------------------------------------------


def test_a_refusal_carries_suggestions_and_the_contact_line(tmp_path: Path):
    shutil.copytree(GUIDANCE, tmp_path / "corpus")
    settings = Settings(_env_file=None, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index",
                        embedder="fake", rate_limit="0", min_confidence=0.9999,
                        refusal_contact="Call the service desk on 010-1234 5678.")
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    answer = assistant.ask("通话录音保存多久")
    assert answer.abstained and answer.citations == []
    assert answer.reason.endswith("Call the service desk on 010-1234 5678.")
    assert answer.contact == "Call the service desk on 010-1234 5678."
    assert 2 <= len(answer.suggestions) <= 3
    first = answer.suggestions[0]
    assert set(first) == {"id", "document", "clause", "title", "lang", "link"}
    assert first["link"].startswith(f"/documents/{first['document']}#")
    assert len({s["clause"] for s in answer.suggestions}) == len(answer.suggestions)
    assert all(s["document"] != "meeting-report-2022" for s in answer.suggestions)
    # An answered question carries no suggestions and no contact line.
    answered = assistant.ask("第4.5条")
    assert not answered.abstained and answered.suggestions == [] and answered.contact is None


# -- 8. /api/search -----------------------------------------------------------------------------


def test_search_marks_weak_hits_labels_relevance_and_highlights_like_ask(client):
    body = client.get("/api/search", params={"q": "通话录音保存期限", "k": 10}).json()
    hits = body["hits"]
    assert hits[0]["relevance"] == "high" and not hits[0]["weak"]
    assert any(h["weak"] for h in hits) and all(h["relevance"] == "low" for h in hits if h["weak"])
    assert {h["relevance"] for h in hits} <= {"high", "medium", "low"}
    first = hits[0]
    assert first["highlights"] and first["link"].startswith(f"/documents/{first['document']}")
    asked = ask(client, "通话录音保存期限")
    assert asked["citations"][0]["id"] == first["id"]
    assert first["kind"] == "guidance" and first["page_label"] is None  # Markdown has no pages


def test_huge_clauses_are_cut_with_the_highlights_kept(client):
    body = client.get("/api/search", params={"q": "information security incident emergency response steps", "k": 5}).json()
    long = [h for h in body["hits"] if h["id"] == "ccso-en:11.9.2"]
    assert long and long[0]["truncated"] and len(long[0]["text"]) < 3960
    assert all(end <= len(long[0]["text"]) for _, end in long[0]["highlights"])
    for hit in body["hits"]:
        whole = client.get(f"/api/clauses/{hit['id']}").json()["text"]
        assert hit["truncated"] == (len(whole) > 1500) and whole.startswith(hit["text"])


def test_page_labels_come_from_printed_labels_or_page_numbers():
    assert page_label(_clause("1", "x", pages=(6, 6))) == "6"
    assert page_label(_clause("1", "x", pages=(6, 7))) == "6–7"
    assert page_label(_clause("1", "x")) is None
    labelled = _clause("1", "x", pages=(3, 3))
    labelled.page_label_start, labelled.page_label_end = "iii", "iv"
    assert page_label(labelled) == "iii–iv"


@pytest.fixture(scope="module")
def staff_assistant(tmp_path_factory):
    """The fake embedder over the guidance fixture with chapter 5 (personnel management) added."""
    return fake_assistant_over(DATA / "guidance_staff", tmp_path_factory)[0]


@pytest.mark.parametrize("question", ["What does the guidance say about staff training?", "staff training"])
def test_a_topic_question_cites_the_section_named_by_the_topic_before_a_clause_sharing_a_word(
        staff_assistant, question):
    answer = staff_assistant.ask(question)
    assert not answer.abstained, answer.reason
    numbers = [c.clause for c in answer.citations]
    assert numbers[0] == "5.4" or numbers[0].startswith("5.4."), numbers
    # The same question searched: /api/search agrees on the first clause.
    assert staff_assistant.search(question)[0]["number"] == numbers[0]


def test_page_labels_read_the_same_in_the_cli_and_the_viewer():
    from assistant.cli import _pages
    from assistant.outline import pages_text

    assert [pages_text(label, "en") for label in ("6", "6–7", "iii", None)] == ["p. 6", "pp. 6–7", "p. iii", ""]
    assert pages_text("6–7", "zh") == "第 6–7 页"
    # the CLI prints the server's label (printed page labels), not its own range of page indexes
    assert _pages({"page_start": 8, "page_end": 9, "page_label": "6–7"}) == ", pp. 6–7"
    assert _pages({"page_start": None, "page_end": None, "page_label": None}) == ""


def test_a_childs_sentence_already_said_in_its_sections_line_is_not_said_again():
    from assistant.units import ScoredSentence

    lead = "个人绩效考核宜按月进行，团队和中心绩效考核宜按月度、季度和年度进行。"
    section_text = f"考核周期与方式：{lead}\n考核结果：考核结果应及时反馈给员工。"
    child_text = lead + "考核结果应作为评优的依据。"
    section = _citation(section_text, sentence_spans(section_text), lang="zh", number="8.4")
    section.children = [{"clause": "8.4.1"}]
    child = _citation(child_text, sentence_spans(child_text), lang="zh", number="8.4.1")
    scored = [[ScoredSentence(s, e, 0.9) for s, e in sentence_spans(c.text)] for c in (section, child)]
    answer = extractive_answer("绩效考核指标", [section, child], scored, CONFIG, False)
    assert answer.count("个人绩效考核宜按月进行") == 1, answer


def test_lines_that_end_no_sentence_stay_on_lines_of_their_own():
    from assistant.units import ScoredSentence

    text = "下列缩略语适用于本文件。\nFCR：首次解决率（First Call Resolution）\nIVR：交互式语音应答（Interactive Voice Response）\nKPI：关键绩效指标（Key Performance Indicator）"
    spans = sentence_spans(text)
    wanted = [i for i, (s, e) in enumerate(spans) if text[s:e].startswith(("FCR", "KPI"))]
    scored = [ScoredSentence(s, e, 0.9 if i in wanted else 0.1) for i, (s, e) in enumerate(spans)]
    answer = extractive_answer("KPI 有哪些", [_citation(text, [spans[i] for i in wanted], lang="zh")], [scored], CONFIG, False)
    assert "FCR：首次解决率（First Call Resolution）\nKPI：关键绩效指标" in answer, answer


# -- a question asking two things (issue 13 item 4) ----------------------------------------------


@pytest.mark.parametrize("question, parts", [
    ("投诉多久要回复？录音保存多长时间？", ["投诉多久要回复", "录音保存多长时间"]),
    ("How long are recordings kept and who can access them?", ["How long are recordings kept", "who can access them"]),
    ("What's the minimum password length; how often must it change?",
     ["What's the minimum password length", "how often must it change"]),
    ("录音保存多久，另外谁可以调阅？", ["录音保存多久", "谁可以调阅"]),
    ("How long are call recordings kept?", []),  # one thing asked
    ("Who handles complaints and disputes?", []),  # "and" inside one question
    ("第4.5条？", []),  # no topic in a part
    ("How long are recordings kept? Thanks", []),  # courtesy asks nothing of its own
    ("录音保存多久？谢谢！", []),
    ("What is the service level? Please explain.", []),
])
def test_question_parts_split_a_question_asking_two_things(question, parts):
    assert question_parts(question) == parts


def test_a_question_of_many_parts_buys_at_most_max_parts_model_calls():
    question = "".join(f"How long are recordings kept in room {n}? " for n in range(200))
    assert len(question_parts(question)) == MAX_PARTS


def test_each_part_of_a_two_part_question_gets_its_best_clause_cited_and_heard(client):
    question = "通话录音保存多久？谁可以调阅通话录音？"
    body = ask(client, question)
    assert not body["abstained"], body["reason"]
    assert [c["clause"] for c in body["citations"][:2]] == ["11.6.1", "11.6.2"], [c["id"] for c in body["citations"]]
    assert "保存期限不少于 6 个月" in body["answer"].split("[1]")[0], body["answer"]
    assert "调阅通话录音应提出书面或系统申请" in body["answer"].split("[1]")[1].split("[2]")[0], body["answer"]
    # Each part asked on its own cites the same clause first.
    for part, first in (("通话录音保存多久？", "11.6.1"), ("谁可以调阅通话录音？", "11.6.2")):
        assert ask(client, part)["citations"][0]["clause"] == first


def test_a_must_say_sentence_is_said_whatever_the_others_score():
    from assistant.units import ScoredSentence

    first = "Recordings are kept for 6 months. Recordings are stored safely."
    second = "Access needs approval. Access is logged."
    s1, s2 = sentence_spans(first), sentence_spans(second)
    scored = [[ScoredSentence(*s1[0], 0.95), ScoredSentence(*s1[1], 0.94)],
              [ScoredSentence(*s2[0], 0.70), ScoredSentence(*s2[1], 0.60)]]
    citations = [_citation(first, [s1[0], s1[1]], number="1"), _citation(second, [s2[0]], number="2")]
    plain = extractive_answer("How long are recordings kept? Who may access them?", citations, scored, CONFIG, False)
    assert "[2]" not in plain  # too weak beside the first clause's sentences
    citations = [_citation(first, [s1[0], s1[1]], number="1"), _citation(second, [s2[0]], number="2")]
    told = extractive_answer("How long are recordings kept? Who may access them?", citations, scored, CONFIG, False,
                             [(1, s2[0])])
    assert told.endswith("Access needs approval. [2]") and "kept for 6 months" in told, told


def test_a_clause_reference_is_no_figure_a_how_often_question_prefers():
    from assistant.extract import _has_number

    assert not _has_number("The plan shall be revised when weaknesses are found in the drills specified in 6.4.2.")
    assert not _has_number("应按11.7.4的规定删除。")
    assert _has_number("The plan shall be reviewed at least every 12 months.")
    assert _has_number("恢复时间不宜超过1.5小时。") and _has_number("at least 2.5 hours")
    assert _has_number("宜不少于十个工作日")
