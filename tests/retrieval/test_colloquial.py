from assistant.colloquial import Homophones, normalise
from assistant.query import analyse

CORPUS = [
    "通话录音保存期限不少于 6 个月。",
    "坐席密码应定期更换，密码长度不少于 8 位。",
    "投诉处理时限应予公布。坐席人员使用知识库检索。",
    "人力需求测算用时应记录。",  # 用时: 用什么 must not read as 用时么
    "行业协会的意见。",  # 协会: 歇会 (xie1) is not 协会 (xie2)
    "系统使用前应测试。",  # 使用: 试用 is a real word, not a typo of it
]


def test_spoken_question_words_are_written_out():
    assert normalise("录音要保存多久啊") == "录音要保存多久"
    assert normalise("质检要不要全检") == "质检是否要全检"
    assert normalise("投诉咋处理") == "投诉怎么处理"
    assert normalise("这算啥") == "这算什么"
    assert normalise("录音保存多久吗") == "录音保存多久吗"  # 吗 is written Chinese
    assert normalise("How long are recordings kept?") == "How long are recordings kept?"


def test_register_words_and_fillers_follow_the_corpus():
    corpus = Homophones(CORPUS)
    # The corpus says 坐席, never 客服: the everyday word becomes the corpus's.
    assert normalise("客服密码要几位", corpus.knows) == "坐席密码要几位"
    # 你们 addresses the reader; it is dropped because the corpus never uses it.
    assert normalise("你们录音保存多久", corpus.knows) == "录音保存多久"
    # A corpus that says 客服 and 你们 keeps them.
    own = Homophones(["客服你们"])
    assert normalise("你们客服密码", own.knows) == "你们客服密码"
    # Without the corpus (no index), only the spoken words change.
    assert normalise("你们客服密码", None) == "你们客服密码"


def test_a_homophone_typo_is_repaired_to_the_corpus_word():
    corpus = Homophones(CORPUS)
    assert corpus.corrections("录因保存多久") == {"录因": "录音"}
    assert corpus.corrections("密马要几位") == {"密马": "密码"}
    assert corpus.corrections("知识酷怎么查") == {"知识酷": "知识库"}


def test_real_words_cross_word_spans_and_other_tones_are_not_repaired():
    corpus = Homophones(CORPUS)
    assert corpus.corrections("试用期多长") == {}  # a word of the language: another topic
    assert corpus.corrections("人力需求用什么模型算") == {}  # 用什 cuts across 用 / 什么
    assert corpus.corrections("能歇会吗") == {}  # 歇 xie1, 协 xie2
    assert corpus.corrections("录音保存多久") == {}  # nothing unknown
    assert Homophones(["Call recordings are kept."]).corrections("录因") == {}  # no Chinese text


def test_the_analysis_searches_the_written_repaired_form_and_keeps_the_question():
    corpus = Homophones(CORPUS)
    analysis = analyse("你们客服的录因保存多久啊？", homophones=corpus)
    assert analysis.text == "你们客服的录因保存多久啊？"
    assert analysis.search_text == "坐席的录音保存多久？"
    assert analysis.corrections == {"录因": "录音"}
    assert "录音" in analysis.terms and "录因" not in analysis.terms
    assert "录音" not in analyse("你们客服的录因保存多久啊？").search_text  # no index, no repair


def test_the_index_repairs_a_typo_and_finds_the_clause(fake_assistant):
    retriever = fake_assistant.live.retriever
    analysis = retriever.analyse("录因保存期限")
    assert analysis.search_text == "录音保存期限"
    hits = retriever.search("录因保存期限", analysis=analysis).hits
    assert hits and hits[0].clause.number == "11.6.1"
    # Without the repair the lexical match has only 保存期限, which other clauses share too.
    unrepaired = analyse("录因保存期限", retriever.profile.vocabulary, retriever.abbreviations)
    assert "录音" not in unrepaired.search_text
