"""The /api/ask body is encoded from the answer records directly (assistant/api/records_json.py):
the same bytes as JSONResponse(dataclasses.asdict(answer)), answers and refusals alike."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pytest
from fastapi.responses import JSONResponse

from assistant.api.records_json import RecordJSONResponse, dumps
from assistant.records import Answer, Citation


@pytest.mark.parametrize("question", ["录音保存多久", "What must a call centre record about complaints?",
                                      "第4.5条", "how do I bake bread", "数据安全"])
def test_the_same_bytes_as_asdict(fake_assistant, question):
    answer = fake_assistant.ask(question)
    assert RecordJSONResponse(answer).body == JSONResponse(asdict(answer)).body


def test_nested_records_tuples_and_non_ascii_text():
    citation = Citation(id="a:1", document="a", clause="1", title="录音", path=["1 录音"], page_start=1,
                        page_end=None, lang="zh", text="“质量”\u2028ok", highlights=[(0, 2), (3, 4)], score=0.5,
                        also_in=[{"id": "b:1", "lang": "en", "link": "/documents/b#1"}])
    answer = Answer(question="q", answer="a", abstained=False, reason=None, citations=[citation],
                    timings_ms={"embed": 1.25})
    assert RecordJSONResponse(answer).body == JSONResponse(asdict(answer)).body
    assert "质量".encode() in dumps(answer)  # UTF-8, not \\u escapes


def test_what_json_cannot_carry_is_refused_as_before():
    @dataclass
    class Odd:
        value: object

    with pytest.raises(TypeError):
        dumps(Odd(object()))
    with pytest.raises(TypeError):
        dumps(Odd)  # a class is not a record
    with pytest.raises(ValueError):
        dumps(Odd(math.nan))
