"""What changes past a million passages: exact vs approximate FAISS indexes on synthetic vectors.

    .venv/bin/python scripts/bench_faiss_scale.py --sizes 100000                          # ~2 min
    .venv/bin/python scripts/bench_faiss_scale.py --sizes 300000 --only numpy,flat,sq8    # ~4 min
    .venv/bin/python scripts/bench_faiss_scale.py --sizes 300000 --only ivf,ivfsq8,hnsw   # ~2 min
    .venv/bin/python scripts/bench_faiss_scale.py --sizes 1000000 --only numpy,flat --rounds 1   # ~6 min
    .venv/bin/python scripts/bench_faiss_scale.py --sizes 1000000 --only sq8,ivf,ivfsq8         # ~5.5 min
    .venv/bin/python scripts/bench_faiss_scale.py --sizes 1000000 --only hnsw                   # ~3.5 min
    .venv/bin/python scripts/bench_faiss_scale.py --sizes 100000,300000,1000000 --only rest     # seconds
    .venv/bin/python scripts/bench_faiss_scale.py --sizes 20000 --queries 50 --rounds 1   # quick check
    .venv/bin/python scripts/bench_faiss_scale.py --json --sizes 100000 > faiss-100k.json
    .venv/bin/python scripts/bench_faiss_scale.py --describe --real index/$(cat index/CURRENT)/vectors.faiss
    .venv/bin/python scripts/bench_faiss_scale.py --vectors /big/index/v-.../vectors.faiss   # real vectors

(Times from a busy 2-core machine; docs/scaling.md has the figures. The default, 100,000 and
300,000 in one run, takes about 8 minutes.)

Vectors. Normalised float32, dimension 384 (multilingual-e5-small's), drawn to resemble real e5
passage embeddings rather than uniform noise: a shared mean direction (e5 vectors of unrelated
passages still have a high mean cosine: docs/scaling.md) plus a hierarchical gaussian mixture (--levels: 50 topics,
1,000 clusters, 20,000 sub-clusters, each centred on a parent of the level above; log-normal leaf
weights, so sizes are uneven), every level and the within-leaf noise following one power-law
spectrum (eigenvalue i ~ i^-alpha) in a random rotation (no axis is special, which matters for
scalar and product quantisation). The defaults were fitted to 1,449 real e5-small-q4 passage
vectors: --describe prints, for a synthetic sample and for --real vectors, the mean pairwise
cosine, the nearest-neighbour cosines, the variance in the top principal components and the
recall of a 32-list IVF at nprobe 1/2/4 (how clustered the vectors are). Queries are further
draws from the same mixture. Recall on synthetic vectors is indicative only; --vectors runs the
same comparison on a real vectors.faiss.

Indexes (--only picks some; default all but ivfpq):

numpy     what the project does today: `matrix @ query` over the flat index's vectors and the
          top --candidates rows by argpartition (assistant/retrieval.py). Exact; threads set
          with threadpoolctl (OpenBLAS) when it is installed.
rest      the retriever's other per-query steps over arrays of N (language comparison of a
          string array, np.where over the BM25 scores, argpartition of the top C): they stay
          O(N) whichever index finds the dense candidates (printed under the table).
flat      faiss.IndexFlatIP.search: exact, the ground truth for recall.
sq8       faiss.IndexScalarQuantizer 8-bit: exhaustive over 1 byte per dimension.
ivf       IndexIVFFlat, nlist = the power of two nearest 4*sqrt(N), probed with each --nprobe.
ivfsq8    IndexIVFScalarQuantizer 8-bit on the same coarse centroids.
ivfpq     IndexIVFPQ (--pq-m sub-quantisers of 8 bits) on the same coarse centroids (slow to
          train, and poor recall without re-ranking: docs/scaling.md; not run by default).
hnsw      IndexHNSWFlat, M = --hnsw-m, efConstruction = --ef-construction, each --ef-search.

For each: build time (training + adding, with the most --threads), the serialised size
(faiss.serialize_index: the bytes a worker holds in memory for it), single-query latency
(batch size 1) over --queries queries at each --threads (faiss.omp_set_num_threads), p50 and
p95 per round with the median over --rounds rounds quoted, and recall@--k against the exact
top --k. With --candidates C (default 200, the retriever's candidate count) each index is also
timed at k=C with one thread and its recall@C reported: hybrid fusion takes C dense candidates,
not 10 (HNSW then searches with ef = max(efSearch, C)).

Bounded: every size stops starting new indexes once --budget-s seconds have passed since the
size started (the rest are listed as skipped), and k-means trains on at most --train-per-list
points per list. Progress goes to stderr; the table (or --json) to stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time

import numpy as np

try:
    import faiss
except ImportError:  # pragma: no cover
    sys.exit("faiss is not installed (pip install faiss-cpu)")

ALL_KINDS = ["numpy", "rest", "flat", "sq8", "ivf", "ivfsq8", "ivfpq", "hnsw"]
DEFAULT_KINDS = [kind for kind in ALL_KINDS if kind != "ivfpq"]
STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


# ============================================================================= synthetic vectors
class Mixture:
    """A fixed hierarchical gaussian mixture in d dimensions; sample() draws normalised float32 rows.

    Each level's centres sit around a parent centre of the level above (topics -> clusters ->
    sub-clusters), so the vectors have structure at every scale, as text collections do; a
    point is a leaf centre plus gaussian noise. Every level's offsets and the noise follow the
    same power-law spectrum (eigenvalue i ~ i^-alpha) in one random rotation, around a shared
    unit mean direction."""

    def __init__(self, d: int, levels: list[int], shares: list[float], noise: float, alpha: float,
                 residual: float, seed: int) -> None:
        if len(levels) != len(shares):
            raise ValueError("--levels and --shares need the same number of values")
        rng = np.random.default_rng(seed)
        spectrum = np.arange(1, d + 1, dtype=np.float64) ** -alpha
        spectrum *= residual / spectrum.sum()  # total variance around the shared mean
        self.d = d
        self.rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
        mean = rng.standard_normal(d)
        self.mean = mean / np.linalg.norm(mean)
        centres = np.zeros((1, d))
        for count, share in zip(levels, shares):
            parents = rng.integers(0, len(centres), count)
            centres = centres[parents] + rng.standard_normal((count, d)) * np.sqrt(share * spectrum)
        self.centres = centres
        self.spread = np.sqrt(noise * spectrum)
        weights = rng.lognormal(0.0, 1.0, len(centres))  # uneven leaf sizes
        self.weights = weights / weights.sum()

    def sample(self, n: int, seed: int, chunk: int = 100_000) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((n, self.d), dtype=np.float32)
        for start in range(0, n, chunk):
            size = min(chunk, n - start)
            labels = rng.choice(len(self.weights), size=size, p=self.weights)
            z = self.centres[labels] + rng.standard_normal((size, self.d)) * self.spread
            x = z @ self.rotation.T + self.mean
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            out[start:start + size] = x
        return out


def describe(x: np.ndarray) -> dict:
    """Statistics that tell embedding-like vectors from noise (computed on at most 2,000 rows)."""
    x = np.asarray(x[:2000], dtype=np.float64)
    gram = x @ x.T
    pairs = gram[np.triu_indices(len(x), 1)]
    np.fill_diagonal(gram, -np.inf)
    neighbours = -np.sort(-gram, axis=1)
    centred = x - x.mean(0)
    eig = np.sort(np.linalg.eigvalsh(centred.T @ centred / (len(x) - 1)))[::-1]
    share = np.cumsum(eig) / eig.sum()
    return {
        "rows": len(x),
        "mean_norm": float(np.linalg.norm(x.mean(0))),
        "pair_cos_mean": float(pairs.mean()),
        "pair_cos_sd": float(pairs.std()),
        "nn1_cos": float(neighbours[:, 0].mean()),
        "nn10_cos": float(neighbours[:, 9].mean()),
        "variance_top10": float(share[9]),
        "variance_top50": float(share[49]),
        "variance_top100": float(share[99]),
        "participation_ratio": float(eig.sum() ** 2 / (eig ** 2).sum()),
        "ivf32_recall_at_10_nprobe_1_2_4": small_ivf_recall(np.asarray(x, dtype=np.float32)),
    }


def small_ivf_recall(x: np.ndarray, held_out: int = 200) -> list[float]:
    """How well 32 k-means lists separate the vectors: recall@10 of IVFFlat(32) at nprobe 1, 2, 4
    for `held_out` random rows as queries against the rest (1.0 = perfectly clustered)."""
    rows = np.random.default_rng(0).permutation(len(x))
    queries, base = x[rows[:held_out]], x[rows[held_out:]]
    flat = faiss.IndexFlatIP(x.shape[1])
    flat.add(base)
    _, truth = flat.search(queries, 10)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(x.shape[1]), x.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    ivf.train(base)
    ivf.add(base)
    return [round(recall(ivf.search(queries, 10, params=faiss.SearchParametersIVF(nprobe=p))[1], truth), 3)
            for p in (1, 2, 4)]


def read_vectors(path: str) -> np.ndarray:
    if path.endswith(".npy"):
        return np.load(path)
    index = faiss.read_index(path)
    return index.reconstruct_n(0, index.ntotal)


# ================================================================================= measurement
class Threads:
    """Sets FAISS's OpenMP threads and, when threadpoolctl is there, numpy's BLAS threads."""

    def __init__(self) -> None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            threadpool_limits = None
        self._limits = threadpool_limits
        self._active = None

    @property
    def blas_controlled(self) -> bool:
        return self._limits is not None

    def set(self, count: int) -> None:
        faiss.omp_set_num_threads(count)
        if self._limits is not None:
            if self._active is not None:
                self._active.restore_original_limits()
            self._active = self._limits(limits=count, user_api="blas")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def time_queries(search, queries: np.ndarray, rounds: int, warmup: int = 10) -> dict:
    """search(one_query_row) per query; p50/p95 per round, median over rounds (milliseconds)."""
    for row in queries[:warmup]:
        search(row[None, :])
    p50s, p95s, means = [], [], []
    for _ in range(rounds):
        times = []
        for row in queries:
            q = row[None, :]
            start = time.perf_counter()
            search(q)
            times.append((time.perf_counter() - start) * 1000.0)
        p50s.append(percentile(times, 50))
        p95s.append(percentile(times, 95))
        means.append(float(np.mean(times)))
    return {"p50_ms": float(np.median(p50s)), "p95_ms": float(np.median(p95s)),
            "mean_ms": float(np.median(means)), "rounds_p50_ms": p50s}


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    hits = sum(len(set(f[f >= 0].tolist()) & set(t.tolist())) for f, t in zip(found, truth))
    return hits / (k * len(truth))


def serialized_bytes(index) -> int:
    return int(faiss.serialize_index(index).nbytes)


def nearest_power_of_two(x: float) -> int:
    return int(2 ** round(math.log2(x)))


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.threads = Threads()
        self.build_threads = max(args.threads)

    # ------------------------------------------------------------------------ one row
    def measure(self, n: int, name: str, params: dict, search, *, build: dict, nbytes: int,
                queries: np.ndarray, truth: np.ndarray, truth_c: np.ndarray | None,
                batch_search=None) -> dict:
        args = self.args
        row = {"n": n, "index": name, "params": params, **build, "bytes": nbytes,
               "mb": nbytes / 2**20, "bytes_per_vector": nbytes / n, "latency": {}}
        self.threads.set(self.build_threads)
        found = (batch_search or search)(queries, args.k)
        row[f"recall_at_{args.k}"] = recall(found, truth)
        for count in args.threads:
            self.threads.set(count)
            row["latency"][str(count)] = time_queries(lambda q: search(q, args.k), queries, args.rounds)
        if truth_c is not None:
            self.threads.set(1)
            c = truth_c.shape[1]
            found = (batch_search or search)(queries, c)
            row[f"recall_at_{c}"] = recall(found, truth_c)
            row[f"latency_k{c}_1thread"] = time_queries(lambda q: search(q, c), queries, 1)
        lat = row["latency"]
        log(f"  {name} {params}: recall@{args.k} {row[f'recall_at_{args.k}']:.3f}, "
            + ", ".join(f"{t} thr p50 {v['p50_ms']:.2f} ms p95 {v['p95_ms']:.2f} ms" for t, v in lat.items()))
        return row

    @staticmethod
    def _one_by_one(search, queries: np.ndarray, k: int) -> np.ndarray:
        return np.vstack([search(q[None, :], k) for q in queries])

    # ------------------------------------------------------------------------ one size
    def run_size(self, mixture: Mixture | np.ndarray, n: int) -> tuple[list[dict], list[str], dict]:
        args = self.args
        d = mixture.shape[1] if isinstance(mixture, np.ndarray) else mixture.d
        rows: list[dict] = []
        skipped: list[str] = []
        info: dict = {"n": n}
        deadline = time.perf_counter() + args.budget_s

        def over_budget(what: str) -> bool:
            if time.perf_counter() > deadline:
                skipped.append(what)
                log(f"  skipping {what}: the --budget-s of {args.budget_s:.0f} s for N={n} is spent")
                return True
            return False

        if "rest" in args.only and not over_budget("rest"):
            info["retriever_rest_ms"] = self.retriever_rest(n)
        if not set(args.only) - {"rest"}:
            info["seconds"] = time.perf_counter() - (deadline - args.budget_s)
            info["skipped"] = skipped
            return rows, skipped, info

        start = time.perf_counter()
        if isinstance(mixture, np.ndarray):  # --vectors: real rows, --queries random ones held out
            held_out = np.random.default_rng(args.seed).permutation(len(mixture))
            xq = mixture[np.sort(held_out[:args.queries])]
            xb = mixture[np.sort(held_out[args.queries:])]
        else:
            log(f"N={n}: sampling {n} + {args.queries} vectors, d={d}")
            xb = mixture.sample(n, seed=args.seed + 1)
            xq = mixture.sample(args.queries, seed=args.seed + 2)
        info["sample_s"] = time.perf_counter() - start

        self.threads.set(self.build_threads)
        start = time.perf_counter()
        flat = faiss.IndexFlatIP(d)
        flat.add(xb)
        flat_build = time.perf_counter() - start
        start = time.perf_counter()
        _, truth = flat.search(xq, args.k)
        truth_c = None
        if args.candidates:
            _, truth_c = flat.search(xq, args.candidates)
        info["ground_truth_s"] = time.perf_counter() - start
        log(f"  exact ground truth for {args.queries} queries in {info['ground_truth_s']:.1f} s")
        common = {"queries": xq, "truth": truth, "truth_c": truth_c}
        kinds = args.only

        if "numpy" in kinds and not over_budget("numpy"):
            matrix = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * d).reshape(flat.ntotal, d)
            candidates = max(args.candidates, args.k)

            def numpy_search(q, k):
                # The retriever's dense step: every score, then the top `candidates` unordered.
                scores = matrix @ q[0]
                rows_ = np.argpartition(-scores, candidates)[:candidates]
                top = rows_[np.argsort(-scores[rows_])[:k]]
                return top[None, :]

            rows.append(self.measure(
                n, "numpy matrix @ q (today)", {"candidates": candidates}, numpy_search,
                build={"build_s": flat_build, "train_s": 0.0, "add_s": flat_build},
                nbytes=n * d * 4, batch_search=lambda qs, k: self._one_by_one(numpy_search, qs, k), **common))

        if "flat" in kinds and not over_budget("flat"):
            rows.append(self.measure(
                n, "IndexFlatIP", {}, lambda q, k: flat.search(q, k)[1],
                build={"build_s": flat_build, "train_s": 0.0, "add_s": flat_build},
                nbytes=serialized_bytes(flat), **common))

        if "sq8" in kinds and not over_budget("sq8"):
            index = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
            build = self._train_add(index, xb, xb)
            rows.append(self.measure(n, "IndexScalarQuantizer", {"qtype": "8bit"},
                                     lambda q, k: index.search(q, k)[1], build=build,
                                     nbytes=serialized_bytes(index), **common))
            del index

        nlist = args.nlist or nearest_power_of_two(4 * math.sqrt(n))
        coarse = None
        train_rows = min(n, args.train_per_list * nlist)
        rng = np.random.default_rng(args.seed + 3)
        train = xb if train_rows >= n else xb[np.sort(rng.choice(n, train_rows, replace=False))]
        info.update({"nlist": nlist, "train_rows": int(train_rows)})
        if any(kind in kinds for kind in ("ivf", "ivfsq8", "ivfpq")) and not over_budget("ivf k-means"):
            log(f"  IVF: k-means {nlist} lists on {train_rows} vectors")
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
            index.cp.min_points_per_centroid = 1  # we sub-sample on purpose; no warning
            build = self._train_add(index, train, xb)
            info["kmeans_s"] = build["train_s"]
            coarse = index.quantizer
            if "ivf" in kinds:
                nbytes = serialized_bytes(index)
                for nprobe in args.nprobe:
                    def ivf_search(q, k, index=index, nprobe=nprobe):
                        return index.search(q, k, params=faiss.SearchParametersIVF(nprobe=nprobe))[1]
                    rows.append(self.measure(n, "IndexIVFFlat", {"nlist": nlist, "nprobe": nprobe}, ivf_search,
                                             build=build, nbytes=nbytes, **common))
            keep_alive = index  # the coarse quantizer belongs to it

            for kind, label in (("ivfsq8", "IndexIVFScalarQuantizer"), ("ivfpq", "IndexIVFPQ")):
                if kind not in kinds or over_budget(kind):
                    continue
                quantizer = faiss.clone_index(coarse)  # trained centroids: no second k-means
                if kind == "ivfsq8":
                    other = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                                          faiss.METRIC_INNER_PRODUCT)
                    params = {"nlist": nlist, "qtype": "8bit"}
                else:
                    other = faiss.IndexIVFPQ(quantizer, d, nlist, args.pq_m, 8, faiss.METRIC_INNER_PRODUCT)
                    params = {"nlist": nlist, "m": args.pq_m, "nbits": 8}
                build = self._train_add(other, train, xb)
                build["train_s"] += info["kmeans_s"]
                build["build_s"] += info["kmeans_s"]
                nbytes = serialized_bytes(other)
                for nprobe in args.nprobe:
                    def other_search(q, k, index=other, nprobe=nprobe):
                        return index.search(q, k, params=faiss.SearchParametersIVF(nprobe=nprobe))[1]
                    rows.append(self.measure(n, label, {**params, "nprobe": nprobe}, other_search,
                                             build=build, nbytes=nbytes, **common))
                del other, quantizer
            del keep_alive, index

        if "hnsw" in kinds and not over_budget("hnsw"):
            log(f"  HNSW: M={args.hnsw_m} efConstruction={args.ef_construction}, adding {n} vectors")
            index = faiss.IndexHNSWFlat(d, args.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = args.ef_construction
            build = self._train_add(index, None, xb)
            nbytes = serialized_bytes(index)
            for ef in args.ef_search:
                def hnsw_search(q, k, index=index, ef=ef):
                    return index.search(q, k, params=faiss.SearchParametersHNSW(efSearch=ef))[1]
                rows.append(self.measure(n, "IndexHNSWFlat",
                                         {"M": args.hnsw_m, "efConstruction": args.ef_construction, "efSearch": ef},
                                         hnsw_search, build=build, nbytes=nbytes, **common))
            del index

        info["seconds"] = time.perf_counter() - (deadline - args.budget_s)
        info["skipped"] = skipped
        log(f"N={n} done in {info['seconds']:.0f} s")
        return rows, skipped, info

    def retriever_rest(self, n: int) -> dict:
        """Per-query work in Retriever.search that is O(N) besides the matrix product, on arrays
        of N like the retriever's (1 thread, p50 over --queries calls, milliseconds)."""
        self.threads.set(1)
        rng = np.random.default_rng(self.args.seed + 4)
        langs = np.where(rng.random(n) < 0.5, "zh", "en")  # Retriever._passage_langs
        lexical_all = np.where(rng.random(n) < 0.05, rng.random(n), 0.0).astype(np.float32)  # sparse BM25
        candidates = max(self.args.candidates, self.args.k)
        steps = {
            "language == (str array)": lambda: langs == "en",
            "language == and np.where(.., bm25, 0)": lambda: np.where(langs == "en", lexical_all, 0.0),
            "argpartition top-C of N": lambda: np.argpartition(-lexical_all, candidates)[:candidates],
        }
        out = {}
        for name, step in steps.items():
            times = []
            for _ in range(self.args.queries):
                start = time.perf_counter()
                step()
                times.append((time.perf_counter() - start) * 1000.0)
            out[name] = percentile(times, 50)
        log("  rest of the retriever per query (p50 ms): " + ", ".join(f"{k} {v:.2f}" for k, v in out.items()))
        return out

    def _train_add(self, index, train, xb) -> dict:
        self.threads.set(self.build_threads)
        start = time.perf_counter()
        if train is not None and not index.is_trained:
            index.train(train)
        trained = time.perf_counter()
        index.add(xb)
        done = time.perf_counter()
        build = {"build_s": done - start, "train_s": trained - start, "add_s": done - trained,
                 "build_threads": self.build_threads}
        log(f"  {type(index).__name__}: trained in {build['train_s']:.1f} s, added in {build['add_s']:.1f} s")
        return build


# ==================================================================================== output
def params_text(params: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items()) or "-"


def print_table(report: dict) -> None:
    k = report["settings"]["k"]
    c = report["settings"]["candidates"]
    threads = [str(t) for t in report["settings"]["threads"]]
    head = ["N", "index", "params", "build s", "MB", f"recall@{k}"]
    for t in threads:
        head += [f"p50 ms ({t} thr)", f"p95 ms ({t} thr)"]
    if c:
        head += [f"recall@{c}", f"p50 ms k={c}"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in report["rows"]:
        cells = [f"{row['n']:,}", row["index"], params_text(row["params"]), f"{row['build_s']:.1f}",
                 f"{row['mb']:.0f}", f"{row[f'recall_at_{k}']:.3f}"]
        for t in threads:
            lat = row["latency"][t]
            cells += [f"{lat['p50_ms']:.2f}", f"{lat['p95_ms']:.2f}"]
        if c:
            cells += [f"{row[f'recall_at_{c}']:.3f}", f"{row[f'latency_k{c}_1thread']['p50_ms']:.2f}"]
        print("| " + " | ".join(cells) + " |")
    for info in report["sizes"]:
        if info.get("retriever_rest_ms"):
            print(f"\nN={info['n']:,}: the retriever's other O(N) steps, p50 ms per query at 1 thread: "
                  + "; ".join(f"{k} {v:.2f}" for k, v in info["retriever_rest_ms"].items()))
        if info["skipped"]:
            print(f"\nN={info['n']:,}: skipped (time budget): {', '.join(info['skipped'])}")
    m = report["machine"]
    print(f"\n{m['cpus']} CPUs ({m['cpu']}), load average {m['load_before']} before, {m['load_after']} after; "
          f"faiss {m['faiss']}, numpy {m['numpy']}; BLAS threads controlled: {m['blas_threads_controlled']}")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def int_list(text: str) -> list[int]:
    return [int(float(part)) for part in text.split(",") if part.strip()]


def float_list(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int_list, default=[100_000, 300_000], help="comma-separated N")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--levels", type=int_list, default=[50, 1000, 20000],
                        help="centres per level of the mixture (topics, clusters, sub-clusters)")
    parser.add_argument("--shares", type=float_list, default=[0.35, 0.2, 0.15],
                        help="share of the variance around the mean at each level")
    parser.add_argument("--noise", type=float, default=0.3, help="share of the variance within a leaf")
    parser.add_argument("--alpha", type=float, default=0.8, help="power-law exponent of the spectrum")
    parser.add_argument("--residual", type=float, default=0.136,
                        help="residual variance around the shared unit mean (sets the mean pairwise cosine)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds per setting (median over rounds)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--candidates", type=int, default=200, help="also time k=C at 1 thread; 0 skips")
    parser.add_argument("--threads", type=int_list, default=[1, 2])
    parser.add_argument("--only", default=",".join(DEFAULT_KINDS), help=f"subset of {','.join(ALL_KINDS)}")
    parser.add_argument("--nlist", type=int, default=0, help="IVF lists (default: power of two near 4*sqrt(N))")
    parser.add_argument("--nprobe", type=int_list, default=[8, 16, 32])
    parser.add_argument("--train-per-list", type=int, default=64, help="k-means sample: at most this many per list")
    parser.add_argument("--pq-m", type=int, default=48, help="IVFPQ sub-quantisers (384/48 = 8 dims each)")
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=40)
    parser.add_argument("--ef-search", type=int_list, default=[64, 128, 256])
    parser.add_argument("--budget-s", type=float, default=420.0,
                        help="per size: start no new index after this many seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--out", help="also write the JSON report to this file")
    parser.add_argument("--describe", action="store_true",
                        help="print statistics of a synthetic sample (and of --real) and exit")
    parser.add_argument("--real", help="vectors.faiss or .npy of real embeddings to compare with --describe")
    parser.add_argument("--vectors", help="benchmark these real vectors (vectors.faiss or .npy) instead of "
                        "synthetic ones: --queries random rows are held out as queries; --sizes is ignored")
    args = parser.parse_args(argv)
    args.only = [kind.strip() for kind in args.only.split(",") if kind.strip()]
    unknown = sorted(set(args.only) - set(ALL_KINDS))
    if unknown:
        parser.error(f"unknown index kinds: {', '.join(unknown)}")

    mixture = Mixture(args.dim, args.levels, args.shares, args.noise, args.alpha, args.residual, args.seed)
    if args.describe:
        real = read_vectors(args.real) if args.real else None
        sample = mixture.sample(len(real) if real is not None else 2000, seed=args.seed + 1)
        result = {"synthetic": describe(sample)}
        if real is not None:
            result["real"] = describe(real)
        print(json.dumps(result, indent=2))
        return 0

    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    bench = Bench(args)
    report = {"settings": {key: value for key, value in vars(args).items() if key not in ("describe", "real")},
              "rows": [], "sizes": []}
    if args.vectors:
        real = np.ascontiguousarray(read_vectors(args.vectors), dtype=np.float32)
        if len(real) <= args.queries:
            parser.error(f"{args.vectors} has {len(real)} vectors; need more than --queries")
        args.sizes = [len(real) - args.queries]
        args.dim = real.shape[1]
        report["settings"].update(sizes=args.sizes, dim=args.dim)
        mixture = real
    for n in args.sizes:
        rows, _, info = bench.run_size(mixture, n)
        report["rows"].extend(rows)
        report["sizes"].append(info)
    report["machine"] = {
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "load_before": [round(x, 2) for x in load_before] if load_before else None,
        "load_after": [round(x, 2) for x in os.getloadavg()] if load_before else None,
        "faiss": faiss.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "blas_threads_controlled": bench.threads.blas_controlled,
        "seconds": time.perf_counter() - STARTED,
    }
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
