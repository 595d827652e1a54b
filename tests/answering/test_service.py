import shutil

import pytest

from assistant.embedding import FakeEmbedder
from assistant.service import Assistant, QuestionError, clean_question


def test_clean_question_strips_control_characters_and_limits_length():
    assert clean_question("  数据\x00安全\u200b?\t", 100) == "数据 安全 ?"
    with pytest.raises(QuestionError, match="empty"):
        clean_question(" \x00\n ", 100)
    with pytest.raises(QuestionError, match="too long"):
        clean_question("x" * 101, 100)


def test_ask_by_number_cites_that_clause_only(fake_assistant):
    answer = fake_assistant.ask("第4.5条")
    assert not answer.abstained
    assert answer.citations[0].id == "ccso-zh:4.5"
    assert all(c.clause == "4.5" for c in answer.citations)
    assert answer.answer.endswith("[1]")
    assert answer.answer.startswith(answer.citations[0].text[:10])


def test_answer_sentences_come_from_highlights_with_markers(fake_assistant):
    answer = fake_assistant.ask("客户信息保密有什么要求")
    assert not answer.abstained and answer.citations
    first = answer.citations[0]
    assert first.highlights, "the answering sentences are highlighted"
    for start, end in first.highlights:
        assert 0 <= start < end <= len(first.text)
        assert first.text[start:end] in answer.answer
    assert "[1]" in answer.answer


def test_unrelated_question_abstains(fake_assistant):
    answer = fake_assistant.ask("Who won the football world cup in 2018?")
    assert answer.abstained and answer.reason and not answer.citations


def test_min_confidence_is_a_setting(fake_settings):
    fake_settings.min_confidence = 1.0
    assistant = Assistant(fake_settings)
    assistant.open()
    assert assistant.ask("客户信息保密").abstained
    fake_settings.min_confidence = 0.0
    answer = assistant.ask("Who won the football world cup in 2018?")
    assert not answer.abstained and 0.0 <= answer.confidence <= 1.0


def test_a_question_naming_a_clause_is_answered_whatever_the_threshold(fake_settings):
    fake_settings.min_confidence = 1.0
    assistant = Assistant(fake_settings)
    assistant.open()
    assert assistant.ask("高层领导支持").abstained
    answer = assistant.ask("第4.5条 高层领导支持")
    assert not answer.abstained and answer.citations[0].id == "ccso-zh:4.5"


def test_a_named_clause_is_cited_even_when_the_topic_points_elsewhere(fake_assistant):
    answer = fake_assistant.ask("第4.5条 数据安全 数据备份 加密", k=3)
    cited = [c.id for c in answer.citations]
    assert not answer.abstained and len(cited) <= 3
    assert "ccso-zh:4.5" in cited and cited[0] != "ccso-zh:4.5"


def test_open_rebuilds_a_stale_index_and_reports_when_not_allowed(fake_settings):
    assistant = Assistant(fake_settings)
    assert assistant.open() == "built (no index yet)"
    assert Assistant(fake_settings).open() == "loaded"
    with open(fake_settings.corpus_dir / "ccso-en.md", "a", encoding="utf-8") as handle:
        handle.write("\n## 13 New chapter\n\nA new clause shall be indexed.\n")
    from assistant.index import IndexStale

    with pytest.raises(IndexStale, match="corpus has changed"):
        Assistant(fake_settings).open(build_if_needed=False)
    assert Assistant(fake_settings).open().startswith("rebuilt")


def test_documents_and_clauses(fake_assistant):
    documents = {d["id"]: d for d in fake_assistant.documents()}
    assert set(documents) == {"ccso-zh", "ccso-en", "meeting-report-2022"}
    assert documents["ccso-zh"]["lang"] == "zh" and documents["ccso-zh"]["clauses"] > 20
    clause = fake_assistant.clause("ccso-en:4.5")
    assert clause.path[-1].startswith("4.5") and clause.lang == "en"


def test_repeated_questions_are_answered_from_the_cache_until_the_index_changes(fake_assistant):
    calls = []
    original = fake_assistant.live.retriever.search
    fake_assistant.live.retriever.search = lambda *a, **kw: calls.append(a) or original(*a, **kw)
    first = fake_assistant.ask("客户信息保密有什么要求")
    second = fake_assistant.ask("  客户信息保密有什么要求 ")
    assert len(calls) == 1
    assert second.citations == first.citations and second.answer == first.answer
    fake_assistant.rebuild()
    assert fake_assistant.ask("客户信息保密有什么要求").index_version != first.index_version


def test_a_filter_that_matches_nothing_abstains_instead_of_failing(fake_assistant):
    answer = fake_assistant.ask("客户信息保密有什么要求", document="no-such-document")
    assert answer.abstained and "chosen document" in answer.reason
    assert fake_assistant.ask("第4.5条", document="no-such-document").abstained


def test_a_stale_index_keeps_serving_while_the_new_one_builds(fake_settings, monkeypatch):
    first = Assistant(fake_settings)
    first.open()
    with open(fake_settings.corpus_dir / "ccso-en.md", "a", encoding="utf-8") as handle:
        handle.write("\n## 13 Parking\n\nVisitors shall park in the marked bays.\n")
    restarted = Assistant(fake_settings)
    seen = []
    original = restarted.rebuild
    monkeypatch.setattr(restarted, "rebuild", lambda **kw: seen.append(restarted.ask("第4.5条").index_version)
                        or original(**kw))
    assert restarted.open().startswith("rebuilt")
    assert seen == [first.live.index.version]
    assert restarted.live.index.version != first.live.index.version


@pytest.mark.parametrize("load", ["load_existing", "open"])
def test_loading_an_index_keeps_numpys_blas_to_one_thread(fake_settings, built, load):
    # load_existing() holds the limit; open() and the server's start-up pass through it.
    from threadpoolctl import threadpool_info, threadpool_limits

    shutil.copytree(built / "index", fake_settings.index_dir)
    assistant = Assistant(fake_settings, embedder=FakeEmbedder())
    with threadpool_limits(limits=2, user_api="blas"):
        assert getattr(assistant, load)() in (None, "loaded")
        blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and all(pool["num_threads"] == 1 for pool in blas)
