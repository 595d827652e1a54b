"""`assistant eval`: score the real retrieval pipeline on a BEIR-layout benchmark.

Each corpus record becomes one clause (its `_id` is what gets scored), indexed by the same code
that indexes the guidance: passages, heading context, dense vectors, BM25, fusion.

When the queries carry ``metadata.answerable`` (the scope sets), the unanswerable ones are kept
and the scope decision is scored too: AUROC of the confidence, false and correct abstention at
the shipped operating point, and Recall@10 on the answerable queries (under "scope").

The command's options and its printed table live in cli.py with the other commands.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from assistant.config import DEFAULT_PASSAGE_CHARS
from assistant.records import Clause
from assistant.text import detect_language

if TYPE_CHECKING:
    from assistant.ingest import PreparedCorpus

METRICS = ("recall@10", "map@10", "ndcg@10", "recall@100", "success@10")


@dataclass
class Benchmark:
    records: list[dict]
    queries: dict[str, str]  # the queries with relevance judgements
    qrels: dict[str, set[str]]
    # Scope sets only: every query (answerable or not) and its label; empty otherwise.
    scope_queries: dict[str, str] = field(default_factory=dict)
    answerable: dict[str, bool] = field(default_factory=dict)


def load_benchmark(corpus: Path, queries: Path, qrels: Path, limit: int | None = None) -> Benchmark:
    records = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    relevant: dict[str, set[str]] = {}
    with open(qrels, encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            if float(row[2]) > 0:
                relevant.setdefault(row[0], set()).add(row[1])
    questions = {}
    scope_queries: dict[str, str] = {}
    answerable: dict[str, bool] = {}
    for line in queries.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            label = (item.get("metadata") or {}).get("answerable")
            if isinstance(label, bool):
                # An answerable query without judgements cannot be scored for recall: left out.
                if label and item["_id"] not in relevant:
                    continue
                scope_queries[item["_id"]] = item["text"]
                answerable[item["_id"]] = label
            if item["_id"] in relevant:
                questions[item["_id"]] = item["text"]
    if limit:
        questions = dict(list(questions.items())[:limit])
        scope_queries = dict(list(scope_queries.items())[:limit])
        answerable = {q: answerable[q] for q in scope_queries}
    return Benchmark(records, questions, {q: relevant[q] for q in questions}, scope_queries, answerable)


def records_to_clauses(records: list[dict]) -> tuple[list[Clause], list[dict]]:
    """One clause per record that has text of its own, as the guidance parser makes them.

    Records carry their rule number in metadata.passage_id (e.g. "3.6.2.(1)") when the benchmark
    has one. A bare heading record ("Jurisdiction": short, no closing punctuation, with numbered
    records below it) becomes the title path of those records, not a clause of its own; an empty
    record is no clause either. Neither can answer a question (none is gold in ObliQA dev).
    """
    parents: set[tuple[str, str]] = set()
    for record in records:
        parents.update((record.get("title", ""), prefix) for prefix in _prefixes(_record_number(record)))
    headings: dict[tuple[str, str], str] = {}
    for record in records:
        key = (record.get("title", ""), _record_number(record).rstrip("."))
        text = (record.get("text") or "").strip()
        if key in parents and text and len(text) < 120 and not text.endswith((".", "。", ";", "；", ":")):
            headings[key] = text
    clauses = []
    documents: dict[str, dict] = {}
    for record in records:
        title = record.get("title") or ""
        number = _record_number(record) or record["_id"]
        text = (record.get("text") or "").strip()
        if not text or (title, number.rstrip(".")) in headings:
            continue
        document = _slug(title) or "benchmark"
        lang = detect_language(title + "\n" + text)
        documents.setdefault(document, {"id": document, "title": title, "source": "", "format": "jsonl",
                                        "lang": lang, "pages": None})
        path = [headings[(title, prefix)] for prefix in _prefixes(number) if (title, prefix) in headings]
        # A record has no title of its own: its headings are its path, the record title its document.
        clauses.append(Clause(id=record["_id"], document=document, number=number, title="",
                              path=path, text=text, page_start=None, page_end=None, lang=lang))
    return clauses, list(documents.values())


def prepare_benchmark(
    records: list[dict], passage_chars: int = DEFAULT_PASSAGE_CHARS, *, fingerprint: str = "",
    limit: int | None = None,
) -> PreparedCorpus:
    """BEIR corpus records as the build sees a corpus: one clause per record (records_to_clauses),
    split into passages as the guidance's clauses are. ``limit`` keeps the first N clauses (and
    their documents); headings are read from every record all the same."""
    from assistant.ingest import PreparedCorpus, passages_for

    clauses, documents = records_to_clauses(records)
    if limit and limit < len(clauses):
        clauses = clauses[:limit]
        used = {c.document for c in clauses}
        documents = [d for d in documents if d["id"] in used]
    titles = {d["id"]: d["title"] for d in documents}
    return PreparedCorpus(documents=documents, clauses=clauses, passages=passages_for(clauses, titles, passage_chars),
                          fingerprint=fingerprint)


def _record_number(record: dict) -> str:
    metadata = record.get("metadata") or {}
    return str(metadata.get("passage_id") or "").strip()


def _prefixes(number: str) -> list[str]:
    """Ancestor numbers of "3.6.2.(1)": 3, 3.6, 3.6.2 (not the number itself)."""
    parts = [p for p in number.rstrip(".").split(".") if p]
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _slug(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10] if text else ""


def score_ranking(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    top10 = ranked[:10]
    hits = [1 if doc in relevant else 0 for doc in top10]
    precision_sum, found = 0.0, 0
    for rank, hit in enumerate(hits, 1):
        if hit:
            found += 1
            precision_sum += found / rank
    dcg = sum(hit / math.log2(rank + 1) for rank, hit in enumerate(hits, 1))
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), 10) + 1))
    return {
        "recall@10": sum(hits) / len(relevant),
        "map@10": precision_sum / len(relevant),
        "ndcg@10": dcg / ideal if ideal else 0.0,
        "recall@100": len(set(ranked[:100]) & relevant) / len(relevant),
        "success@10": 1.0 if any(hits) else 0.0,
    }


def evaluate(
    rank: Callable[[str], list[str]], benchmark: Benchmark, progress: bool = False
) -> dict[str, float]:
    totals = dict.fromkeys(METRICS, 0.0)
    latencies = []
    items = list(benchmark.queries.items())
    for done, (query_id, text) in enumerate(items, 1):
        started = time.perf_counter()
        ranked = rank(text)
        latencies.append((time.perf_counter() - started) * 1000)
        for name, value in score_ranking(ranked, benchmark.qrels[query_id]).items():
            totals[name] += value
        if progress and done % 200 == 0:
            print(f"  {done}/{len(items)} queries", file=sys.stderr)
    result = {name: round(value / len(items), 4) for name, value in totals.items()}
    result["median_latency_ms"] = round(statistics.median(latencies), 2)
    result["queries"] = len(items)
    return result


def run_eval(args: argparse.Namespace, rows_out: list | None = None) -> dict:
    """The report; ``rows_out`` (scope sets) receives each query's ScopeRow, for fitting."""
    from assistant.embedding import CachedEmbedder, make_embedder
    from assistant.index import BuildOptions, build_index
    from assistant.lexical import LexicalIndex
    from assistant.reranking import make_reranker
    from assistant.retrieval import RetrievalConfig, Retriever

    benchmark = load_benchmark(args.corpus, args.queries, args.qrels, limit=args.limit)
    embedder = make_embedder(args.embedder_spec)
    if args.cache_dir:
        embedder = CachedEmbedder(embedder, Path(args.cache_dir))
    options = BuildOptions(embedder_id=embedder.id, passage_chars=args.passage_chars)
    corpus = prepare_benchmark(benchmark.records, options.passage_chars,
                               fingerprint=hashlib.sha256(args.corpus.read_bytes()).hexdigest())
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as scratch:
        progress = None
        if not args.json:
            from assistant.progress import progress_bars

            progress = progress_bars(sys.stderr.isatty())
        index = build_index(Path(scratch), corpus, embedder, options, progress=progress)
        build_seconds = time.perf_counter() - started
        config = RetrievalConfig.for_embedder(
            embedder.id, **({"rerank_depth": args.rerank_depth} if args.rerank_depth else {})
        )
        retriever = Retriever(index, embedder, config, make_reranker(args.reranker))

        def rank_pipeline(question: str) -> list[str]:
            return [hit.clause.id for hit in retriever.search(question, k=100).hits]

        if benchmark.answerable:
            from assistant.abstention import ScopeModel

            model = ScopeModel.load(embedder.id)
            rows = collect_scope_rows(retriever, embedder, benchmark, progress=not args.json)
            if rows_out is not None:
                rows_out.extend(rows)
            report = {"pipeline": evaluate_ranked(rows, benchmark)}
            report["scope"] = score_scope(rows, model, args.min_confidence, retriever)
            report["scope"]["recall@10"] = report["pipeline"]["recall@10"]
        else:
            report = {"pipeline": evaluate(rank_pipeline, benchmark, progress=not args.json)}
        report["pipeline"]["index_build_s"] = round(build_seconds, 1)

        baselines = args.baseline or []
        if "bm25" in baselines:
            plain = LexicalIndex.build([f"{c.title}\n{c.text}".strip() for c in _record_texts(benchmark.records)])
            ids = [record["_id"] for record in benchmark.records]

            def rank_bm25(question: str) -> list[str]:
                scores = plain.scores(question)
                order = scores.argsort()[::-1][:100]
                return [ids[i] for i in order if scores[i] > 0]

            report["bm25"] = evaluate(rank_bm25, benchmark)
        if "dense" in baselines:
            report["dense"] = evaluate(_dense_ranker(retriever), benchmark)
    report["embedder"] = embedder.id
    report["reranker"] = retriever.reranker.id if retriever.reranker else None
    report["queries"] = len(benchmark.queries)
    report["passages"] = len(corpus.passages)
    return report


@dataclass
class ScopeRow:
    query_id: str
    answerable: bool
    ranked: list[str]  # clause ids, best first (up to 100)
    signals: dict[str, float]
    named: bool  # the question named a clause the index has (decided without the model)
    latency_ms: float


def collect_scope_rows(retriever, embedder, benchmark: Benchmark, progress: bool = False) -> list[ScopeRow]:
    """Every scope query through the real path: analysis, retrieval, the decision's signals.

    Query vectors are encoded in one batch first (through the cache when there is one); the
    latency is then retrieval and signals only.
    """
    from assistant.abstention import signals

    items = list(benchmark.scope_queries.items())
    analyses = [retriever.analyse(text) for _, text in items]
    vectors = embedder.embed_queries([a.search_text for a in analyses]) if items else []
    rows = []
    for done, ((query_id, text), analysis, vector) in enumerate(zip(items, analyses, vectors), 1):
        started = time.perf_counter()
        result = retriever.search(text, k=100, query_vector=vector, analysis=analysis)
        values = signals(analysis, result, retriever)
        named = any(h.matched_by == "number" for h in result.hits[:10])
        rows.append(ScopeRow(query_id, benchmark.answerable[query_id], [h.clause.id for h in result.hits], values,
                             named, (time.perf_counter() - started) * 1000))
        if progress and done % 200 == 0:
            print(f"  {done}/{len(items)} queries", file=sys.stderr)
    return rows


def evaluate_ranked(rows: list[ScopeRow], benchmark: Benchmark) -> dict[str, float]:
    """The retrieval metrics of evaluate(), over the answerable rows of a scope run."""
    scored = [row for row in rows if row.query_id in benchmark.qrels]
    totals = dict.fromkeys(METRICS, 0.0)
    for row in scored:
        for name, value in score_ranking(row.ranked, benchmark.qrels[row.query_id]).items():
            totals[name] += value
    result = {name: round(value / len(scored), 4) if scored else 0.0 for name, value in totals.items()}
    result["median_latency_ms"] = round(statistics.median([r.latency_ms for r in scored]), 2) if scored else 0.0
    result["queries"] = len(scored)
    return result


def score_scope(rows: list[ScopeRow], model, min_confidence: float | None = None, retriever=None) -> dict[str, float]:
    """AUROC of the confidence, abstention rates at the operating point, Recall@10 when answering."""
    from assistant.abstention import auroc

    import numpy as np

    # The service's rule: the setting if given, else the question language's operating point.
    langs = ["zh" if r.signals.get("zh") else "en" for r in rows]
    per_row = [model.threshold_for(lang, retriever) if min_confidence is None else min_confidence for lang in langs]
    threshold = np.array(per_row, dtype=np.float64)
    used = {lang: round(t, 4) for lang, t in zip(langs, per_row)}
    confidence = np.array([1.0 if r.named else model.confidence(r.signals) for r in rows])
    labels = np.array([r.answerable for r in rows], dtype=bool)
    abstained = confidence < threshold
    answerable, unanswerable = labels.sum(), (~labels).sum()
    return {
        "auroc": round(auroc(confidence, labels), 4),
        "false_abstention": round(float((abstained & labels).sum() / answerable), 4) if answerable else None,
        "correct_abstention": round(float((abstained & ~labels).sum() / unanswerable), 4) if unanswerable else None,
        "uncertain": round(float(((~abstained) & (confidence < threshold + model.uncertain_margin)).mean()), 4),
        "min_confidence": (next(iter(used.values())) if len(set(used.values())) == 1 else used) if used
        else model.min_confidence,
        "answerable": int(answerable),
        "unanswerable": int(unanswerable),
    }


def _dense_ranker(retriever) -> Callable[[str], list[str]]:
    """The embedder alone: clauses by the cosine of their best passage, over the pipeline's index.

    What each model contributes before fusion, sentence scores, priors or number lookups.
    """
    import numpy as np

    clauses = retriever.index.clauses

    def rank(question: str) -> list[str]:
        best = retriever.best_passage_cosines(retriever.embed_query(question))
        order = np.argsort(-best, kind="stable")[:100]
        return [clauses[int(row)].id for row in order if np.isfinite(best[row])]

    return rank


@dataclass
class _RecordText:
    title: str
    text: str


def _record_texts(records: list[dict]) -> list[_RecordText]:
    return [_RecordText(r.get("title") or "", r.get("text") or "") for r in records]
