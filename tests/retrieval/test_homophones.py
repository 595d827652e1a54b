import sys

import pytest

from assistant import homophones
from assistant.homophones import HOMOPHONES_FILE, Homophones
from assistant.query import analyse

CORPUS = [
    "通话录音保存期限不少于 6 个月。",
    "坐席密码应定期更换，密码长度不少于 8 位。",
    "投诉处理时限应予公布。坐席人员使用知识库检索。",
    "人力需求测算用时应记录。",  # 用时: 用什么 must not read as 用时么
    "行业协会的意见。",  # 协会: 歇会 (xie1) is not 协会 (xie2)
    "系统使用前应测试。",  # 使用: 试用 is a real word, not a typo of it
    "为残障人士提供服务。",  # 人士: 人是 is 人 + the function character 是
]


@pytest.fixture(autouse=True)
def _tables_built_here(monkeypatch):
    """These tests are about building the tables: each builds its own, unshared
    (tests/support/profiles.py shares them between the other tests' indexes)."""
    monkeypatch.setattr(Homophones, "_build", getattr(Homophones._build, "computes", Homophones._build))


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
    assert corpus.corrections("打电话的人是聋哑人") == {}  # 是 as typed is meant
    assert corpus.corrections("录音保存多久") == {}  # nothing unknown
    assert Homophones(["Call recordings are kept."]).corrections("录因") == {}  # no Chinese text


def test_the_analysis_searches_the_repaired_form_and_keeps_the_question():
    corpus = Homophones(CORPUS)
    analysis = analyse("坐席的录因保存多久？", homophones=corpus)
    assert analysis.text == "坐席的录因保存多久？"
    assert analysis.search_text == "坐席的录音保存多久？"
    assert analysis.corrections == {"录因": "录音"}
    assert "录音" in analysis.terms and "录因" not in analysis.terms
    assert "录音" not in analyse("坐席的录因保存多久？").search_text  # no index, no repair


def test_the_index_repairs_a_typo_and_finds_the_clause(fake_assistant):
    retriever = fake_assistant.live.retriever
    analysis = retriever.analyse("录因")
    assert analysis.search_text == "录音"
    assert retriever.search("录因", analysis=analysis).hits[0].clause.number.startswith("11.6")  # 通话录音
    # Unrepaired, the typed word matches nothing about recordings.
    unrepaired = analyse("录因", retriever.profile.vocabulary, retriever.abbreviations)
    assert not retriever.search("录因", analysis=unrepaired).hits[0].clause.number.startswith("11.6")


QUESTIONS = ["录因保存多久", "密马要几位", "知识酷怎么查", "试用期多长", "人力需求用什么模型算", "能歇会吗",
             "打电话的人是聋哑人", "录音保存多久", "坐席密马多久换一次"]


def _stored(tmp_path, texts):
    import json

    path = tmp_path / HOMOPHONES_FILE
    path.write_text(json.dumps(Homophones(texts).stored_form(), ensure_ascii=False), encoding="utf-8")
    return path


def test_stored_tables_repair_as_built_ones_without_pypinyin(tmp_path, monkeypatch):
    built = {q: Homophones(CORPUS).corrections(q) for q in QUESTIONS}
    path = _stored(tmp_path, CORPUS)
    # The question's characters are read from the stored readings, and the tables are not built:
    # with pypinyin unimportable, neither could be.
    monkeypatch.setitem(sys.modules, "pypinyin", None)
    monkeypatch.setattr(homophones, "_readings", lambda ch: pytest.fail(f"pypinyin asked for {ch}"))
    stored = Homophones(CORPUS, stored=path)
    assert {q: stored.corrections(q) for q in QUESTIONS} == built
    assert built["密马要几位"] == {"密马": "密码"}


def test_tables_of_other_code_or_libraries_are_built_again(tmp_path):
    import json

    path = _stored(tmp_path, CORPUS)
    data = json.loads(path.read_text(encoding="utf-8"))
    for change in ({"version": "0"}, {"libraries": {"pypinyin": "0.0", "jieba": "0.0"}}):
        path.write_text(json.dumps({**data, **change, "keys": []}, ensure_ascii=False), encoding="utf-8")
        assert Homophones(CORPUS, stored=path).corrections("密马要几位") == {"密马": "密码"}
    path.write_text("{", encoding="utf-8")  # damaged
    assert Homophones(CORPUS, stored=path).corrections("录因保存多久") == {"录因": "录音"}
    assert Homophones(CORPUS, stored=tmp_path / "absent.json").corrections("知识酷怎么查") == {"知识酷": "知识库"}


def test_a_character_outside_the_stored_readings_is_read_by_pypinyin(tmp_path):
    path = _stored(tmp_path, CORPUS)
    stored = Homophones(CORPUS, stored=path)
    stored.corrections("密码")  # reads the tables
    assert stored._readings_of("码") == homophones._readings("码")  # stored
    assert "𠀀" not in stored._reading and stored._readings_of("𠀀") == homophones._readings("𠀀")  # Extension B


def test_the_index_build_stores_the_tables_the_profile_reads(fake_assistant):
    from pathlib import Path

    index = fake_assistant.live.index
    path = Path(index.root) / HOMOPHONES_FILE
    assert path.is_file()
    profile = fake_assistant.live.retriever.profile
    assert profile.homophones._stored.name == HOMOPHONES_FILE and profile.homophones._stored.is_file()
    assert profile.homophones.corrections("录因") == {"录因": "录音"}
    assert profile.homophones._reading  # read from the file, not built
