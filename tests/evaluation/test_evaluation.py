import json

import pytest

from assistant.cli import main
from assistant.evaluation import load_benchmark, prepare_benchmark, records_to_clauses, score_ranking
from tests.support.paths import DATA

BEIR = DATA / "beir"


def test_metrics_on_a_known_ranking():
    scores = score_ranking(["x", "a", "y", "b"], {"a", "b", "c"})
    assert scores["recall@10"] == pytest.approx(2 / 3)
    assert scores["map@10"] == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert scores["success@10"] == 1.0
    assert scores["recall@100"] == pytest.approx(2 / 3)
    assert 0 < scores["ndcg@10"] < 1
    assert score_ranking(["a"], {"a"})["ndcg@10"] == pytest.approx(1.0)
    assert score_ranking([], {"a"})["success@10"] == 0.0


def test_benchmark_loading_keeps_judged_queries_and_positive_qrels():
    benchmark = load_benchmark(BEIR / "corpus.jsonl", BEIR / "queries.jsonl", BEIR / "qrels.tsv")
    assert set(benchmark.queries) == {"q1", "q2", "q3", "q4"}
    assert benchmark.qrels["q4"] == {"d6"}


def test_heading_records_become_the_path_of_the_records_below():
    benchmark = load_benchmark(BEIR / "corpus.jsonl", BEIR / "queries.jsonl", BEIR / "qrels.tsv")
    clauses, documents = records_to_clauses(benchmark.records)
    by_id = {c.id: c for c in clauses}
    assert by_id["d2"].path == ["INTRODUCTION"] and by_id["d2"].number == "1.1"
    assert len(documents) == 2


def test_eval_command_prints_pipeline_and_baselines_side_by_side(tmp_path, capsys):
    code = main(["eval", "--corpus", str(BEIR / "corpus.jsonl"), "--queries", str(BEIR / "queries.jsonl"),
                 "--qrels", str(BEIR / "qrels.tsv"), "--baseline", "bm25", "--baseline", "dense",
                 "--embedder", "fake", "--cache-dir", str(tmp_path / "cache"), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for name in ("pipeline", "bm25", "dense"):
        assert set(report[name]) >= {"recall@10", "map@10", "ndcg@10", "recall@100", "success@10",
                                     "median_latency_ms"}
    assert report["bm25"]["recall@10"] == 1.0  # every question shares words with its passage
    assert report["pipeline"]["recall@10"] == 1.0
    assert report["dense"]["recall@10"] == 1.0  # scores record ids, as the other two do
    assert (tmp_path / "cache" / "embeddings.sqlite").exists()


def test_embedding_cache_reuses_vectors(tmp_path):
    from assistant.embedding import CachedEmbedder, FakeEmbedder

    class Counting(FakeEmbedder):
        calls = 0

        def embed_passages(self, texts, batch_size=32, progress=None):
            Counting.calls += len(texts)
            return super().embed_passages(texts, batch_size, progress)

    first = CachedEmbedder(Counting(), tmp_path).embed_passages(["a b", "c d"])
    second = CachedEmbedder(Counting(), tmp_path).embed_passages(["c d", "a b", "e"])
    assert Counting.calls == 3
    assert (second[1] == first[0]).all() and (second[0] == first[1]).all()


def test_empty_and_heading_records_are_not_retrievable():
    benchmark = load_benchmark(BEIR / "corpus.jsonl", BEIR / "queries.jsonl", BEIR / "qrels.tsv")
    ids = {c.id for c in records_to_clauses(benchmark.records)[0]}
    assert "d5" not in ids, "an empty record answers nothing"
    assert "d1" not in ids, "a bare heading lives on in the path of the records below it"
    assert {"d2", "d3", "d4", "d6"} <= ids


def test_eval_measures_the_pipeline_with_a_reranker(tmp_path, capsys):
    code = main(["eval", "--corpus", str(BEIR / "corpus.jsonl"), "--queries", str(BEIR / "queries.jsonl"),
                 "--qrels", str(BEIR / "qrels.tsv"), "--embedder", "fake", "--reranker", "fake", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reranker"] == "fake" and report["pipeline"]["recall@10"] == 1.0


def test_eval_refuses_the_global_corpus_and_index_it_would_ignore(tmp_path, capsys):
    code = main(["--corpus", str(tmp_path), "eval", "--corpus", str(BEIR / "corpus.jsonl"),
                 "--queries", str(BEIR / "queries.jsonl"), "--qrels", str(BEIR / "qrels.tsv"),
                 "--embedder", "fake", "--json"])
    assert code == 2
    err = capsys.readouterr().err
    assert "global --corpus / --index do not apply to eval" in err


def test_every_command_is_defined_in_the_cli_module():
    import argparse

    from assistant import cli, evaluation

    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {"ingest", "ask", "search", "serve", "eval"}
    assert all(sub.get_default("handler").__module__ == "assistant.cli" for sub in commands.choices.values())
    assert not hasattr(evaluation, "add_eval_command")  # the logic stays there, the options do not


def test_prepare_benchmark_gives_the_build_one_clause_per_record_and_their_passages():
    benchmark = load_benchmark(BEIR / "corpus.jsonl", BEIR / "queries.jsonl", BEIR / "qrels.tsv")
    corpus = prepare_benchmark(benchmark.records, 1000, fingerprint="beir")
    clauses, documents = records_to_clauses(benchmark.records)
    assert [c.id for c in corpus.clauses] == [c.id for c in clauses]
    assert corpus.documents == documents and corpus.fingerprint == "beir"
    assert {p.clause_id for p in corpus.passages} == {c.id for c in clauses}
    first = prepare_benchmark(benchmark.records, 1000, limit=1)
    assert [c.id for c in first.clauses] == [clauses[0].id]
    assert first.clauses[0].path == clauses[0].path, "headings are read from every record"
    assert [d["id"] for d in first.documents] == [clauses[0].document]
