import numpy as np
import pytest

from assistant.query import Vocabulary, analyse, content_terms, strip_template


@pytest.mark.parametrize(
    "question",
    [
        "What does the guidance say about data security?",
        "what does the standard say on data security",
        "What are the requirements for data security?",
        "Is there any guidance on data security?",
        "Tell me about data security.",
        "data security",
    ],
)
def test_english_templates_leave_the_topic(question):
    assert analyse(question).topic == "data security"


@pytest.mark.parametrize("question, term", [
    ("What does 占用率 mean?", "占用率"),
    ("what does AHT stand for", "AHT"),
    ("What does the term schedule adherence mean?", "schedule adherence"),
    ("What is meant by first call resolution?", "first call resolution"),
])
def test_a_definition_question_leaves_the_term(question, term):
    """The asking words carry no topic: left in, "mean" matched whatever English clause says
    "means" (3.1.3 Service level cited before 3.1.11 Occupancy for "What does 占用率 mean?")."""
    analysis = analyse(question)
    assert analysis.topic == term and analysis.lang == "en"


def test_a_mixed_definition_question_matches_no_english_clause_by_its_asking_words(fake_assistant):
    retriever = fake_assistant.live.retriever
    index = fake_assistant.live.index
    english = np.array([index.clause_by_id[p.clause_id].lang == "en" for p in index.passages])
    asked = "What does 占用率 mean?"
    assert (index.lexical.scores("What does the policy mean?")[english] > 0).any()  # "mean" is in the text
    assert not (index.lexical.scores(retriever.analyse(asked).search_text)[english] > 0).any()


def test_is_it_required_keeps_what_follows():
    analysis = analyse("Is it required to record all calls?")
    assert analysis.template == "is-it-required"
    assert analysis.topic == "record all calls"


@pytest.mark.parametrize(
    "question", ["指导要求对数据安全有什么规定？", "数据安全有什么要求", "关于数据安全的规定", "本标准对数据安全有哪些要求？", "数据安全"]
)
def test_chinese_templates_leave_the_topic(question):
    analysis = analyse(question)
    assert analysis.topic == "数据安全" and analysis.lang == "zh"


def test_questions_without_a_template_are_left_whole():
    for question in ("What is the capital of France?", "你好", "个人所得税怎么算", "录音保存多久"):
        template, topic = strip_template(question)
        assert template is None and topic == question


def test_a_template_around_nothing_is_no_template():
    assert strip_template("What are the requirements for it?")[0] is None


def test_clause_numbers_survive_the_template():
    analysis = analyse("What does clause 4.5 say about leadership?")
    assert analysis.clause_numbers == ("4.5",)
    assert "4.5" in analysis.search_text
    assert "4.5" not in analysis.terms and "leadership" in analysis.terms


def test_misspelt_words_are_corrected_against_the_corpus_vocabulary():
    vocabulary = Vocabulary(["Passwords and the password policy.", "Call recordings are kept.",
                             "Schedule adherence is measured."])
    analysis = analyse("pasword policy for recrodings and schedule adherance", vocabulary)
    assert analysis.corrections == {"pasword": "password", "recrodings": "recordings"}
    assert analysis.search_text == "password policy for recordings and schedule adherance"
    # "adherance" needs no correction: it stems to the corpus's "adherence", which BM25 matches.
    assert "adher" in analysis.terms


def test_known_words_inflections_and_short_words_are_not_corrected():
    vocabulary = Vocabulary(["The agent records the call."])
    # "calls" is an inflection of a corpus word, "cal" too short to judge, "zebra" far from anything.
    assert vocabulary.corrections("calls cal zebra agents") == {}


def test_content_terms_drop_asking_words_and_bigrams():
    assert content_terms("个人所得税怎么算") == ("个人所得税", "算")
    assert "guidanc" not in content_terms("guidance on passwords")


def test_content_terms_drop_the_words_of_casual_chinese():
    # A standard never says 啥, 你们 or 要不要: as topic words they lowered the coverage of casual
    # questions the guidance answers.
    assert content_terms("你们客服一般多少秒能接起来啊") == ("客服", "秒", "接", "起来")
    assert content_terms("招客服对普通话有啥要求") == ("招", "客服", "普通话")
    assert "是不是" not in content_terms("是不是要录音") and "录音" in content_terms("是不是要录音")


def test_a_run_of_spaces_reads_as_one_space_in_the_templates():
    # The templates backtrack cubically over a long run of spaces ("is", 2,000 spaces, "x" took
    # 95 s); the service collapses runs, and the templates read a question the same way.
    assert strip_template("Is   data\n\nsecurity   covered  by this guidance?") == strip_template(
        "Is data security covered by this guidance?") == ("is-covered", "data security")
    assert strip_template("is" + " " * 2000 + "x") == (None, "is" + " " * 2000 + "x")
