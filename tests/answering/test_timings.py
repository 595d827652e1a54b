"""The public hooks benchmarks use: Answer.timings_ms and Assistant.clear_caches()."""

from __future__ import annotations

STAGES = {"embed", "lookup", "dense", "lexical", "fusion", "compose"}


def test_an_answer_reports_the_time_of_each_stage(fake_assistant):
    answer = fake_assistant.ask("客户信息的数据安全有哪些要求？")
    assert STAGES <= set(answer.timings_ms)
    assert all(ms >= 0 for ms in answer.timings_ms.values())
    # The stages are parts of the call: together they cannot take longer than the whole.
    assert sum(answer.timings_ms.values()) <= answer.took_ms + 1.0


def test_a_filtered_question_counts_both_searches(fake_assistant, monkeypatch):
    searches = []
    retriever = fake_assistant.live.retriever
    original = retriever.search

    def counting(*args, **kwargs):
        result = original(*args, **kwargs)
        searches.append(result.timings_ms)
        return result

    monkeypatch.setattr(retriever, "search", counting)
    answer = fake_assistant.ask("数据安全", document="ccso-zh")
    assert len(searches) == 2
    assert answer.timings_ms["dense"] >= max(s["dense"] for s in searches)


def test_a_cached_answer_says_so_and_clear_caches_makes_the_next_call_cold(fake_assistant):
    question = "How should customer complaints be escalated?"
    first = fake_assistant.ask(question)
    again = fake_assistant.ask(question)
    assert set(again.timings_ms) == {"answer_cache"}
    assert again.answer == first.answer
    fake_assistant.clear_caches()
    cold = fake_assistant.ask(question)
    assert STAGES <= set(cold.timings_ms)
    assert cold.answer == first.answer


def test_timings_reach_the_http_answer(fake_settings, fake_assistant):
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    with TestClient(create_app(fake_settings, fake_assistant)) as client:
        body = client.post("/api/ask", json={"question": "第4.5条"}).json()
    assert STAGES <= set(body["timings_ms"])
