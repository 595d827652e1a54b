"""Performance benchmark: index build, in-process ask, HTTP /api/ask, server memory, cold start.

    .venv/bin/python scripts/bench.py                          # sample corpus, default embedder
    .venv/bin/python scripts/bench.py --embedder fake          # quick end-to-end check
    .venv/bin/python scripts/bench.py --only ask,http --index /tmp/bench-index   # reuse an index
    .venv/bin/python scripts/bench.py --only obliqa-build --obliqa-limit 2000 --obliqa-index /tmp/obliqa-index
    .venv/bin/python scripts/bench.py --only memory-obliqa --obliqa-index /tmp/obliqa-index
    .venv/bin/python scripts/bench.py --json > bench.json

Sections (``--only a,b``; default: build,ask,http,memory,coldstart; ``all`` adds the ObliQA ones):

build          index build of --corpus into a scratch folder: counts, parse time, passage and
               sentence embedding, the rest (BM25, files, verification), passages/s.
obliqa-build   the same for the ObliQA corpus (BEIR corpus.jsonl, one clause per record).
               --obliqa-limit N builds the first N records and extrapolates to the whole corpus
               (labelled "extrapolated"). The index is written with the fingerprint of an
               empty corpus folder, so a server started with an empty --corpus serves it.
ask            in-process Assistant.ask() over a fixed list of ~40 mixed questions, --repeat
               rounds, with the query and answer caches cleared before every call ("cold") and
               with every question already cached ("warm"). Breakdown from Answer.timings_ms
               (Assistant.clear_caches() before each cold call): query embedding (embed), BM25
               (lexical), vector search (dense), fusion (fusion + clause-number lookup), answer
               composition (compose), other (the rest of ask()). The floor is query embedding +
               dense + lexical; ratio = total / floor.
http           /api/ask against `python -m assistant.cli serve` on a free loopback port
               (ASSISTANT_RATE_LIMIT=0, ASSISTANT_AUTO_BUILD=false), at each --concurrency
               level with its bounded request count, --http-rounds times; a fresh server for
               every level and round, so each measured request asks a question that server has
               not seen; then the same questions again at concurrency 1 (served from cache).
               Latency is measured by the client (httpx.AsyncClient on the same 2 cores);
               the server's own took_ms and its CPU seconds per request are reported too.
               Every non-200 is counted and shown.
memory         the server's VmRSS/VmHWM (/proc/PID/status) after loading the sample index and
               after --memory-requests questions at concurrency 8.
memory-obliqa  the same with the ObliQA index from --obliqa-index (or from obliqa-build in
               the same run); skipped with the reason when there is none or it does not load.
coldstart      launch `assistant serve` on the existing index; time to /healthz 200 and to the
               first 200 from /api/ask, and the server's CPU seconds by then; then the took_ms
               of a first Chinese question; median over --coldstart-runs launches.

Percentiles are computed per round and the median over rounds is quoted; ratios come from the
same run. The machine's load average is recorded before and after each section.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import bench_helpers as H  # noqa: E402
from bench_helpers import fmt, rnd, table  # noqa: E402
from tests.support.load import median, pct, run_load  # noqa: E402

DEFAULT_SECTIONS = ["build", "ask", "http", "memory", "coldstart"]
ALL_SECTIONS = ["build", "obliqa-build", "ask", "http", "memory", "memory-obliqa", "coldstart"]
COMPONENTS = ["embed", "lexical", "dense", "fusion", "compose", "other"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ================================================================================ index build
class StageClock:
    """A build_index progress factory that records when each stage starts and last ticks."""

    def __init__(self) -> None:
        self.stages: dict[str, dict] = {}

    def __call__(self, label: str, total: int):
        now = time.perf_counter()
        stage = self.stages[label] = {"start": now, "end": now, "total": total}

        def tick(count: int) -> None:
            stage["end"] = time.perf_counter()

        return tick

    def seconds(self, label: str) -> float:
        stage = self.stages.get(label)
        return stage["end"] - stage["start"] if stage else 0.0


def timed_build(index_dir: Path, prepare, embedder, options) -> tuple[dict, object]:
    """prepare() -> PreparedCorpus, then build_index with a stage clock. Returns (figures, index)."""
    from assistant.index import build_index
    from assistant.retrieval import index_artifacts

    started = time.perf_counter()
    corpus = prepare()
    prepared = time.perf_counter()
    clock = StageClock()
    # As the service builds: with the scope decision's stored near misses (part of the build time).
    index = build_index(index_dir, corpus, embedder, options, progress=clock, extra_files=index_artifacts(embedder))
    finished = time.perf_counter()
    counts = index.manifest.counts
    build_s = finished - prepared
    passages_s = clock.seconds("embedding passages")
    sentences_s = clock.seconds("embedding sentences")
    total_s = finished - started
    figures = {
        "counts": counts,
        "total_s": total_s,
        "parse_s": prepared - started,
        "embed_passages_s": passages_s,
        "embed_sentences_s": sentences_s,
        "rest_s": build_s - passages_s - sentences_s,  # BM25, writing, fsync, checksums, verifying load
        "passages_per_s": counts["passages"] / total_s if total_s else None,
        "embedded_texts_per_s": (counts["passages"] + counts["sentences"]) / (passages_s + sentences_s)
        if passages_s + sentences_s > 0 else None,
        "load_errors": index.manifest.load_errors,
    }
    return figures, index


def summarise_builds(runs: list[dict]) -> dict:
    keys = ["total_s", "parse_s", "embed_passages_s", "embed_sentences_s", "rest_s", "passages_per_s",
            "embedded_texts_per_s"]
    return {
        "runs": len(runs),
        "counts": runs[-1]["counts"],
        **{key: median([run[key] for run in runs]) for key in keys},
        "total_s_each": [run["total_s"] for run in runs],
        "load_errors": runs[-1]["load_errors"],
    }


def section_build(ctx: "Context") -> dict:
    from assistant.documents import discover
    from assistant.index import prepare_files

    files = discover(ctx.corpus)
    if not files:
        raise SystemExit(f"no documents in {ctx.corpus}")
    runs = []
    for n in range(ctx.args.build_repeat):
        index_dir = ctx.tmp / f"build-{n}"
        log(f"build {n + 1}/{ctx.args.build_repeat}: {len(files)} files from {ctx.corpus} with {ctx.embedder.id}")
        figures, _ = timed_build(
            index_dir,
            lambda: prepare_files(files, ctx.settings.passage_chars, max_bytes=ctx.settings.max_upload_bytes),
            ctx.embedder, ctx.build_options(),
        )
        runs.append(figures)
        if ctx.index_dir is None:
            ctx.index_dir = index_dir  # the other sections use this index
            ctx.index_origin = "built by the build section"
            continue
        if ctx.index_origin == "given" and ctx.given_index_stale() is not None:
            # --index names a missing or stale index: this build becomes it (for this and later runs).
            shutil.copytree(index_dir, ctx.index_dir, dirs_exist_ok=True)
            ctx.index_origin = "built by the build section"
        if index_dir != ctx.index_dir:
            shutil.rmtree(index_dir, ignore_errors=True)
    return {"corpus": str(ctx.corpus), "files": [f.name for f in files], "model_load_s": ctx.model_load_s,
            **summarise_builds(runs)}


def obliqa_prepared(path: Path, limit: int | None, passage_chars: int):
    """PreparedCorpus for the first `limit` records (all when None), as the build sees it."""
    from assistant.evaluation import prepare_benchmark
    from assistant.index import corpus_fingerprint

    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    # The fingerprint of an empty corpus folder: a server with an empty --corpus sees it as fresh.
    return prepare_benchmark(records, passage_chars, fingerprint=corpus_fingerprint([]), limit=limit)


def section_obliqa_build(ctx: "Context") -> dict:
    from assistant.index import BuildOptions
    from assistant.text import sentence_spans

    path = ctx.args.obliqa
    if not path.exists():
        return {"skipped": f"no ObliQA corpus at {path}"}
    limit = ctx.args.obliqa_limit
    target = ctx.args.obliqa_index or ctx.tmp / "obliqa-index"
    options = BuildOptions(embedder_id=ctx.embedder.id, passage_chars=ctx.settings.passage_chars,
                           sentence_vectors=not ctx.args.obliqa_no_sentences)
    full = None
    if limit:
        # Untimed by the build: what the whole corpus would give, and how long parsing all of it takes.
        mark = time.perf_counter()
        whole = obliqa_prepared(path, None, ctx.settings.passage_chars)
        full = {"clauses": len(whole.clauses), "passages": len(whole.passages), "parse_s": time.perf_counter() - mark,
                "sentences": sum(len(sentence_spans(c.text)) for c in whole.clauses) if options.sentence_vectors else 0}
        if limit >= full["clauses"]:
            full = None
    log(f"obliqa-build: {path} ({'first ' + str(limit) + ' records' if full else 'all records'}) "
        f"with {ctx.embedder.id} into {target}")
    figures, _ = timed_build(target, lambda: obliqa_prepared(path, limit, ctx.settings.passage_chars),
                             ctx.embedder, options)
    ctx.obliqa_index = target
    out = {"corpus": str(path), "index_dir": str(target), "sentence_vectors": options.sentence_vectors,
           "model_load_s": ctx.model_load_s, "measured": figures}
    if full:  # a subset: scale each embedding stage by its own text count
        counts = figures["counts"]
        p_scale = full["passages"] / counts["passages"]
        s_scale = full["sentences"] / counts["sentences"] if counts["sentences"] else 0.0
        total = (full["parse_s"] + figures["embed_passages_s"] * p_scale
                 + figures["embed_sentences_s"] * s_scale + figures["rest_s"] * p_scale)
        out["extrapolated"] = {
            "note": f"EXTRAPOLATED from the first {counts['clauses']} of {full['clauses']} records, "
                    "linearly per stage by text count (parsing measured on the whole corpus)",
            "counts": {k: full[k] for k in ("clauses", "passages", "sentences")},
            "total_s": total,
            "passages_per_s": full["passages"] / total if total else None,
        }
    return out


# ================================================================================ in-process ask
def timed_ask(assistant, question: str) -> dict:
    """One Assistant.ask(), split into parts from the answer's own timings_ms."""
    mark = time.perf_counter()
    answer = assistant.ask(question)
    total = _ms(mark)
    stages = answer.timings_ms
    parts = {
        "embed": stages.get("embed", 0.0),
        "lexical": stages.get("lexical", 0.0),
        "dense": stages.get("dense", 0.0),
        "fusion": stages.get("fusion", 0.0) + stages.get("lookup", 0.0),
        "compose": stages.get("compose", 0.0),
    }
    parts["other"] = total - sum(parts.values())  # reranking, cache look-ups, cleaning, the call itself
    floor = parts["embed"] + parts["dense"] + parts["lexical"]
    return {"total": total, **parts, "floor": floor, "abstained": bool(answer.abstained),
            "citations": len(answer.citations)}


def summarise_calls(rounds: list[list[dict]]) -> dict:
    calls = [call for one in rounds for call in one]
    totals = [c["total"] for c in calls]
    floors = [c["floor"] for c in calls]
    summary = {
        "calls": len(calls),
        "rounds": len(rounds),
        "p50_ms": median([pct([c["total"] for c in one], 50) for one in rounds]),
        "p95_ms": median([pct([c["total"] for c in one], 95) for one in rounds]),
        "p50_ms_each_round": [pct([c["total"] for c in one], 50) for one in rounds],
        "mean_ms": sum(totals) / len(totals),
        "breakdown_p50_ms": {part: pct([c[part] for c in calls], 50) for part in COMPONENTS},
        "breakdown_mean_ms": {part: sum(c[part] for c in calls) / len(calls) for part in COMPONENTS},
        "floor_p50_ms": pct(floors, 50),
        # Same calls, same run: the p50 total over the p50 floor, the mean total over the mean
        # floor (= share of time outside the floor), and the median of per-call ratios.
        "ratio_p50": pct(totals, 50) / pct(floors, 50) if pct(floors, 50) else None,
        "ratio_mean": sum(totals) / sum(floors) if sum(floors) else None,
        "ratio_median_per_call": pct([c["total"] / c["floor"] for c in calls if c["floor"] > 0], 50),
        "abstained_per_round": sum(c["abstained"] for c in rounds[0]),
    }
    return summary


def section_ask(ctx: "Context") -> dict:
    from assistant.service import Assistant

    assistant = Assistant(ctx.settings_for(ctx.index_dir), ctx.embedder)
    mark = time.perf_counter()
    assistant.warm_up()
    outcome = assistant.open(build_if_needed=False)
    open_s = time.perf_counter() - mark
    questions = list(H.QUESTIONS)
    # Warm-up pass (not counted): first calls pay for lazy imports and allocations.
    for question in questions:
        assistant.clear_caches()
        timed_ask(assistant, question)
    log(f"ask: {len(questions)} questions x {ctx.args.repeat} rounds, cold cache (Assistant.clear_caches before each)")
    cold = []
    for _ in range(ctx.args.repeat):
        calls = []
        for question in questions:
            assistant.clear_caches()
            calls.append(timed_ask(assistant, question))
        cold.append(calls)
    log(f"ask: {len(questions)} questions x {ctx.args.repeat} rounds, warm cache")
    for question in questions:  # prime
        timed_ask(assistant, question)
    warm = [[timed_ask(assistant, question) for question in questions] for _ in range(ctx.args.repeat)]
    per_question = {
        question: median([cold[r][i]["total"] for r in range(len(cold))]) for i, question in enumerate(questions)
    }
    slowest = sorted(per_question.items(), key=lambda item: item[1], reverse=True)[:5]
    return {
        "questions": len(questions),
        "index": outcome,
        "open_s": open_s,
        "timings_from": "Answer.timings_ms",
        "caches_cleared_for_cold": "Assistant.clear_caches()",
        "cold": summarise_calls(cold),
        "warm": summarise_calls(warm),
        "slowest_cold_p50_ms": [{"question": q, "ms": ms} for q, ms in slowest],
    }


# ================================================================================ HTTP
def _load(base_url: str, questions: list[str], concurrency: int, timeout: float) -> dict:
    outcomes, wall = run_load(base_url, [("ask", q) for q in questions], concurrency, timeout=timeout)
    statuses: dict[str, int] = {}
    for o in outcomes:
        key = str(o.status) if o.status is not None else o.error.split(" ")[0]
        statuses[key] = statuses.get(key, 0) + 1
    ok = [o for o in outcomes if o.status == 200]
    latencies = [o.latency_ms for o in ok]
    return {
        "requests": len(questions),
        "statuses": statuses,
        "ok": len(ok),
        "wall_s": wall,
        "throughput_rps": len(ok) / wall if wall else None,
        "p50_ms": pct(latencies, 50),
        "p95_ms": pct(latencies, 95),
        "p99_ms": pct(latencies, 99),
        "max_ms": max(latencies) if latencies else None,
        "server_took_p50_ms": pct([o.body.get("took_ms") for o in ok if o.body.get("took_ms") is not None], 50),
    }


def _warm(server: H.Server) -> None:
    import httpx

    with httpx.Client(base_url=server.url, timeout=60.0, trust_env=False) as client:
        for question in H.WARMUP_QUESTIONS:
            client.post("/api/ask", json={"question": question})


def measured_load(server: H.Server, questions: list[str], concurrency: int, timeout: float) -> dict:
    server_cpu = server.cpu_seconds()
    client_cpu = time.process_time()
    result = _load(server.url, questions, concurrency, timeout)
    result["server_cpu_ms_per_request"] = (server.cpu_seconds() - server_cpu) * 1000 / max(1, len(questions))
    result["client_cpu_ms_per_request"] = (time.process_time() - client_cpu) * 1000 / max(1, len(questions))
    return result


def section_http(ctx: "Context") -> dict:
    pool = H.question_pool()
    levels = list(zip(ctx.args.concurrency, ctx.args.http_requests))
    by_level: dict[int, list[dict]] = {c: [] for c, _ in levels}
    cached_rounds: list[dict] = []
    for round_number in range(ctx.args.http_rounds):
        for concurrency, count in levels:
            questions = [pool[i % len(pool)] for i in range(count)]
            log(f"http round {round_number + 1}/{ctx.args.http_rounds}: c={concurrency}, {count} requests "
                f"({min(count, len(pool))} distinct questions), fresh server")
            with ctx.server(ctx.index_dir) as server:
                server.wait_ready(timeout=600.0, interval=0.02, fail_on_error=True)
                ready_s = server.ready_s
                _warm(server)
                result = measured_load(server, questions, concurrency, ctx.args.request_timeout)
                result["distinct_questions"] = len(set(questions))
                result["ready_s"] = ready_s
                result["memory_after"] = server.memory_kib()
                by_level[concurrency].append(result)
                if concurrency == levels[0][0]:
                    # The same questions again: every query vector is already cached.
                    repeated = [q for _ in range(ctx.args.cached_repeats) for q in questions[: ctx.args.cached_questions]]
                    cached_rounds.append(measured_load(server, repeated, 1, ctx.args.request_timeout))
    out: dict = {"rounds": ctx.args.http_rounds, "levels": []}
    for concurrency, count in levels:
        runs = by_level[concurrency]
        statuses: dict[str, int] = {}
        for run in runs:
            for status, n in run["statuses"].items():
                statuses[status] = statuses.get(status, 0) + n
        out["levels"].append({
            "concurrency": concurrency,
            "requests_per_round": count,
            "distinct_questions": runs[0]["distinct_questions"],
            "statuses_all_rounds": statuses,
            **{key: median([run[key] for run in runs]) for key in
               ("p50_ms", "p95_ms", "p99_ms", "throughput_rps", "server_took_p50_ms",
                "server_cpu_ms_per_request", "client_cpu_ms_per_request")},
            "p50_ms_each_round": [run["p50_ms"] for run in runs],
            "p99_ms_each_round": [run["p99_ms"] for run in runs],
            "throughput_rps_each_round": [run["throughput_rps"] for run in runs],
            "peak_rss_mib": max((run["memory_after"]["group_hwm_kib"] or 0) for run in runs) / 1024,
        })
    statuses = {}
    for run in cached_rounds:
        for status, n in run["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    out["cached"] = {
        "questions": ctx.args.cached_questions,
        "repeats": ctx.args.cached_repeats,
        "concurrency": 1,
        "statuses_all_rounds": statuses,
        "p50_ms": median([run["p50_ms"] for run in cached_rounds]),
        "p99_ms": median([run["p99_ms"] for run in cached_rounds]),
        "server_took_p50_ms": median([run["server_took_p50_ms"] for run in cached_rounds]),
        "p50_ms_each_round": [run["p50_ms"] for run in cached_rounds],
    }
    return out


# ================================================================================ memory
def _memory_run(ctx: "Context", server: H.Server, questions: list[str]) -> dict:
    server.wait_ready(timeout=600.0, interval=0.02, fail_on_error=True)
    ready_s = server.ready_s
    idle = server.memory_kib()
    load = measured_load(server, questions, 8, ctx.args.request_timeout)
    after = server.memory_kib()
    return {
        "ready_s": ready_s,
        "rss_after_load_mib": _mib(idle["rss_kib"]),
        "hwm_after_load_mib": _mib(idle["hwm_kib"]),
        "rss_after_requests_mib": _mib(after["rss_kib"]),
        "peak_rss_mib": _mib(after["hwm_kib"]),
        "group_processes": after["group_processes"],
        "group_peak_rss_mib": _mib(after["group_hwm_kib"]),
        "requests": len(questions),
        "statuses": load["statuses"],
        "p50_ms": load["p50_ms"],
    }


def section_memory(ctx: "Context") -> dict:
    questions = H.question_pool()[: ctx.args.memory_requests]
    log(f"memory: sample index, {len(questions)} requests at c=8")
    with ctx.server(ctx.index_dir) as server:
        return {"index_dir": str(ctx.index_dir), **_memory_run(ctx, server, questions)}


def section_memory_obliqa(ctx: "Context") -> dict:
    from assistant.config import DEFAULT_PASSAGE_CHARS
    from assistant.documents import discover
    from assistant.index import IndexError_, corpus_fingerprint, load_index

    index_dir = ctx.obliqa_index or ctx.args.obliqa_index
    if index_dir is None or not (Path(index_dir) / "CURRENT").exists():
        return {"skipped": f"no ObliQA index ({index_dir or 'pass --obliqa-index DIR'}; build one with "
                           "--only obliqa-build --obliqa-index DIR, or `assistant --corpus C --index DIR ingest`)"}
    try:
        manifest = load_index(Path(index_dir)).manifest
    except IndexError_ as exc:
        return {"skipped": f"the ObliQA index in {index_dir} does not load: {exc}"}
    corpus_dir = ctx.args.obliqa_corpus_dir or (ctx.tmp / "empty-corpus")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    if manifest.corpus_fingerprint != corpus_fingerprint(discover(corpus_dir)):
        return {"skipped": f"the index in {index_dir} was not built from {corpus_dir} (fingerprint differs); "
                           "pass --obliqa-corpus-dir with the folder it was built from"}
    if not manifest.options.get("sentence_vectors", True):
        return {"skipped": "the index was built without sentence vectors (--obliqa-no-sentences); "
                           "the server only serves indexes with them"}
    questions = _obliqa_questions(ctx.args.obliqa.parent / "queries-dev.jsonl", ctx.args.memory_requests)
    log(f"memory-obliqa: {index_dir} ({manifest.counts}), {len(questions)} requests at c=8")
    passage_chars = manifest.options.get("passage_chars", DEFAULT_PASSAGE_CHARS)
    server = ctx.server(Path(index_dir), corpus_dir=corpus_dir, embedder=manifest.embedder,
                        env={"ASSISTANT_PASSAGE_CHARS": str(passage_chars)})
    with server:
        return {"index_dir": str(index_dir), "counts": manifest.counts, "embedder": manifest.embedder,
                **_memory_run(ctx, server, questions)}


def _obliqa_questions(path: Path, count: int) -> list[str]:
    if path.exists():
        lines = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if lines:
            return [lines[i % len(lines)] for i in range(count)]
    return H.question_pool()[:count]


# ================================================================================ cold start
def section_coldstart(ctx: "Context") -> dict:
    import httpx

    runs = []
    question = "How long must call recordings be retained?"
    command = ""
    for n in range(ctx.args.coldstart_runs):
        log(f"coldstart {n + 1}/{ctx.args.coldstart_runs}")
        with ctx.server(ctx.index_dir) as server:
            command = " ".join(server.command[1:]).replace(str(H.REPO) + "/", "")
            server.wait_ready(timeout=600.0, interval=0.01, fail_on_error=True)
            ready_s = server.ready_s
            with httpx.Client(base_url=server.url, timeout=60.0, trust_env=False) as client:
                statuses = []
                while True:
                    response = client.post("/api/ask", json={"question": question})
                    statuses.append(response.status_code)
                    if response.status_code == 200 or time.perf_counter() - server.started_at > 600:
                        break
                    time.sleep(0.01)
                first_answer_s = time.perf_counter() - server.started_at
                first_answer_cpu_s = server.cpu_seconds()
                took = response.json().get("took_ms") if response.status_code == 200 else None
                # The first Chinese question pays for what only Chinese needs (the homophone tables).
                zh = client.post("/api/ask", json={"question": H.ZH_COLD_QUESTION})
                zh_took = zh.json().get("took_ms") if zh.status_code == 200 else None
            runs.append({"ready_s": ready_s, "first_answer_s": first_answer_s, "first_answer_took_ms": took,
                         "first_answer_cpu_s": first_answer_cpu_s, "first_zh_answer_took_ms": zh_took,
                         "statuses": statuses, "rss_mib": _mib(server.memory_kib()["rss_kib"])})
    return {
        "launches": len(runs),
        "command": command,
        "ready_s": median([r["ready_s"] for r in runs]),
        "first_answer_s": median([r["first_answer_s"] for r in runs]),
        "first_answer_took_ms": median([r["first_answer_took_ms"] for r in runs]),
        "first_answer_cpu_s": median([r["first_answer_cpu_s"] for r in runs]),
        "first_zh_answer_took_ms": median([r["first_zh_answer_took_ms"] for r in runs]),
        "first_answer_s_each": [r["first_answer_s"] for r in runs],
        "non_200_before_answer": sum(len(r["statuses"]) - 1 for r in runs),
    }


# ================================================================================ plumbing
class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        from assistant.config import Settings
        from assistant.embedding import make_embedder

        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
        self.corpus = args.corpus.resolve()
        self.settings = Settings(corpus_dir=self.corpus, embedder=args.embedder or Settings().embedder,
                                 auto_build=False, rate_limit="0")
        self.embedder = make_embedder(self.settings.embedder)
        mark = time.perf_counter()
        self.embedder.warm_up()
        self.model_load_s = time.perf_counter() - mark
        self.index_dir: Path | None = args.index.resolve() if args.index else None
        self.index_origin = "given"
        self.obliqa_index: Path | None = None

    def build_options(self):
        from assistant.index import BuildOptions

        return BuildOptions(embedder_id=self.embedder.id, passage_chars=self.settings.passage_chars)

    def settings_for(self, index_dir: Path):
        return self.settings.model_copy(update={"index_dir": index_dir})

    def server(self, index_dir: Path, corpus_dir: Path | None = None, embedder: str | None = None,
               env: dict[str, str] | None = None) -> H.Server:
        return H.bench_server(index_dir, corpus_dir or self.corpus, embedder or self.embedder.id,
                        extra_args=self.args.server_args.split() if self.args.server_args else None, env=env)

    def given_index_stale(self) -> str | None:
        """Why the index at self.index_dir cannot serve the corpus with this embedder (None: it can)."""
        from assistant.documents import discover
        from assistant.index import IndexError_, check_fresh, load_index

        try:
            return check_fresh(load_index(self.index_dir), discover(self.corpus), self.build_options())
        except IndexError_ as exc:
            return str(exc)

    def ensure_index(self) -> None:
        """A fresh sample index at self.index_dir: reuse --index when it is fresh, else build once."""
        from assistant.documents import discover
        from assistant.index import prepare_files

        if self.index_dir is not None and self.index_origin == "given":
            stale = self.given_index_stale()
            if stale is None:
                self.index_origin = "reused"
                log(f"reusing the index in {self.index_dir}")
                return
            log(f"index in {self.index_dir} cannot be reused ({stale}); building it")
        elif self.index_dir is not None:
            return  # built by the build section
        else:
            self.index_dir = self.tmp / "index"
        files = discover(self.corpus)
        figures, _ = timed_build(
            self.index_dir,
            lambda: prepare_files(files, self.settings.passage_chars, max_bytes=self.settings.max_upload_bytes),
            self.embedder, self.build_options(),
        )
        self.index_origin = f"built for this run in {figures['total_s']:.1f} s"
        log(f"index built in {figures['total_s']:.1f} s: {figures['counts']}")

    def close(self) -> None:
        H.stop_all_servers()
        if not self.args.keep_temp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


def _mib(kib: int | None) -> float | None:
    return kib / 1024 if kib is not None else None


def _git() -> dict:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=H.REPO, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=H.REPO,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return {"commit": head, "uncommitted_changes": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {}


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Sections:\n\n" + __doc__.split("Sections", 1)[1].split("\n", 1)[1])
    parser.add_argument("--only", default=",".join(DEFAULT_SECTIONS),
                        help=f"comma-separated sections ({', '.join(ALL_SECTIONS)}, or all); default: %(default)s")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout (progress on stderr)")
    parser.add_argument("--embedder", help="embedding backend (default: settings, e5-small)")
    parser.add_argument("--corpus", type=Path, default=H.REPO / "corpus", help="sample corpus folder (default: corpus/)")
    parser.add_argument("--index", type=Path,
                        help="index folder to reuse (built there when missing or stale); default: a temporary one")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of the in-process ask section (default 5)")
    parser.add_argument("--build-repeat", type=int, default=1, help="builds of the sample corpus (default 1)")
    parser.add_argument("--concurrency", type=_int_list, default=[1, 8, 32], help="HTTP levels (default 1,8,32)")
    parser.add_argument("--http-requests", type=_int_list, default=[200, 400, 800],
                        help="requests per level and round (default 200,400,800)")
    parser.add_argument("--http-rounds", type=int, default=3, help="rounds of the HTTP section (default 3)")
    parser.add_argument("--cached-questions", type=int, default=10,
                        help="distinct questions in the repeated-question run (default 10)")
    parser.add_argument("--cached-repeats", type=int, default=20, help="times each is asked again (default 20)")
    parser.add_argument("--request-timeout", type=float, default=60.0, help="per-request timeout, s")
    parser.add_argument("--memory-requests", type=int, default=100, help="requests in the memory sections")
    parser.add_argument("--coldstart-runs", type=int, default=3, help="launches in the cold-start section")
    parser.add_argument("--server-args", default="", help="extra arguments after `serve`, e.g. '--workers 2'")
    parser.add_argument("--obliqa", type=Path, default=H.REPO.parent / "shared" / "bench" / "obliqa" / "corpus.jsonl",
                        help="ObliQA corpus.jsonl (default ../shared/bench/obliqa/corpus.jsonl)")
    parser.add_argument("--obliqa-limit", type=int, help="build only the first N records and extrapolate")
    parser.add_argument("--obliqa-no-sentences", action="store_true",
                        help="no sentence vectors in the ObliQA build (as `assistant eval`; not servable)")
    parser.add_argument("--obliqa-index", type=Path,
                        help="ObliQA index folder: written by obliqa-build, read by memory-obliqa")
    parser.add_argument("--obliqa-corpus-dir", type=Path,
                        help="corpus folder the ObliQA index was built from, for memory-obliqa "
                             "(default: an empty folder, matching this script's obliqa-build)")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temporary folder (indexes, for reuse)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sections = ALL_SECTIONS if args.only.strip() == "all" else [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in ALL_SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(ALL_SECTIONS)}")
    if len(args.concurrency) != len(args.http_requests):
        raise SystemExit("--concurrency and --http-requests need the same number of values")
    sections = [s for s in ALL_SECTIONS if s in sections]  # run in a fixed order

    def on_signal(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    report: dict = {}
    ctx = Context(args)
    try:
        report["meta"] = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "embedder": ctx.embedder.id,
            "model_load_s": ctx.model_load_s,
            "corpus": str(ctx.corpus),
            "sections": sections,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "git": _git(),
            "argv": sys.argv[1:] if argv is None else argv,
        }
        runners = {
            "build": section_build, "obliqa-build": section_obliqa_build, "ask": section_ask,
            "http": section_http, "memory": section_memory, "memory-obliqa": section_memory_obliqa,
            "coldstart": section_coldstart,
        }
        for name in sections:
            if name in ("ask", "http", "memory", "coldstart"):
                ctx.ensure_index()
            load_before = H.machine_load()
            mark = time.perf_counter()
            try:
                result = runners[name](ctx)
            except H.ServerError as exc:
                result = {"error": str(exc)}
                log(f"{name}: {exc}")
            result["section_s"] = time.perf_counter() - mark
            result["load_before"], result["load_after"] = load_before, H.machine_load()
            report[name] = result
            if not args.json:
                print(render(name, result), flush=True)
        report["meta"]["index"] = {"dir": str(ctx.index_dir) if ctx.index_dir else None, "origin": ctx.index_origin}
    finally:
        ctx.close()
    if args.json:
        print(json.dumps(rnd(report), ensure_ascii=False))
    return 0


# ================================================================================ text output
def render(name: str, r: dict) -> str:
    head = f"\n== {name} ({r['section_s']:.0f} s; load avg {r['load_before']['loadavg_1m']} -> {r['load_after']['loadavg_1m']} on {r['load_before']['cpus']} CPUs)"
    busiest = max(r["load_before"]["loadavg_1m"], r["load_after"]["loadavg_1m"])
    if busiest > (r["load_before"]["cpus"] or 1):
        head += (f"\nWARNING: load average {busiest} exceeds the {r['load_before']['cpus']} CPUs: other work "
                 "competes with the benchmark; treat these figures as upper bounds")
    if "skipped" in r:
        return f"{head}\nskipped: {r['skipped']}"
    if "error" in r:
        return f"{head}\nerror: {r['error']}"
    lines = [head]
    if name == "build":
        c = r["counts"]
        lines.append(f"{c['documents']} documents, {c['clauses']} clauses, {c['passages']} passages, "
                     f"{c['sentences']} sentences; model load {r['model_load_s']:.1f} s (not included)")
        lines.append(table(["median of " + str(r["runs"]), "s"], [
            ["total", fmt(r["total_s"], digits=2)], ["parse documents", fmt(r["parse_s"], digits=2)],
            ["embed passages", fmt(r["embed_passages_s"], digits=2)],
            ["embed sentences", fmt(r["embed_sentences_s"], digits=2)],
            ["BM25 + write + verify", fmt(r["rest_s"], digits=2)]]))
        lines.append(f"passages/s (total time): {fmt(r['passages_per_s'])}; "
                     f"embedded texts/s: {fmt(r['embedded_texts_per_s'])}")
        if r["load_errors"]:
            lines.append(f"load errors: {r['load_errors']}")
    elif name == "obliqa-build":
        m = r["measured"]
        c = m["counts"]
        lines.append(f"measured: {c['clauses']} clauses, {c['passages']} passages, {c['sentences']} sentences "
                     f"in {m['total_s']:.1f} s (parse {m['parse_s']:.1f}, passages {m['embed_passages_s']:.1f}, "
                     f"sentences {m['embed_sentences_s']:.1f}, rest {m['rest_s']:.1f}); "
                     f"{fmt(m['passages_per_s'])} passages/s")
        if "extrapolated" in r:
            e = r["extrapolated"]
            lines.append(f"{e['note']}: {e['counts']['passages']} passages, {e['counts']['sentences']} sentences "
                         f"-> {e['total_s']:.0f} s ({e['total_s'] / 60:.1f} min), {fmt(e['passages_per_s'])} passages/s")
        lines.append(f"index: {r['index_dir']}")
    elif name == "ask":
        lines.append(f"{r['questions']} questions; index {r['index']} in {r['open_s']:.2f} s; "
                     f"cold = {r['caches_cleared_for_cold']} before each call; parts from {r['timings_from']}")
        rows = []
        for mode in ("cold", "warm"):
            s = r[mode]
            b = s["breakdown_p50_ms"]
            rows.append([mode, fmt(s["p50_ms"], digits=2), fmt(s["p95_ms"], digits=2)]
                        + [fmt(b[p], digits=2) for p in COMPONENTS]
                        + [fmt(s["floor_p50_ms"], digits=2), fmt(s["ratio_p50"], digits=2), fmt(s["ratio_mean"], digits=2)])
        lines.append(table(["ms", "p50", "p95", "embed", "bm25", "dense", "fusion", "compose", "other",
                            "floor", "total/floor p50", "mean"], rows))
        lines.append("mean ms per part (cold): " + ", ".join(f"{p} {v:.2f}" for p, v in r["cold"]["breakdown_mean_ms"].items()))
        lines.append(f"p50 per round (cold): {', '.join(fmt(v, digits=1) for v in r['cold']['p50_ms_each_round'])}; "
                     f"abstained {r['cold']['abstained_per_round']} of {r['questions']}")
        lines.append("slowest (cold p50): " + "; ".join(f"{s['question']} {s['ms']:.1f}" for s in r["slowest_cold_p50_ms"]))
    elif name == "http":
        rows = []
        for level in r["levels"]:
            rows.append([level["concurrency"], level["requests_per_round"], fmt(level["p50_ms"]), fmt(level["p95_ms"]),
                         fmt(level["p99_ms"]), fmt(level["throughput_rps"]), fmt(level["server_took_p50_ms"]),
                         fmt(level["server_cpu_ms_per_request"]), fmt(level["client_cpu_ms_per_request"]),
                         fmt(level["peak_rss_mib"], digits=0), _statuses(level["statuses_all_rounds"])])
        lines.append(f"median of {r['rounds']} rounds, fresh server per level and round, distinct questions")
        lines.append(table(["concurrency", "requests", "p50 ms", "p95 ms", "p99 ms", "req/s", "server p50 ms",
                            "server CPU ms/req", "client CPU ms/req", "peak RSS MiB", "statuses"], rows))
        c = r["cached"]
        lines.append(f"repeated questions (cached), c=1: p50 {fmt(c['p50_ms'], digits=2)} ms, p99 {fmt(c['p99_ms'], digits=2)} ms, "
                     f"server p50 {fmt(c['server_took_p50_ms'], digits=2)} ms; {c['questions']} questions x {c['repeats']}; "
                     f"statuses {_statuses(c['statuses_all_rounds'])}")
    elif name in ("memory", "memory-obliqa"):
        if "counts" in r:
            lines.append(f"index {r['index_dir']}: {r['counts']}")
        lines.append(f"after load: RSS {fmt(r['rss_after_load_mib'], ' MiB', 0)}; after {r['requests']} requests at c=8: "
                     f"RSS {fmt(r['rss_after_requests_mib'], ' MiB', 0)}, peak (VmHWM) {fmt(r['peak_rss_mib'], ' MiB', 0)}"
                     f"; process group ({r['group_processes']}) peak {fmt(r['group_peak_rss_mib'], ' MiB', 0)}; "
                     f"ready in {r['ready_s']:.1f} s; statuses {_statuses(r['statuses'])}")
    elif name == "coldstart":
        lines.append(f"median of {r['launches']}: /healthz 200 after {r['ready_s']:.2f} s, first answer after "
                     f"{r['first_answer_s']:.2f} s (that request took {fmt(r['first_answer_took_ms'])} ms in the server); "
                     f"each: {', '.join(f'{v:.2f}' for v in r['first_answer_s_each'])} s")
        lines.append(f"server CPU by the first answer {r['first_answer_cpu_s']:.2f} s; the first Chinese question "
                     f"then took {fmt(r['first_zh_answer_took_ms'])} ms in the server")
        lines.append(f"command: {r['command']}")
    return "\n".join(lines)


def _statuses(statuses: dict[str, int]) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(statuses.items()))


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    finally:
        H.stop_all_servers()
