"""Query-performance-prediction signals for the scope decision, measured for transfer.

Issue 12 asks for a scope decision whose parameters, fitted on other corpora, still rank one
corpus's answerable questions above its near misses. The signals tried so far (docs/benchmarks.md,
sections t1-scope, u1-scope, v2-transfer) did not reach stard-scope's 0.82. This script measures
the self-normalising predictors of the query-performance-prediction literature, which the
earlier passes had not tried, and model forms meant to transfer:

- post-retrieval, dense and BM25: NQC (spread of the top scores over the index's mean score),
  WIG, SMV, the ratio of the k-th score to the best, clarity (KL of the top clauses' term
  distribution against the index's), lexical robustness (overlap of the BM25 top 10 with the top
  10 after dropping one question term) and the share of the best passage's BM25 score that one
  term carries;
- pre-retrieval: mean and highest IDF of the question's terms (over the index's highest),
  SCQ, the share of the question's BM25 terms the index knows;
- model forms: the shared logistic regression (fit_scope.fit) against one intercept per fitted
  set and language (the weights then learn the ranking inside each set, not the offsets between
  sets) and a pairwise regression on (answerable - near miss) differences inside each set.

Each question goes through the real pipeline (analysis, Retriever.search with the cached
vectors, abstention.signals); the guidance set's held-out third is never read. Rows are cached in
--rows-dir as qpp-<set>.json.

    PYTHONPATH=$PWD .venv/bin/python scripts/scope_qpp.py --cache-dir /work/cache/eval --rows-dir /work/cache/w2-rows --json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import fit_scope  # noqa: E402
from assistant.abstention import auroc, fit_logistic, signals  # noqa: E402

QPP = (
    "nqc_dense", "nqc_dense_z", "wig_dense", "smv_dense", "ratio_dense", "gap_rel_dense",
    "nqc_bm25", "wig_bm25", "ratio_bm25", "robust_bm25", "dominance_bm25",
    "clarity_dense", "clarity_bm25",
    "idf_mean", "idf_max", "scq_mean", "scq_max", "known_share",
)
SHIPPED = fit_scope.FEATURES
TOP = 10


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest, best first."""
    k = min(k, values.size)
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.argsort(-values[part])]


class LexicalTerms:
    """Per-term BM25 contributions and per-passage term sets, from bm25s's own sparse matrix."""

    def __init__(self, retriever) -> None:
        import scipy.sparse as sp

        bm25 = retriever.index.lexical._retriever
        scores = bm25.scores
        self.n = int(scores["num_docs"])
        self.vocab = bm25.vocab_dict
        data, indices, indptr = (np.asarray(scores[k]) for k in ("data", "indices", "indptr"))
        self.by_term = (data, indices, indptr)
        # bm25s keeps passages x terms by term column; the row form gives each passage's terms (clarity)
        csc = sp.csc_matrix((data, indices, indptr), shape=(self.n, len(indptr) - 1))
        self.by_doc = csc.tocsr()
        self.df = np.diff(indptr).astype(np.float64)
        self.total_df = float(self.df.sum())

    def contributions(self, tokens: list[int]) -> np.ndarray:
        """tokens x docs: each term's BM25 contribution to each passage."""
        data, indices, indptr = self.by_term
        out = np.zeros((len(tokens), self.n), dtype=np.float64)
        for i, col in enumerate(tokens):
            out[i, indices[indptr[col]:indptr[col + 1]]] = data[indptr[col]:indptr[col + 1]]
        return out

    def clarity(self, docs: np.ndarray) -> float:
        """KL(term presence over these passages || document frequency over the index)."""
        if not len(docs):
            return 0.0
        cols = self.by_doc[docs].indices
        if not len(cols):
            return 0.0
        terms, counts = np.unique(cols, return_counts=True)
        p = counts / counts.sum()
        q = self.df[terms] / self.total_df
        return float(np.sum(p * np.log(p / q)))


def qpp(analysis, result, retriever, lexical: LexicalTerms) -> dict[str, float]:
    from assistant.lexical import bm25_terms

    out = dict.fromkeys(QPP, 0.0)
    c = result.cosines
    if c is not None and c.size > TOP:
        c = c.astype(np.float64)
        mean, std = float(c.mean()), float(c.std()) or 1e-3
        top = c[_top(c, TOP)]
        out["nqc_dense"] = float(top.std()) / abs(mean)
        out["nqc_dense_z"] = float(top.std()) / std
        out["wig_dense"] = (float(top[:5].mean()) - mean) / std
        mu = float(top.mean())
        out["smv_dense"] = float(np.mean(top * np.abs(np.log(top / mu)))) / abs(mean)
        out["ratio_dense"] = (top[-1] - mean) / ((top[0] - mean) or 1e-3)
        out["gap_rel_dense"] = (top[0] - top[1]) / ((top[0] - top[-1]) or 1e-3)
        hits = [h for h in result.hits[:TOP] if h.matched_by != "number"]
        rows = [r[0] for h in hits if (r := retriever.index.passage_rows(h.clause.id))]
        out["clarity_dense"] = lexical.clarity(np.array(rows, dtype=np.int64))
    tokens = [lexical.vocab[t] for t in dict.fromkeys(bm25_terms(analysis.search_text)) if t in lexical.vocab]
    all_tokens = list(dict.fromkeys(bm25_terms(analysis.search_text)))
    if all_tokens:
        out["known_share"] = sum(t in lexical.vocab for t in all_tokens) / len(all_tokens)
    n = lexical.n
    max_idf = math.log(1.0 + (n + 0.5) / 0.5)
    if tokens:
        df = lexical.df[tokens]
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        out["idf_mean"] = float(idf.mean()) / max_idf
        out["idf_max"] = float(idf.max()) / max_idf
        scq = (1.0 + np.log(df)) * np.log(1.0 + n / df) / (math.log(n) ** 2)
        out["scq_mean"], out["scq_max"] = float(scq.mean()), float(scq.max())
        parts = lexical.contributions(tokens)
        s = parts.sum(axis=0)
        if s.max() > 0:
            top = _top(s, TOP)
            top_s = s[top]
            bound = float(parts.max(axis=1).sum()) or 1.0
            out["nqc_bm25"] = float(top_s.std()) / (float(top_s[0]) or 1.0)
            out["wig_bm25"] = (float(top_s[:5].mean()) - float(s.mean())) / bound
            out["ratio_bm25"] = float(top_s[-1]) / float(top_s[0])
            out["dominance_bm25"] = float(parts[:, top[0]].max()) / float(top_s[0])
            out["clarity_bm25"] = lexical.clarity(top[top_s > 0])
            if len(tokens) > 1:
                first = set(top.tolist())
                overlaps = [len(first & set(_top(s - parts[i], TOP).tolist())) / TOP for i in range(len(tokens))]
                out["robust_bm25"] = float(np.mean(overlaps))
            else:
                out["robust_bm25"] = 1.0
    return out


def benchmark_qpp(name: str, split: str, cache_dir: Path, embedder: str) -> list[dict]:
    from assistant.embedding import CachedEmbedder, make_embedder
    from assistant.evaluation import load_benchmark

    folder = fit_scope.BENCH / name
    bench = load_benchmark(folder / "corpus.jsonl", folder / f"queries-{split}.jsonl", folder / f"qrels-{split}.tsv")
    retriever = fit_scope.benchmark_retriever(name, split, cache_dir, embedder)
    embedder_ = CachedEmbedder(make_embedder(embedder), cache_dir)
    items = list(bench.scope_queries.items())
    return _rows(retriever, embedder_, [(qid, text, bench.answerable[qid], "zh" if name.startswith("stard") else "en")
                                        for qid, text in items], k=100)


def guidance_qpp(path: Path, cache_dir: Path, embedder: str, rows_dir: Path) -> list[dict]:
    """The guidance set's FIT split only: the held-out third is not read past its split field."""
    from assistant.embedding import CachedEmbedder, make_embedder

    retriever = fit_scope.guidance_retriever(cache_dir, embedder, rows_dir=rows_dir)
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [i for i in items if i.get("split", "fit") == "fit"]
    embedder_ = CachedEmbedder(make_embedder(embedder), cache_dir)
    return _rows(retriever, embedder_, [(i["id"], i["question"], bool(i["answerable"]), i.get("lang")) for i in items],
                 k=10)


def _rows(retriever, embedder, items, k: int) -> list[dict]:
    lexical = LexicalTerms(retriever)
    analyses = [retriever.analyse(text) for _, text, _, _ in items]
    vectors = embedder.embed_queries([a.search_text for a in analyses])
    rows = []
    for (qid, text, answerable, lang), analysis, vector in zip(items, analyses, vectors):
        result = retriever.search(text, k=k, query_vector=vector, analysis=analysis)
        values = signals(analysis, result, retriever)
        values.update(qpp(analysis, result, retriever, lexical))
        rows.append({"id": qid, "answerable": bool(answerable), "lang": lang or analysis.lang, "split": "fit",
                     "signals": values, "named": any(h.matched_by == "number" for h in result.hits[:10])})
    return rows


def load(name: str, rows_dir: Path, compute) -> list[dict]:
    path = rows_dir / f"qpp-{name}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    rows = compute()
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return rows


# -- model forms ----------------------------------------------------------------------------------

def fit_per_set_intercepts(groups: list[list[dict]], features: list[str], l2: float):
    """Logistic regression with one unpenalised-ish intercept column per set (and language):
    the shared weights rank questions inside each set; the intercepts absorb each set's offset
    and are dropped when scoring another corpus (AUROC does not see an offset)."""
    parts, owners = [], []
    for g in groups:
        for lang in fit_scope.LANGS:
            p = [r for r in g if fit_scope.row_lang(r) == lang]
            if len(p) >= 20:
                parts.append(p)
                owners.append(len(g))
    x = np.vstack([fit_scope.matrix(g, features)[0] for g in parts])
    y = np.concatenate([fit_scope.matrix(g, features)[1] for g in parts])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    onehot = np.zeros((len(x), len(parts)))
    start = 0
    for i, g in enumerate(parts):
        onehot[start:start + len(g), i] = 1.0
        start += len(g)
    # each set (not each language part) weighs the same, as fit_scope.fit does
    weights = np.concatenate([np.full(len(p), len(x) / (len(groups) * n)) for p, n in zip(parts, owners)])
    # fit_logistic shrinks every weight but the bias: scaled up, the intercept columns are shrunk little
    big = 30.0
    w, b = fit_logistic(np.hstack([z, onehot * big]), y, l2=l2, sample_weight=weights)
    model = fit_scope.ScopeModel(features, mean.tolist(), scale.tolist(), w[:len(features)].tolist(), float(b), 0.5,
                                 fit_scope.UNCERTAIN_MARGIN)
    return model


def fit_pairwise(groups: list[list[dict]], features: list[str], l2: float, pairs: int = 20000, seed: int = 0):
    """Logistic regression on differences of (answerable, not answerable) pairs drawn inside one
    set and language: it learns only the order within a set, which is what AUROC on an unseen
    corpus asks for. Each set gives the same number of pairs."""
    rng = np.random.default_rng(seed)
    x_all = np.vstack([fit_scope.matrix(g, features)[0] for g in groups])
    mean, scale = x_all.mean(axis=0), x_all.std(axis=0)
    scale[scale < 1e-6] = 1.0
    diffs = []
    for g in groups:
        parts = [[r for r in g if fit_scope.row_lang(r) == lang] for lang in fit_scope.LANGS]
        parts = [p for p in parts if sum(r["answerable"] for r in p) >= 5 and sum(not r["answerable"] for r in p) >= 5]
        for p in parts:
            x, y = fit_scope.matrix(p, features)
            z = (x - mean) / scale
            pos, neg = z[y == 1], z[y == 0]
            n = pairs // len(parts)
            diffs.append(pos[rng.integers(0, len(pos), n)] - neg[rng.integers(0, len(neg), n)])
    d = np.vstack(diffs)
    # symmetric: each difference once as a win, once negated as a loss, so the intercept stays 0
    # weighed to as many rows as questions, so that l2 means what it means in fit_scope.fit
    weight = np.full(2 * len(d), len(x_all) / (2 * len(d)))
    w, _ = fit_logistic(np.vstack([d, -d]), np.concatenate([np.ones(len(d)), np.zeros(len(d))]), l2=l2,
                        sample_weight=weight)
    return fit_scope.ScopeModel(features, mean.tolist(), scale.tolist(), w.tolist(), 0.0, 0.5, fit_scope.UNCERTAIN_MARGIN)


FORMS = {"shared": fit_scope.fit, "per_set": fit_per_set_intercepts, "pairwise": fit_pairwise}


def _auroc(model, rows: list[dict]) -> float:
    return auroc(fit_scope.confidences(model, rows), np.array([r["answerable"] for r in rows], dtype=bool))


def reverse(data: dict, guidance_fit: list[dict], features: list[str], l2: float, form: str = "shared") -> dict:
    """Fitted on the benchmarks only, scored on the guidance fit split (per language)."""
    model = FORMS[form](list(data.values()), features, l2)
    return {lang: round(_auroc(model, [r for r in guidance_fit if r["lang"] == lang]), 4) for lang in fit_scope.LANGS}


def in_corpus(data: dict, features: list[str], l2: float) -> dict:
    return {name: fit_scope.in_corpus(rows, features, l2, 0.045)["auroc"] for name, rows in data.items()}


def transfer(data: dict, guidance_fit: list[dict], features: list[str], l2: float, form: str = "shared") -> dict:
    out = {}
    for name in data:
        others = [data[o] for o in data if o != name] + [guidance_fit]
        model = FORMS[form](others, features, l2)
        c = fit_scope.confidences(model, data[name])
        out[name] = round(auroc(c, np.array([r["answerable"] for r in data[name]], dtype=bool)), 4)
    return out


def target_free(data: dict, guidance_fit: list[dict], features: list[str], l2: float, form: str = "shared") -> dict:
    """For each benchmark as the target, a criterion that never reads it: fit on the guidance fit
    split, score the other benchmark; fit on the other benchmark, score the guidance fit split."""
    out = {}
    if len(data) < 2:
        return out
    for name in data:
        (other,) = [o for o in data if o != name]
        pairs = [([guidance_fit], data[other]), ([data[other]], guidance_fit)]
        scores = []
        for train, test in pairs:
            model = FORMS[form](train, features, l2)
            c = fit_scope.confidences(model, test)
            scores.append(auroc(c, np.array([r["answerable"] for r in test], dtype=bool)))
        out[name] = round(float(np.mean(scores)), 4)
    return out


def select_without_target(data: dict, guidance_fit: list[dict], target: str, pool: list[str], l2: float,
                          steps: int = 6) -> list[str]:
    """Greedy forward selection whose criterion never reads ``target``: the mean AUROC of (fit on
    the guidance fit split, score the other benchmark) and (fit on the other benchmark, score the
    guidance fit split)."""
    chosen: list[str] = []
    best = -1.0
    for _ in range(steps):
        scored = [(target_free(data, guidance_fit, chosen + [f], l2)[target], f) for f in pool if f not in chosen]
        value, feature = max(scored)
        if value <= best + 1e-4:
            break
        chosen.append(feature)
        best = value
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--rows-dir", type=Path, required=True)
    parser.add_argument("--embedder", default="e5-small")
    parser.add_argument("--guidance-set", type=Path, default=ROOT / "tests" / "data" / "guidance_set.jsonl")
    parser.add_argument("--l2", type=float, default=30.0)
    parser.add_argument("--only", help="compute the rows of this set only (stard-scope, obliqa-scope, guidance)")
    parser.add_argument("--skip", nargs="*", default=[],
                        help="benchmarks left out of the report (their vectors not embedded yet, for example)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.rows_dir.mkdir(parents=True, exist_ok=True)
    data = {}
    for name, split in fit_scope.SETS.items():
        if args.only in (None, name) and (args.only or name not in args.skip):
            data[name] = load(name, args.rows_dir, lambda name=name, split=split: benchmark_qpp(
                name, split, args.cache_dir, args.embedder))
    if args.only in (None, "guidance"):
        guidance_fit = load("guidance-fit", args.rows_dir, lambda: guidance_qpp(
            args.guidance_set, args.cache_dir, args.embedder, args.rows_dir))
    if args.only:
        return 0
    report: dict = {"l2": args.l2, "benchmarks": list(data), "shipped_features": SHIPPED}
    alone = {**data, "guidance-fit-zh": [r for r in guidance_fit if r["lang"] == "zh"],
             "guidance-fit-en": [r for r in guidance_fit if r["lang"] == "en"]}
    report["alone"] = {f: {n: round(auroc(fit_scope.matrix(rows, [f])[0][:, 0],
                                          fit_scope.matrix(rows, [f])[1].astype(bool)), 3) for n, rows in alone.items()}
                       for f in QPP}

    def measured(features: list[str]) -> dict:
        out = {form: {"transfer": transfer(data, guidance_fit, features, args.l2, form),
                      "reverse": reverse(data, guidance_fit, features, args.l2, form)} for form in FORMS}
        if len(data) > 1:
            for form in FORMS:
                out[form]["target_free"] = target_free(data, guidance_fit, features, args.l2, form)
        out["in_corpus_2fold"] = in_corpus(data, features, args.l2)
        return out

    report["shipped"] = measured(SHIPPED)
    report["plus_one"] = {f: measured(SHIPPED + [f]) for f in QPP}
    report["plus_all_qpp"] = measured(SHIPPED + list(QPP))
    if len(data) > 1:
        pool = [f for f in fit_scope.ALL_FEATURES if f not in fit_scope.EXEMPLAR_SIGNALS] + list(QPP)
        report["selected_without_target"] = {}
        for target in data:
            chosen = select_without_target(data, guidance_fit, target, pool, args.l2)
            report["selected_without_target"][target] = {
                "features": chosen, "target_free": target_free(data, guidance_fit, chosen, args.l2)[target],
                "transfer": transfer(data, guidance_fit, chosen, args.l2)[target]}
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
