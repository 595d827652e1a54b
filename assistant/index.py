"""The index artifact: build it in a scratch folder, verify it, switch to it atomically.

Layout of ``index_dir``::

    CURRENT                 name of the live version folder (replaced atomically)
    v-<stamp>-<hash>/       one complete, verified version
        manifest.json       format, embedder, corpus fingerprint, counts, file checksums
        documents.json  clauses.json  passages.json
        vectors.faiss       passage vectors (FAISS inner-product index over normalised float32)
        sentences.json  sentence_vectors.npy   per-sentence vectors for highlighting
        bm25/               bm25s files
    .build-*/               a build in progress (ignored; removed by the next build)

A crash at any point leaves CURRENT pointing at the previous complete version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.chunking import parse_clauses, split_passages
from assistant.config import DEFAULT_PASSAGE_CHARS
from assistant.documents import Document, DocumentError, load_documents
from assistant.embedding import Embedder
from assistant.ingest import add_sections
from assistant.lexical import LexicalIndex
from assistant.records import Clause, Passage
from assistant.sentences import sentence_spans

FORMAT_VERSION = 1
# Bump when parsing, passage composition or BM25 terms change, so old artifacts count as stale.
PIPELINE_VERSION = "5"  # 4-5: section clauses synthesised at ingest (assistant/ingest.py)
CURRENT_POINTER = "CURRENT"


class IndexError_(RuntimeError):
    """Base for index problems (named to avoid shadowing the builtin IndexError)."""


class IndexMissing(IndexError_):
    pass


class IndexCorrupt(IndexError_):
    pass


class IndexStale(IndexError_):
    pass


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


@dataclass
class LoadedIndex:
    root: Path
    manifest: Manifest
    documents: list[dict]
    clauses: list[Clause]
    passages: list[Passage]
    vectors: "faiss.Index"  # noqa: F821 - faiss is imported lazily
    lexical: LexicalIndex
    sentences: list[Sentence]
    sentence_vectors: np.ndarray | None
    clause_by_id: dict[str, Clause] = field(default_factory=dict)
    passage_rows_by_clause: dict[str, list[int]] = field(default_factory=dict)
    sentence_rows_by_clause: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.clause_by_id = {clause.id: clause for clause in self.clauses}
        for row, passage in enumerate(self.passages):
            self.passage_rows_by_clause.setdefault(passage.clause_id, []).append(row)
        for row, sentence in enumerate(self.sentences):
            self.sentence_rows_by_clause.setdefault(sentence.clause_id, []).append(row)

    @property
    def version(self) -> str:
        return self.manifest.version


def corpus_fingerprint(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(_file_sha256(path).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def index_text(document_title: str, clause: Clause, passage: Passage) -> str:
    """What BM25 sees: the passage with its document and clause path as context."""
    heading = " > ".join(clause.path) if clause.path else clause.title
    return f"{document_title}\n{heading}\n{passage.text}".strip()


def dense_text(clause: Clause, passage: Passage) -> str:
    """What the dense model sees: the passage under the clause's own title only.

    Document titles and ancestor headings are shared by many clauses; in the vector they pull
    every clause towards the same point (ObliQA, dense alone: R@10 0.697 with them, 0.717
    without). Words in them still count through BM25.
    """
    return f"{clause.title}\n{passage.text}".strip()


@dataclass
class PreparedCorpus:
    """Clauses and passages ready to index, with what describes where they came from."""

    documents: list[dict]
    clauses: list[Clause]
    passages: list[Passage]
    fingerprint: str
    errors: list[DocumentError] = field(default_factory=list)


def passages_for(clauses: list[Clause], titles: dict[str, str], passage_chars: int) -> list[Passage]:
    passages: list[Passage] = []
    for clause in clauses:
        for passage in split_passages(clause, max_chars=passage_chars):
            passage.index_text = index_text(titles.get(clause.document, ""), clause, passage)
            passage.dense_text = dense_text(clause, passage)
            passages.append(passage)
    return passages


def prepare_files(paths: list[Path], passage_chars: int, max_bytes: int | None = None) -> PreparedCorpus:
    documents, errors = load_documents(paths, max_bytes=max_bytes)
    clauses = add_sections([clause for document in documents for clause in parse_clauses(document)])
    titles = {d.id: d.title for d in documents}
    return PreparedCorpus(
        documents=[_document_summary(d) for d in documents],
        clauses=clauses,
        passages=passages_for(clauses, titles, passage_chars),
        fingerprint=corpus_fingerprint(paths),
        errors=errors,
    )


ProgressFactory = Callable[[str, int], Callable[[int], None]]


def build_index(
    index_dir: Path,
    corpus: PreparedCorpus,
    embedder: Embedder,
    options: BuildOptions,
    *,
    progress: ProgressFactory | None = None,
) -> LoadedIndex:
    """Build a new version next to the live one and switch to it once it verifies."""
    errors, clauses, passages, fingerprint = corpus.errors, corpus.clauses, corpus.passages, corpus.fingerprint
    if not corpus.documents:
        raise IndexError_("no readable documents to index" + "".join(f"\n  {e}" for e in errors))
    if not passages:
        raise IndexError_("the documents contain no text to index")

    index_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(index_dir)
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=index_dir))
    os.chmod(scratch, 0o755)  # mkdtemp makes it private; replicas may read it as another user
    try:
        tick = progress("embedding passages", len(passages)) if progress else None
        vectors = embedder.embed_passages([p.dense_text or p.index_text for p in passages], progress=tick)
        sentences: list[Sentence] = []
        sentence_vectors = None
        if options.sentence_vectors:
            texts = []
            for clause in clauses:
                for start, end in sentence_spans(clause.text):
                    sentences.append(Sentence(clause.id, start, end))
                    texts.append(clause.text[start:end])
            tick = progress("embedding sentences", len(sentences)) if progress else None
            sentence_vectors = embedder.embed_passages(texts, progress=tick)
        lexical = LexicalIndex.build([p.index_text for p in passages])

        _write_json(scratch / "documents.json", corpus.documents)
        _write_json(scratch / "clauses.json", [asdict(c) for c in clauses])
        _write_json(scratch / "passages.json", [asdict(p) for p in passages])
        _write_json(scratch / "sentences.json", [[s.clause_id, s.start, s.end] for s in sentences])
        _write_faiss(scratch / "vectors.faiss", vectors)
        if sentence_vectors is not None:
            np.save(scratch / "sentence_vectors.npy", sentence_vectors)
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


def _document_summary(document: Document) -> dict:
    return {
        "id": document.id,
        "title": document.title,
        "source": Path(document.source).name,
        "format": document.format,
        "lang": document.lang,
        "pages": len(document.pages) if document.has_pages else None,
    }


def load_index(index_dir: Path) -> LoadedIndex:
    pointer = index_dir / CURRENT_POINTER
    if not pointer.exists():
        raise IndexMissing(f"no index in {index_dir} (run `assistant ingest`)")
    version = pointer.read_text(encoding="utf-8").strip()
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
        vectors = _read_faiss(root / "vectors.faiss")
        sentence_path = root / "sentence_vectors.npy"
        sentence_vectors = np.load(sentence_path) if sentence_path.exists() else None
        lexical = LexicalIndex.load(root / "bm25")
        documents = _read_json(root / "documents.json")
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorrupt(f"cannot read index in {root}: {exc}") from exc
    if (vectors.ntotal, vectors.d) != (len(passages), manifest.dimension):
        raise IndexCorrupt(f"vectors in {root} do not match the passages ({vectors.ntotal} vs {len(passages)})")
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
    for scratch in index_dir.glob(".build-*"):
        shutil.rmtree(scratch, ignore_errors=True)


def _checksums(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): _file_sha256(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def _write_faiss(path: Path, vectors: np.ndarray) -> None:
    import faiss

    index = faiss.IndexFlatIP(int(vectors.shape[1]))
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(path))


def _read_faiss(path: Path):
    import faiss

    try:
        return faiss.read_index(str(path))
    except RuntimeError as exc:
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
