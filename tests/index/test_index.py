import json
from pathlib import Path

import numpy as np
import pytest

from assistant.documents import discover
from assistant.embedding import FakeEmbedder
from assistant.index import (
    BuildOptions,
    IndexCorrupt,
    IndexMissing,
    build_index,
    check_fresh,
    load_index,
    prepare_files,
)
from assistant.vector_store import FaissFlatStore, NumpyStore, VectorStore


def build(corpus_dir: Path, index_dir: Path):
    paths = discover(corpus_dir)
    return build_index(index_dir, prepare_files(paths, 600), FakeEmbedder(), BuildOptions("fake")), paths


def test_build_writes_manifest_and_loads_back(corpus_dir, tmp_path):
    index, _ = build(corpus_dir, tmp_path / "index")
    manifest = json.loads((index.root / "manifest.json").read_text())
    assert manifest["embedder"] == "fake"
    assert manifest["counts"]["documents"] == 3
    assert manifest["counts"]["clauses"] == len(index.clauses) > 50
    assert manifest["counts"]["passages"] == len(index.passages) >= len(index.clauses)
    reloaded = load_index(tmp_path / "index")
    assert reloaded.version == index.version
    assert [c.id for c in reloaded.clauses] == [c.id for c in index.clauses]
    assert "ccso-zh:4.5" in reloaded.clause_by_id


def test_missing_index_is_reported(tmp_path):
    with pytest.raises(IndexMissing):
        load_index(tmp_path / "nothing")


def test_changed_corpus_or_model_makes_the_index_stale(corpus_dir, tmp_path):
    index, paths = build(corpus_dir, tmp_path / "index")
    assert check_fresh(index, paths, BuildOptions("fake")) is None
    assert "settings" in check_fresh(index, paths, BuildOptions("e5-small-q4"))
    with open(corpus_dir / "ccso-zh.md", "a", encoding="utf-8") as handle:
        handle.write("\n## 13 新增章节\n\n新增内容应当被索引。\n")
    assert "corpus has changed" in check_fresh(index, discover(corpus_dir), BuildOptions("fake"))


def test_damaged_file_is_detected(corpus_dir, tmp_path):
    index, _ = build(corpus_dir, tmp_path / "index")
    with open(index.root / "clauses.json", "r+b") as handle:
        handle.seek(10)
        handle.write(b"XXXX")
    with pytest.raises(IndexCorrupt, match="checksum"):
        load_index(tmp_path / "index")


def test_failed_build_keeps_the_live_version(corpus_dir, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    first, paths = build(corpus_dir, index_dir)

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(FaissFlatStore, "write", staticmethod(explode))
    with pytest.raises(OSError):
        build_index(index_dir, prepare_files(paths, 600), FakeEmbedder(), BuildOptions("fake"))
    assert load_index(index_dir).version == first.version
    assert not list(index_dir.glob(".build-*")), "the scratch folder is cleaned up"


def test_rebuild_switches_pointer_and_keeps_one_previous_version(corpus_dir, tmp_path):
    index_dir = tmp_path / "index"
    versions = []
    for _ in range(3):
        index, _ = build(corpus_dir, index_dir)
        versions.append(index.root.name)
    assert len(set(versions)) == 3
    assert (index_dir / "CURRENT").read_text().strip() == versions[-1]
    on_disk = sorted(p.name for p in index_dir.glob("v-*"))
    assert versions[-1] in on_disk and len(on_disk) <= 2


def test_version_folders_are_readable_by_other_users(corpus_dir, tmp_path):
    index, _ = build(corpus_dir, tmp_path / "index")
    assert index.root.stat().st_mode & 0o055 == 0o055


def test_dense_model_sees_the_clause_title_and_text_and_bm25_also_the_document_and_path():
    from assistant.index import passages_for
    from assistant.records import Clause

    clause = Clause(id="d:4.5", document="d", number="4.5", title="Senior leadership support",
                    path=["4 Planning", "4.5 Senior leadership support"], text="Leadership shall sponsor the centre.",
                    page_start=1, page_end=1, lang="en")
    (passage,) = passages_for([clause], {"d": "Guidance"}, passage_chars=600)
    assert passage.dense_text == "Senior leadership support\nLeadership shall sponsor the centre."
    assert passage.index_text == "Guidance\n4 Planning > 4.5 Senior leadership support\nLeadership shall sponsor the centre."


def _unit_rows(count: int, dimension: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["faiss", "numpy"])
def test_a_vector_store_scores_all_rows_given_rows_and_finds_the_best(kind, tmp_path):
    matrix = _unit_rows(40, 16, seed=1)
    path = tmp_path / "vectors"
    if kind == "faiss":
        FaissFlatStore.write(path, matrix)
        store = FaissFlatStore.read(path)
    else:
        NumpyStore.write(path.with_suffix(".npy"), matrix)
        store = NumpyStore.read(path.with_suffix(".npy"))
    assert isinstance(store, VectorStore)
    assert (len(store), store.dimension) == (40, 16)
    query = _unit_rows(1, 16, seed=2)[0]
    expected = matrix @ query
    np.testing.assert_allclose(store.score_all(query), expected, atol=1e-6)
    np.testing.assert_allclose(store.score_rows(query, [7, 3, 30]), expected[[7, 3, 30]], atol=1e-6)
    np.testing.assert_allclose(store.score_all(matrix[:3]), matrix[:3] @ matrix.T, atol=1e-6)
    np.testing.assert_array_equal(store.vectors([5, 2]), matrix[[5, 2]])
    rows, scores = store.search(query, 5)
    assert rows.tolist() == np.argsort(-expected)[:5].tolist()
    np.testing.assert_allclose(scores, np.sort(expected)[::-1][:5], atol=1e-6)
    assert len(store.search(query, 100)[0]) == 40


def test_a_file_that_is_not_a_faiss_index_is_reported_as_corrupt(tmp_path):
    from assistant.index import _read_passage_store

    (tmp_path / "vectors.faiss").write_bytes(b"not an index at all")
    with pytest.raises(IndexCorrupt, match="cannot read vector index"):
        _read_passage_store(tmp_path / "vectors.faiss")


def test_the_loaded_index_scores_passages_and_sentences_through_its_stores(corpus_dir, tmp_path):
    index, _ = build(corpus_dir, tmp_path / "index")
    query = FakeEmbedder().embed_queries(["投诉处理时限"])[0]
    scores = index.passage_scores(query)
    assert scores.shape == (len(index.passages),)
    np.testing.assert_allclose(index.passage_scores(query, [4, 1]), scores[[4, 1]], atol=1e-6)
    rows = index.sentence_rows("ccso-zh:4.5")
    assert rows and all(index.sentences[r].clause_id == "ccso-zh:4.5" for r in rows)
    assert index.has_sentence_vectors
    np.testing.assert_allclose(index.sentence_scores(query, rows), index.sentence_scores(query)[rows], atol=1e-6)
    assert index.sentence_rows("no such clause") == []
    rows = index.passage_rows("ccso-zh:4.5")
    assert rows and [index.passages[r].clause_id for r in rows] == ["ccso-zh:4.5"] * len(rows)
    assert rows == sorted(rows) and index.passage_rows("no such clause") == []

    paths = discover(corpus_dir)
    bare = build_index(tmp_path / "bare", prepare_files(paths, 600), FakeEmbedder(),
                       BuildOptions("fake", sentence_vectors=False))
    assert not bare.has_sentence_vectors
    assert bare.sentence_scores(query) is None


# -- what the layers above work out from a loaded index (LoadedIndex.derived) -----------------------


def test_what_is_derived_from_a_loaded_index_is_worked_out_once_and_goes_with_it(built):
    index = load_index(built / "index")
    made = []

    def make():
        made.append(1)
        return object()

    first = index.derived("thing", make)
    assert index.derived("thing", make) is first and len(made) == 1
    assert index.derived("nothing", lambda: None) is None
    assert index.derived("nothing", make) is None, "a None worked out is kept as well"
    # Another load of the same version (a reindex, a reload) works it out again.
    assert load_index(built / "index").derived("thing", make) is not first and len(made) == 2


def test_two_threads_deriving_at_once_both_get_the_one_value_kept(built):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    index = load_index(built / "index")
    both_building = threading.Barrier(2)

    def make():
        both_building.wait(timeout=10)  # neither has stored its value yet
        return object()

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda _: index.derived("thing", make), range(2))
    assert a is b is index.derived("thing", make)


def test_the_term_idf_is_the_bm25_idf_of_the_indexed_terms_worked_out_once(built):
    import math

    from assistant.editions import editions_of
    from assistant.lexical import bm25_terms

    index = load_index(built / "index")
    idf = index.term_idf()
    assert idf is index.term_idf()
    assert editions_of(index) is editions_of(index)
    counts: dict[str, int] = {}
    for passage in index.passages:
        for term in set(bm25_terms(passage.index_text)):
            counts[term] = counts.get(term, 0) + 1
    assert set(idf) == set(counts)
    n = len(index.passages)
    for term in (min(counts, key=counts.get), max(counts, key=counts.get)):
        assert idf[term] == pytest.approx(math.log(1.0 + (n - counts[term] + 0.5) / (counts[term] + 0.5)))
    assert idf[min(counts, key=counts.get)] > idf[max(counts, key=counts.get)]
