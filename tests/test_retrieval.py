import pytest

from assistant.retrieval import chinese_numeral, clause_numbers_in, question_lang


@pytest.mark.parametrize(
    "question, numbers",
    [
        ("第4.5条", ["4.5"]),
        ("4.5", ["4.5"]),
        ("clause 4.5", ["4.5"]),
        ("What does 11.5 say?", ["11.5"]),
        ("第十二条规定了什么", ["十二"]),
        ("第 4 章", ["4"]),
        ("4", ["4"]),
        ("Who won the football world cup in 2018?", []),
        ("服务水平80/20是什么意思", []),
    ],
)
def test_clause_numbers_in_questions(question, numbers):
    assert clause_numbers_in(question) == numbers


def test_chinese_numerals():
    assert [chinese_numeral(n) for n in (3, 10, 12, 20, 105, 110)] == ["三", "十", "十二", "二十", "一百零五", "一百一十"]


def test_question_language():
    assert question_lang("数据安全有什么要求？") == "zh"
    assert question_lang("What about data security?") == "en"
    assert question_lang("IVR 菜单") == "zh"


def test_number_lookup_puts_the_clause_first_in_the_question_language(fake_assistant):
    hits = fake_assistant.live.retriever.search("第4.5条", k=5).hits
    assert hits[0].clause.id == "ccso-zh:4.5" and hits[0].matched_by == "number"
    hits = fake_assistant.live.retriever.search("what does clause 4.5 say", k=5).hits
    assert hits[0].clause.id == "ccso-en:4.5"


def test_a_heading_without_body_returns_its_first_children(fake_assistant):
    hits = fake_assistant.live.retriever.search("第4章", k=5).hits
    assert hits[0].clause.number.startswith("4.")


def test_filters_by_document_and_language(fake_assistant):
    search = fake_assistant.live.retriever.search
    assert {h.clause.document for h in search("data security", k=10, document="ccso-zh").hits} == {"ccso-zh"}
    assert {h.clause.lang for h in search("数据安全", k=10, lang="en").hits} == {"en"}
    assert search("数据安全", k=10, document="no-such-document").hits == []


def test_results_are_grouped_by_clause(fake_assistant):
    hits = fake_assistant.live.retriever.search("数据安全 数据备份 加密", k=50).hits
    ids = [h.clause.id for h in hits]
    assert len(ids) == len(set(ids))


def test_hybrid_search_finds_topical_clause(fake_assistant):
    hits = fake_assistant.live.retriever.search("客户信息保密", k=3).hits
    assert "客户信息" in hits[0].clause.title or "客户信息" in hits[0].clause.text
