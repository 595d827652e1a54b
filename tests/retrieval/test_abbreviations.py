"""Abbreviations the corpus defines itself replace themselves by their expansion in a question
(assistant/abbreviations.py), so "KPI" finds the key performance indicator clauses (8.2) and not
only the definitions list (3.2) that holds the abbreviation."""


import pytest

from assistant.abbreviations import Abbreviations
from assistant.query import analyse
from assistant.records import Clause
from tests.support.corpus import fake_assistant_over
from tests.support.paths import DATA


def _clause(number: str, title: str, text: str, lang: str = "en") -> Clause:
    return Clause(id=f"doc-{lang}:{number}", document=f"doc-{lang}", number=number, title=title,
                  path=[f"{number} {title}"], text=text, page_start=None, page_end=None, lang=lang)


ABBREVIATIONS = Abbreviations.from_clauses([
    _clause("3.2", "Abbreviations", "The following abbreviations apply.\nKPI: Key Performance Indicator\n"
            "AHT: Average Handling Time\nSL: Service Level\nNote: see clause 4\nWFM: Workforce Management"),
    _clause("3.2", "缩略语", "下列缩略语适用于本文件。\nKPI：关键绩效指标（Key Performance Indicator）", "zh"),
    _clause("10.2.2", "Interactive voice response (IVR)", "The menu should have no more than 3 levels."),
    _clause("10.2.2", "交互式语音应答（IVR）", "菜单的层级不宜超过 3 层。", "zh"),
])


def test_definition_lines_and_titles_give_expansions_in_each_language():
    assert ABBREVIATIONS.expansions["KPI"] == {"en": "Key Performance Indicator", "zh": "关键绩效指标"}
    assert ABBREVIATIONS.expansions["IVR"] == {"en": "Interactive voice response", "zh": "交互式语音应答"}
    assert ABBREVIATIONS.expansions["WFM"] == {"en": "Workforce Management"}  # letters in order, not initials only
    assert "Note" not in ABBREVIATIONS.expansions and "NOTE" not in ABBREVIATIONS.expansions


@pytest.mark.parametrize("question, lang, expected", [
    ("KPI", "en", "Key Performance Indicator"),
    ("What are the KPIs?", "en", "What are the Key Performance Indicator?"),
    ("kpi targets", "en", "Key Performance Indicator targets"),
    ("KPI有哪些", "zh", "关键绩效指标有哪些"),
    ("AHT怎么算", "zh", "Average Handling Time怎么算"),  # no Chinese definition: the English one
    ("SL 80/20", "en", "Service Level 80/20"),
])
def test_an_abbreviation_is_replaced_by_its_expansion_in_the_question_language(question, lang, expected):
    text, made = ABBREVIATIONS.expand(question, lang)
    assert text == expected and made


def test_a_title_every_passage_of_a_document_carries_is_no_definition():
    # ObliQA-style records: the rulebook's name, with its abbreviation, on every passage.
    name = "Anti-Money Laundering and Sanctions Rules and Guidance (AML)"
    clauses = [_clause(n, name, "Text.") for n in ("1.1", "1.2")]
    assert len(Abbreviations.from_clauses(clauses)) == 0
    assert Abbreviations.from_clauses(clauses[:1]).expansions["AML"]


def test_a_lower_case_english_word_is_not_taken_for_an_abbreviation():
    abbreviations = Abbreviations({"FUNDS": {"en": "Fund Unit Deposit System"}, "KPI": {"en": "Key Performance Indicator"}},
                                  is_word={"funds", "fund"}.__contains__)
    assert abbreviations.expand("client funds", "en") == ("client funds", {})
    assert abbreviations.expand("FUNDS rules", "en")[0] == "Fund Unit Deposit System rules"
    assert abbreviations.expand("kpi", "en")[0] == "Key Performance Indicator"


@pytest.mark.parametrize("question", [
    "sl and qa",  # two-letter abbreviations only as written: lower-case ones are too often words
    "What is a key performance indicator (KPI)?",  # spelt out already
    "What is the capital of France?",
])
def test_words_that_are_not_a_defined_abbreviation_are_left_alone(question):
    assert ABBREVIATIONS.expand(question, "en") == (question, {})


def test_the_analysis_searches_the_expansion_and_keeps_the_question():
    analysis = analyse("What are the KPIs?", abbreviations=ABBREVIATIONS)
    assert analysis.text == "What are the KPIs?"
    assert analysis.expansions == {"KPIs": "Key Performance Indicator"}
    assert {"key", "perform", "indic"} <= analysis.terms and "kpis" not in analysis.terms


@pytest.mark.parametrize("question", [
    "What are the KPIs?",  # expanded
    "What is a key performance indicator (KPI)?",  # spelt out beside it: left as asked
    "KPI关键绩效指标有哪些",
])
def test_a_question_naming_a_defined_abbreviation_knows_the_lists_that_define_it(question):
    """Spelt out or not, the definitions list matches the question through the abbreviation, so
    citations put it after the clause about the concept (answering.definitions_after_first)."""
    analysis = analyse(question, abbreviations=ABBREVIATIONS)
    assert analysis.defined_in == {"doc-en:3.2", "doc-zh:3.2"}


def test_a_question_without_a_defined_abbreviation_names_no_list():
    assert analyse("What is the capital of France?", abbreviations=ABBREVIATIONS).defined_in == frozenset()
    assert ABBREVIATIONS.named("sl and qa, the KPIs and WFM") == ["KPIs", "WFM"]


@pytest.fixture(scope="module")
def terms_assistant(tmp_path_factory):
    """The English edition's chapters 1, 3 (terms, 3.2 abbreviations), 8 (8.2 Key performance
    indicator system) and 10.2, cut from corpus/source/ccso-en.md."""
    return fake_assistant_over(DATA / "guidance_terms", tmp_path_factory)[0]


@pytest.mark.parametrize("question", ["KPI", "KPIs", "What are the KPIs?"])
def test_a_kpi_question_cites_the_indicator_clauses_before_the_abbreviations_list(terms_assistant, question):
    answer = terms_assistant.ask(question)
    assert not answer.abstained, answer.reason
    numbers = [c.clause for c in answer.citations]
    assert numbers[0] == "8.2" or numbers[0].startswith("8.2."), numbers


def test_the_index_reads_its_own_abbreviations(terms_assistant):
    abbreviations = terms_assistant.live.retriever.abbreviations
    assert abbreviations.expansions["AHT"]["en"] == "Average Handling Time"
    assert abbreviations.expansions["IVR"]["en"]
