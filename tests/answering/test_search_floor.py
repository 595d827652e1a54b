"""/api/search says nothing matches when /api/ask would refuse the query: its scope decision, not
only the cosine floor, decides `weak` (a nonsense query's nearest paragraph can pass that floor)."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.service import Assistant

from tests.support.corpus import GUIDANCE


def _assistant(tmp_path: Path, min_confidence: float) -> Assistant:
    if not (tmp_path / "corpus").exists():
        shutil.copytree(GUIDANCE, tmp_path / "corpus")
    settings = Settings(_env_file=None, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index",
                        embedder="fake", rate_limit="0", min_confidence=min_confidence)
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assistant.open()
    return assistant


def test_a_query_the_scope_decision_refuses_has_only_weak_hits_but_a_named_clause(tmp_path: Path):
    covered = _assistant(tmp_path, min_confidence=0.0)
    hits = covered.search("通话录音保存多久", k=20)
    assert any(not h["weak"] for h in hits)

    refused = _assistant(tmp_path, min_confidence=0.9999)
    assert refused.ask("通话录音保存多久").abstained
    hits = refused.search("通话录音保存多久", k=20)
    assert hits and all(h["weak"] and h["relevance"] == "low" for h in hits)
    # A clause the query names is in scope (confidence 1.0), and a match.
    hits = refused.search("第4.5条", k=5)
    assert hits[0]["number"] == "4.5" and not hits[0]["weak"] and hits[0]["relevance"] == "high"
