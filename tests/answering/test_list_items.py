"""A list item is never shown without its lead-in, also when an item has a paragraph of its own
before the next item (issue 13 item 5; tests/data/lists/)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.answering import units_of
from assistant.api.app import create_app
from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant
from assistant.text import sentence_spans

from tests.support.api import ask
from tests.support.paths import DATA

ITEM = re.compile(r"^(?:[a-z][)）]|[(（]\w{1,3}[)）]|\d{1,2}[)）])")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("lists")
    shutil.copytree(DATA / "lists", root / "corpus")
    settings = Settings(_env_file=None, corpus_dir=root / "corpus", index_dir=root / "index", embedder="fake",
                        rate_limit="0", min_confidence=0.0)
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    with TestClient(create_app(settings, assistant=assistant)) as test_client:
        yield test_client


@pytest.mark.parametrize("question, lead_in, item", [
    ("较大事件应在多久内报告呼叫中心负责人？", "预案至少包括以下内容：", "c) 响应程序"),
    ("Within how many minutes shall a major event be reported to the head of the call center?",
     "The plan shall contain at least the following:", "c) Response procedure"),
])
def test_an_item_after_an_items_own_paragraph_comes_with_the_lists_lead_in(client, question, lead_in, item):
    body = ask(client, question)
    assert not body["abstained"], body["reason"]
    assert body["citations"][0]["clause"] == "6.4.1", [c["id"] for c in body["citations"]]
    group = body["answer"].split("[1]")[0].split("\n")
    assert item in body["answer"], body["answer"]
    first_item = next(n for n, line in enumerate(group) if ITEM.match(line))
    # The lead-in is said right before the first item, and the list starts at a).
    assert group[first_item - 1].endswith(lead_in), body["answer"]
    assert group[first_item][:2] == "a)", body["answer"]
    # The example paragraph stays with its item a), not cut off as a line of its own before b).
    items = [line[:2] for line in group if ITEM.match(line)]
    assert items == ["a)", "b)", "c)", "d)"], body["answer"]


def test_a_paragraph_between_items_belongs_to_the_item_before_it():
    text = (DATA / "lists" / "plan-en.md").read_text(encoding="utf-8")
    text = text[text.index("The call center shall prepare"):text.index("#### 6.4.2")].strip()
    units = units_of(text, sentence_spans(text))
    pieces = [(text[u.start:u.end], u.item, u.block) for u in units]
    lead = next(n for n, (piece, _, _) in enumerate(pieces) if piece.endswith("following:"))
    assert [p[:2] for p, is_item, _ in pieces[lead + 1:]] == ["a)", "b)", "c)", "d)"]
    assert pieces[lead + 1][0].endswith("is a major event.")  # a)'s "For example" paragraph
    assert {block for _, _, block in pieces[lead:]} == {lead}  # one list, under its lead-in


def test_a_new_list_after_a_paragraph_is_not_joined_to_the_one_before():
    # "1)" does not follow "b)": the paragraph between ends the first list.
    text = "Check these:\na) the line;\nb) the headset.\nThen report.\n1) call the desk;\n2) log it."
    units = units_of(text, sentence_spans(text))
    pieces = [text[u.start:u.end] for u in units]
    assert "Then report." in pieces
    b = next(u for u in units if text[u.start:u.end].startswith("b)"))
    one = next(u for u in units if text[u.start:u.end].startswith("1)"))
    assert b.block != one.block
