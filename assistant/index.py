"""The index artifact: build it in a scratch folder, verify it, switch to it atomically.

Layout of ``index_dir``::

    CURRENT                 name of the live version folder (replaced atomically)
    v-<stamp>-<hash>/       one complete, verified version
        manifest.json       format, embedder, corpus fingerprint, counts, file checksums
        documents.json  clauses.json  passages.json
        vectors.faiss       passage vectors (FAISS inner-product index over normalised float32)
        sentences.json  sentence_vectors.npy   per-sentence vectors for highlighting
        bm25/               bm25s files
        scope_profile.json  the scope decision's pseudo near misses (when built with extra_files)
        homophones.json     the homophone repair's tables (homophones.py; when built with extra_files)
    .build-<pid>-*/         a build in progress (ignored by readers)
    .build.lock             held (flock) by whoever builds: one build at a time across processes

A crash at any point leaves CURRENT pointing at the previous complete version. Vectors are
written, read and scored through assistant/vector_store.py; callers above this module score
through ``LoadedIndex.passage_scores`` / ``sentence_scores``.

Every builder (``assistant ingest``, the server's start-up build, operator jobs) holds
``build_lock(index_dir)`` while it builds. A scratch folder is therefore removed only by the
build that made it, or by a later build once the lock is free again, which proves its owner is
gone (it died mid-build).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from assistant.config import DEFAULT_PASSAGE_CHARS
from assistant.embedding import Embedder
from assistant.ingest import (  # noqa: F401 - re-exported: ingestion moved to assistant/ingest.py
    Cancelled,
    PreparedCorpus,
    corpus_fingerprint,
    dense_text,
    file_sha256 as _file_sha256,
    index_text,
    passages_for,
    prepare_files,
)
from assistant.lexical import LexicalIndex
from assistant.records import Clause, Passage
from assistant.text import sentence_spans
from assistant.vector_store import FaissFlatStore, NumpyStore, VectorStore

FORMAT_VERSION = 1
# Bump when parsing, passage composition or BM25 terms change, so old artifacts count as stale.
# 4: real-document parsing; 5: section clauses (assistant/sections.py); 6: scope_profile.json;
# 7: scope_profile.json rows of SIGNALS_VERSION 3 (the specificity signals)
PIPELINE_VERSION = "7"
CURRENT_POINTER = "CURRENT"
BUILD_LOCK = ".build.lock"


class IndexError_(RuntimeError):
    """Base for index problems (named to avoid shadowing the builtin IndexError)."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexStale(IndexError_):
    pass


class BuildBusy(IndexError_):
    """Another build holds the build lock and did not finish within the wait allowed."""


# The lock is re-entrant per thread: a job holds it across its corpus change and the build it
# starts, and the build takes it again. flock conflicts between two open() calls even within one
# process, so other threads of this process wait like other processes do.
_held: dict[str, tuple[int, int]] = {}  # real index path -> (owning thread, depth)
_held_guard = threading.Lock()


@contextmanager
def build_lock(
    index_dir: Path, *, on_wait: Callable[[str], None] | None = None, timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[None]:
    """Hold the index folder's build lock: one builder at a time, across threads and processes.

    When another builder holds it, ``on_wait`` is called once with a message saying who, and the
    caller waits (at most ``timeout`` seconds, then BuildBusy; None waits for as long as it
    takes; setting ``cancel`` stops the wait with Cancelled).
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    key = os.path.realpath(index_dir)
    me = threading.get_ident()
    with _held_guard:
        owner, depth = _held.get(key, (None, 0))
        if owner == me:
            _held[key] = (me, depth + 1)
    if owner == me:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] = (me, _held[key][1] - 1)
        return
    handle = open(index_dir / BUILD_LOCK, "a+b")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(f"another build is running on {index_dir} ({_lock_holder(index_dir)}); "
                        "waiting for it to finish")
            _wait_for_lock(handle, timeout, index_dir, cancel)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {_now_utc()}\n".encode())
        handle.flush()
        with _held_guard:
            _held[key] = (me, 1)
        try:
            yield
        finally:
            with _held_guard:
                _held.pop(key, None)
    finally:
        handle.close()  # releases the flock


def _wait_for_lock(handle, timeout: float | None, index_dir: Path, cancel: threading.Event | None) -> None:
    if timeout is None and cancel is None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        return
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if cancel is not None and cancel.is_set():
                raise Cancelled() from None
            if deadline is not None and time.monotonic() >= deadline:
                raise BuildBusy(f"another build on {index_dir} ({_lock_holder(index_dir)}) "
                                f"did not finish within {timeout:g} s") from None
            time.sleep(0.05)


def _lock_holder(index_dir: Path) -> str:
    try:
        return (index_dir / BUILD_LOCK).read_text(encoding="utf-8", errors="replace").strip() or "unknown holder"
    except OSError:
        return "unknown holder"


def holds_build_lock(index_dir: Path) -> bool:
    """Whether this thread holds the build lock of ``index_dir``."""
    with _held_guard:
        return _held.get(os.path.realpath(index_dir), (None, 0))[0] == threading.get_ident()


def _now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class BuildOptions:
    embedder_id: str
    passage_chars: int = DEFAULT_PASSAGE_CHARS
    sentence_vectors: bool = True

    def key(self) -> dict:
        return {
            "embedder": self.embedder_id,
            "passage_chars": self.passage_chars,
            "sentence_vectors": self.sentence_vectors,
            "pipeline": PIPELINE_VERSION,
        }


@dataclass
class Manifest:
    format_version: int
    version: str
    built_at: str
    embedder: str
    dimension: int
    corpus_fingerprint: str
    options: dict
    counts: dict
    files: dict[str, str]  # relative path -> sha256
    load_errors: list[str] = field(default_factory=list)


@dataclass
class Sentence:
    clause_id: str
    start: int
    end: int


_T = TypeVar("_T")


@dataclass
class LoadedIndex:
    root: Path
    manifest: Manifest
    documents: list[dict]
    clauses: list[Clause]
    passages: list[Passage]
    passage_store: VectorStore  # one vector per passage, in passages order
    lexical: LexicalIndex
    sentences: list[Sentence]
    sentence_store: VectorStore | None  # one vector per sentence; None when built without them
    clause_by_id: dict[str, Clause] = field(default_factory=dict)
    passage_rows_by_clause: dict[str, list[int]] = field(default_factory=dict)
    sentence_rows_by_clause: dict[str, list[int]] = field(default_factory=dict)
    # What the layers above work out from this index once (derived()); it goes with the index.
    _derived: dict[str, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.clause_by_id = {clause.id: clause for clause in self.clauses}
        for row, passage in enumerate(self.passages):
            self.passage_rows_by_clause.setdefault(passage.clause_id, []).append(row)
        for row, sentence in enumerate(self.sentences):
            self.sentence_rows_by_clause.setdefault(sentence.clause_id, []).append(row)

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def has_sentence_vectors(self) -> bool:
        return self.sentence_store is not None and len(self.sentence_store) > 0

    def passage_scores(self, query_vector: np.ndarray, rows=None) -> np.ndarray:
        """Cosine of the question to every passage (``rows`` None, in passages order) or to the
        given passage rows, in the order given."""
        if rows is None:
            return self.passage_store.score_all(query_vector)
        return self.passage_store.score_rows(query_vector, rows)

    def sentence_scores(self, query_vector: np.ndarray, rows=None) -> np.ndarray | None:
        """Cosine of the question to every sentence or to the given sentence rows; None when the
        index has no sentence vectors."""
        if not self.has_sentence_vectors:
            return None
        if rows is None:
            return self.sentence_store.score_all(query_vector)
        return self.sentence_store.score_rows(query_vector, rows)

    def passage_rows(self, clause_id: str) -> list[int]:
        """Rows (in passages) of the clause's passages, in text order; empty when none."""
        return self.passage_rows_by_clause.get(clause_id, [])

    def sentence_rows(self, clause_id: str) -> list[int]:
        """Rows (in sentences) of the clause's sentences, in text order; empty when none."""
        return self.sentence_rows_by_clause.get(clause_id, [])

    def derived(self, name: str, build: Callable[[], _T]) -> _T:
        """``build()``, worked out once per loaded index under ``name`` and dropped with the index
        (a reindex loads a new one). The model thread and the event loop may ask at once: both may
        build, one value is kept and both get it, so ``build`` must not depend on who asks."""
        try:
            return self._derived[name]  # type: ignore[return-value]
        except KeyError:
            return self._derived.setdefault(name, build())  # type: ignore[return-value]

    def term_idf(self) -> dict[str, float] | None:
        """The BM25 IDF of each term of the lexical index (LexicalIndex.idf), once per index."""
        return self.derived("term_idf", self.lexical.idf)


ProgressFactory = Callable[[str, int], Callable[[int], None]]
# Files derived from a verified index, written into its version folder: name -> JSON data.
ExtraFiles = Callable[[LoadedIndex], dict[str, object]]


def build_index(
    index_dir: Path,
    corpus: PreparedCorpus,
    embedder: Embedder,
    options: BuildOptions,
    *,
    progress: ProgressFactory | None = None,
    embed_batch: int = 32,
    extra_files: ExtraFiles | None = None,
) -> LoadedIndex:
    """Build a new version next to the live one and switch to it once it verifies (under the
    build lock; a caller that already holds it keeps it). ``embed_batch``: texts per model call;
    smaller batches let a serving process's questions at the model sooner. ``extra_files``: files
    derived from the built index, stored with it (retrieval.index_artifacts)."""
    if not corpus.documents:
        raise IndexError_("no readable documents to index" + "".join(f"\n  {e}" for e in corpus.errors))
    if not corpus.passages:
        raise IndexError_("the documents contain no text to index")

    with build_lock(index_dir):
        return _build_locked(index_dir, corpus, embedder, options, progress, embed_batch, extra_files)


def _build_locked(
    index_dir: Path, corpus: PreparedCorpus, embedder: Embedder, options: BuildOptions,
    progress: ProgressFactory | None, embed_batch: int, extra_files: ExtraFiles | None = None,
) -> LoadedIndex:
    errors, clauses, passages, fingerprint = corpus.errors, corpus.clauses, corpus.passages, corpus.fingerprint
    _remove_stale_builds(index_dir)  # we hold the lock, so their builders are gone
    scratch = Path(tempfile.mkdtemp(prefix=f".build-{os.getpid()}-", dir=index_dir))
    os.chmod(scratch, 0o755)  # mkdtemp makes it private; replicas may read it as another user
    try:
        tick = progress("embedding passages", len(passages)) if progress else None
        vectors = embedder.embed_passages([p.dense_text or p.index_text for p in passages],
                                          batch_size=embed_batch, progress=tick)
        sentences: list[Sentence] = []
        sentence_vectors = None
        if options.sentence_vectors:
            if corpus.sentences is not None:  # split ahead, in the build worker
                sentences = [Sentence(*row) for row in corpus.sentences]
            else:
                sentences = [Sentence(clause.id, start, end)
                             for clause in clauses for start, end in sentence_spans(clause.text)]
            text_of = {clause.id: clause.text for clause in clauses}
            texts = [text_of[s.clause_id][s.start:s.end] for s in sentences]
            tick = progress("embedding sentences", len(sentences)) if progress else None
            sentence_vectors = embedder.embed_passages(texts, batch_size=embed_batch, progress=tick)
        lexical = LexicalIndex.build([p.index_text for p in passages])

        _write_json(scratch / "documents.json", corpus.documents)
        _write_json(scratch / "clauses.json", [asdict(c) for c in clauses])
        _write_json(scratch / "passages.json", [asdict(p) for p in passages])
        _write_json(scratch / "sentences.json", [[s.clause_id, s.start, s.end] for s in sentences])
        FaissFlatStore.write(scratch / "vectors.faiss", vectors)
        if sentence_vectors is not None:
            NumpyStore.write(scratch / "sentence_vectors.npy", sentence_vectors)
        lexical.save(scratch / "bm25")

        # Sortable by build time, unique even for two builds in the same second.
        version = time.strftime("v-%Y%m%d-%H%M%S-", time.gmtime()) + f"{time.time_ns() % 10**9:09d}-{fingerprint[:8]}"
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            version=version,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            embedder=embedder.id,
            dimension=int(vectors.shape[1]),
            corpus_fingerprint=fingerprint or "",
            options=options.key(),
            counts={"documents": len(corpus.documents), "clauses": len(clauses), "passages": len(passages),
                    "sentences": len(sentences)},
            files=_checksums(scratch),
            load_errors=[str(e) for e in errors],
        )
        _write_json(scratch / "manifest.json", asdict(manifest))
        _fsync_tree(scratch)
        loaded = load_version(scratch)  # verify before anyone is pointed at it
        if extra_files is not None:
            _add_files(scratch, loaded, extra_files)
        final = index_dir / version
        os.replace(scratch, final)
        switched = False
        try:
            _point_current(index_dir, version)
            switched = True
        finally:
            if not switched:  # never leave a version behind that CURRENT does not name
                shutil.rmtree(final, ignore_errors=True)
        _remove_old_versions(index_dir, keep={version})
        loaded.root = final
        return loaded
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _add_files(scratch: Path, loaded: LoadedIndex, extra_files: ExtraFiles) -> None:
    """Store files derived from the loaded index (the scope profile, retrieval.index_artifacts).

    They need the loaded index, so they are written after the first verification and added to
    the manifest's checksums. Without them the index still works: readers compute them at load.
    """
    try:
        files = extra_files(loaded)
    except Exception:  # noqa: BLE001 - the index is complete without them
        import logging

        logging.getLogger(__name__).exception("derived index files not stored; readers compute them at load")
        return
    for name, data in files.items():
        _write_json(scratch / name, data)
    loaded.manifest.files = _checksums(scratch)
    _write_json(scratch / "manifest.json", asdict(loaded.manifest))
    _fsync_tree(scratch)


def load_index(index_dir: Path) -> LoadedIndex:
    pointer = index_dir / CURRENT_POINTER
    if not pointer.exists():
        raise IndexMissing(f"no index in {index_dir} (run `assistant ingest`)")
    try:
        version = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:  # a directory, unreadable, binary junk
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise IndexCorrupt(f"{pointer} is not a readable pointer file ({reason}); rebuild the index") from None
    root = index_dir / version
    if not version or "/" in version or not root.is_dir():
        raise IndexCorrupt(f"{pointer} names {version!r}, which is not an index version in {index_dir}")
    return load_version(root)


def load_version(root: Path) -> LoadedIndex:
    try:
        manifest = Manifest(**json.loads((root / "manifest.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorrupt(f"unreadable manifest in {root}: {exc}") from exc
    if manifest.format_version != FORMAT_VERSION:
        raise IndexStale(f"index format {manifest.format_version} in {root}; this version reads {FORMAT_VERSION}")
    for name, expected in manifest.files.items():
        path = root / name
        if not path.exists() or _file_sha256(path) != expected:
            raise IndexCorrupt(f"index file {path} is missing or damaged (checksum mismatch); rebuild the index")
    try:
        clauses = [Clause(**c) for c in _read_json(root / "clauses.json")]
        passages = [Passage(**p) for p in _read_json(root / "passages.json")]
        sentences = [Sentence(*s) for s in _read_json(root / "sentences.json")]
        vectors = _read_passage_store(root / "vectors.faiss")
        sentence_path = root / "sentence_vectors.npy"
        sentence_vectors = NumpyStore.read(sentence_path) if sentence_path.exists() else None
        lexical = LexicalIndex.load(root / "bm25")
        documents = _read_json(root / "documents.json")
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorrupt(f"cannot read index in {root}: {exc}") from exc
    if (len(vectors), vectors.dimension) != (len(passages), manifest.dimension):
        raise IndexCorrupt(f"vectors in {root} do not match the passages ({len(vectors)} vs {len(passages)})")
    return LoadedIndex(root, manifest, documents, clauses, passages, vectors, lexical, sentences, sentence_vectors)


def check_fresh(index: LoadedIndex, corpus_paths: list[Path], options: BuildOptions) -> str | None:
    """Why the index does not match the corpus and settings, or None when it does."""
    if index.manifest.options != options.key():
        changed = sorted(k for k in options.key() if index.manifest.options.get(k) != options.key()[k])
        return f"built with different settings ({', '.join(changed)})"
    if index.manifest.corpus_fingerprint != corpus_fingerprint(corpus_paths):
        return "the corpus has changed since it was built"
    return None


def _point_current(index_dir: Path, version: str) -> None:
    pointer = index_dir / CURRENT_POINTER
    if pointer.is_dir() and not pointer.is_symlink():
        # Damage (a rename cannot replace a directory): kept aside for a look, not deleted.
        os.replace(pointer, index_dir / f".{CURRENT_POINTER}.damaged-{time.time_ns()}")
    tmp = index_dir / f".{CURRENT_POINTER}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / CURRENT_POINTER)
    _fsync_dir(index_dir)


def _remove_old_versions(index_dir: Path, keep: set[str]) -> None:
    # Keep the newest previous version too: a server that loaded it may still be reading it.
    versions = sorted(p.name for p in index_dir.glob("v-*") if p.is_dir())
    survivors = set(keep)
    previous = [v for v in versions if v not in keep]
    if previous:
        survivors.add(previous[-1])
    for name in versions:
        if name not in survivors:
            shutil.rmtree(index_dir / name, ignore_errors=True)


def _remove_stale_builds(index_dir: Path) -> None:
    # caller holds build_lock: every scratch folder left belongs to a build that died
    for scratch in index_dir.glob(".build-*"):
        shutil.rmtree(scratch, ignore_errors=True)


def _checksums(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): _file_sha256(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def _read_passage_store(path: Path) -> VectorStore:
    try:
        return FaissFlatStore.read(path)
    except ValueError as exc:
        raise IndexCorrupt(f"cannot read vector index {path}: {exc}") from exc


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
