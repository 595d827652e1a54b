"""What composition keeps per clause (spans, units, citation parts) is shared between answers:
a second answer must come out the same, and editing one answer must not reach another."""

from __future__ import annotations

from dataclasses import asdict


def _plain(answer) -> dict:
    record = asdict(answer)
    record.pop("took_ms")
    record.pop("timings_ms")
    return record


def test_an_answer_composed_again_from_the_per_clause_caches_is_the_same(fake_assistant):
    for question in ("通话录音保存期限是多久", "how long are call recordings kept", "第4章"):
        fake_assistant.clear_caches()
        first = _plain(fake_assistant.ask(question))
        fake_assistant.clear_caches()
        assert _plain(fake_assistant.ask(question)) == first


def test_editing_one_answers_citations_leaves_the_next_answers_alone(fake_assistant):
    fake_assistant.clear_caches()
    first = fake_assistant.ask("how long are call recordings kept")
    cited = first.citations[0]
    assert cited.also_in, "the fixture's clause has another edition"
    expected = [dict(other) for other in cited.also_in]
    cited.also_in[0]["link"] = "changed"
    cited.also_in.append({"id": "x"})
    for child in cited.children:
        child["title"] = "changed"
    fake_assistant.clear_caches()
    again = fake_assistant.ask("how long are call recordings kept").citations[0]
    assert again.id == cited.id
    assert again.also_in == expected
    assert all(child["title"] != "changed" for child in again.children)
