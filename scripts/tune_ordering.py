"""Fit the citation-ordering weights of assistant/answering.py on the guidance set's fit split.

Retrieval and the scope decision do not depend on how citations are ordered, so each question
is searched once (as ``Assistant.ask`` does it) and only the composition is re-run for every
weight setting of a grid. Reports right-first and top-3 per language for each setting, best
first; the held-out split is reported only for the settings given with --report, so it never
takes part in the choice.

    .venv/bin/python scripts/tune_ordering.py [--index DIR] [--split fit] [--top 15]
        [--grid title_weight=0,1,2 heading_weight=0,1 ...] [--report title_weight=2,...]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from eval_guidance import DEFAULT_SET, load_set, right_at, select  # noqa: E402

DEFAULT_GRID = {
    "sentence_weight": [2.0, 4.0, 6.0],
    "title_weight": [1.0, 2.0, 3.0],
    "heading_weight": [0.0, 0.5, 1.0],
    "idf_terms": [0.0, 1.0],
}


def parse_grid(items: list[str]) -> dict[str, list[float]]:
    grid = {}
    for item in items:
        name, _, values = item.partition("=")
        grid[name] = [float(v) for v in values.split(",") if v]
    return grid


def prepare(assistant, rows):
    """Per question: what compose_answer needs, searched once."""
    live = assistant.live
    retriever = live.retriever
    prepared = []
    for row in rows:
        if not row["answerable"]:
            continue  # ordering is scored on the questions that have a right clause
        question = row["question"]
        analysis = retriever.analyse(question)
        vector = assistant._query_vector(analysis.search_text)
        result = retriever.search(question, k=10, query_vector=vector, analysis=analysis)
        decision = assistant.scope_model.decide(analysis, result, retriever, assistant.settings.min_confidence)
        prepared.append((row, analysis, vector, result, decision))
    return prepared


def evaluate(assistant, prepared, config) -> dict:
    from assistant.answering import compose_answer

    live = assistant.live
    out: dict[str, list[int]] = {}
    for row, analysis, vector, result, decision in prepared:
        if not row["answerable"]:
            continue
        answer = compose_answer(row["question"], result.cited, vector, live.index, config, 5,
                                decision=decision, analysis=analysis)
        cites = [] if answer.abstained else [c.to_dict() if hasattr(c, "to_dict") else vars(c)
                                              for c in answer.citations]
        stats = out.setdefault(row["lang"], [0, 0, 0])
        stats[0] += 1
        stats[1] += right_at(cites, row["gold"], 1)
        stats[2] += right_at(cites, row["gold"], 3)
    return {lang: (n, first / n, top3 / n) for lang, (n, first, top3) in out.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--index", type=Path, default=ROOT / ".cache" / "guidance-index")
    parser.add_argument("--split", default="fit")
    parser.add_argument("--grid", nargs="*", default=[], help="name=v1,v2 ... (AnswerConfig fields)")
    parser.add_argument("--report", nargs="*", help="name=value ...: one setting to report on --split")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--fit-weights", action="store_true",
                        help="fit order_weights by logistic regression (right clause or not) on --split")
    parser.add_argument("--signals", default=",".join(SIGNALS_DEFAULT), help="signals the regression uses")
    parser.add_argument("--idf", type=int, default=1, help="IDF-weighted topic terms (1) or not (0)")
    args = parser.parse_args(argv)

    from assistant.config import Settings
    from assistant.service import Assistant

    assistant = Assistant(Settings(corpus_dir=args.corpus, index_dir=args.index, auto_build=True))
    assistant.open(build_if_needed=True)
    rows = select(load_set(args.set), args.split)
    prepared = prepare(assistant, rows)
    base = assistant.answer_config()
    if args.fit_weights:
        return fit_weights(assistant, prepared, base, args.signals.split(","), bool(args.idf))
    if args.report is not None:
        setting = {k: v[0] for k, v in parse_grid(args.report).items()}
        figures = evaluate(assistant, prepared, replace(base, **setting))
        print(args.split, setting, _fmt(figures))
        return 0
    grid = parse_grid(args.grid) if args.grid else DEFAULT_GRID
    names = list(grid)
    results = []
    for values in itertools.product(*(grid[n] for n in names)):
        setting = dict(zip(names, values))
        figures = evaluate(assistant, prepared, replace(base, **setting))
        # Choose on the worse language first: the target holds per language.
        worst = min(f for _, f, _ in figures.values())
        worst3 = min(t for _, _, t in figures.values())
        results.append((worst, worst3, sum(f for _, f, _ in figures.values()), setting, figures))
    results.sort(key=lambda r: (r[0], r[1], r[2]), reverse=True)
    print("defaults:", {n: getattr(base, n) for n in names}, _fmt(evaluate(assistant, prepared, base)))
    for worst, worst3, _, setting, figures in results[: args.top]:
        print(setting, _fmt(figures))
    return 0


SIGNALS_DEFAULT = ("fused_z", "similarity", "dense", "lexical", "title", "heading", "coverage", "section", "rank")


def fit_weights(assistant, prepared, base, names: list[str], idf: bool) -> int:
    """Logistic regression of "this hit is a right clause" on its signals, per question centred
    (only differences within a question order its citations), for a few regularisation levels;
    prints each level's figures on the split and its weights as AnswerConfig.order_weights."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from assistant.answering import answer_signals
    from eval_guidance import clause_matches

    live = assistant.live
    rows_x, rows_y = [], []
    for row, analysis, vector, result, decision in prepared:
        hits = result.cited[:10]
        if len(hits) < 2:
            continue
        signals = answer_signals(hits, set(analysis.terms), live.index, idf)
        x = np.array([[s[n] for n in names] for s in signals], dtype=np.float64)
        rows_x.append(x - x.mean(axis=0))
        rows_y.extend(clause_matches(h.clause.number, row["gold"]) and live.kinds.get(h.clause.document, "guidance")
                      == "guidance" for h in hits)
    x = np.vstack(rows_x)
    y = np.array(rows_y, dtype=int)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    print(f"{len(rows_x)} questions, {len(y)} hits, {int(y.sum())} right")
    print("defaults:", _fmt(evaluate(assistant, prepared, base)))
    for c in (0.01, 0.03, 0.1, 0.3, 1.0, 10.0):
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(x / scale, y)
        weights = {n: round(float(w / s), 4) for n, w, s in zip(names, model.coef_[0], scale)}
        figures = evaluate(assistant, prepared, replace(base, order_weights=weights, idf_terms=idf))
        print(f"C={c}", _fmt(figures))
        print("   order_weights =", weights)
    return 0


def _fmt(figures: dict) -> str:
    return "  ".join(f"{lang} n={n} first {f:.3f} top3 {t:.3f}" for lang, (n, f, t) in sorted(figures.items()))


if __name__ == "__main__":
    raise SystemExit(main())
