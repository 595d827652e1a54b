"""Ingestion: documents -> clauses -> passages (and sentence spans), with per-document caps.

Pure and light (no models, no numpy, no FAISS) so that it can run in the build worker process
(assistant/build_worker.py) as well as in-process.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.chunking import parse_clauses, split_passages
from assistant.documents import Document, DocumentError, load_document, load_documents
from assistant.records import Clause, Passage
from assistant.sections import add_sections
from assistant.text import sentence_spans


class Cancelled(Exception):
    """The caller's cancel event was set: a build stopped where it was (assistant/jobs.py)."""


@dataclass(frozen=True)
class DocumentCaps:
    """Bounds on the work one document may cause; None: no bound. The settings that set them
    are named in the errors (ASSISTANT_MAX_DOCUMENT_*)."""

    text_chars: int | None = None
    paragraphs: int | None = None
    clauses: int | None = None
    sentences: int | None = None
    seconds: float | None = None  # enforced by the build worker, which can stop a parse
    memory_mb: int | None = None  # the build worker's address space while it reads (RLIMIT_AS)

    @classmethod
    def from_settings(cls, settings) -> "DocumentCaps":
        return cls(
            text_chars=settings.max_document_chars,
            paragraphs=settings.max_document_paragraphs,
            clauses=settings.max_document_clauses,
            sentences=settings.max_document_sentences,
            seconds=settings.max_document_seconds,
            memory_mb=settings.max_worker_memory_mb,
        )


def _over(path: str | Path, what: str, count: int, limit: int | None, setting: str) -> None:
    if limit is not None and count > limit:
        raise DocumentError(path, f"over the cap on {what}: {count:,} > {limit:,} ({setting}); not indexed")


@dataclass
class PreparedDocument:
    summary: dict
    clauses: list[Clause]
    passages: list[Passage]
    sentences: list[tuple[str, int, int]]  # clause id, start, end


@dataclass
class PreparedCorpus:
    """Clauses and passages ready to index, with what describes where they came from."""

    documents: list[dict]
    clauses: list[Clause]
    passages: list[Passage]
    fingerprint: str
    errors: list[DocumentError] = field(default_factory=list)
    # (clause id, start, end) per sentence when prepared ahead (the build worker does); None:
    # build_index splits the clauses itself.
    sentences: list[tuple[str, int, int]] | None = None


def index_text(document_title: str, clause: Clause, passage: Passage) -> str:
    """What BM25 sees: the passage with its document and clause path as context."""
    heading = " > ".join(clause.path) if clause.path else clause.title
    return f"{document_title}\n{heading}\n{passage.text}".strip()


def dense_text(clause: Clause, passage: Passage) -> str:
    """What the dense model sees: the passage under the clause's own title only.

    Document titles and ancestor headings are shared by many clauses; in the vector they pull
    every clause towards the same point (docs/benchmarks.md). Words in them still count through BM25.
    """
    return f"{clause.title}\n{passage.text}".strip()


def passages_for(clauses: list[Clause], titles: dict[str, str], passage_chars: int) -> list[Passage]:
    passages: list[Passage] = []
    for clause in clauses:
        for passage in split_passages(clause, max_chars=passage_chars):
            passage.index_text = index_text(titles.get(clause.document, ""), clause, passage)
            passage.dense_text = dense_text(clause, passage)
            passages.append(passage)
    return passages


def document_summary(document: Document) -> dict:
    return {
        "id": document.id,
        "title": document.title,
        "source": Path(document.source).name,
        "format": document.format,
        "lang": document.lang,
        "pages": len(document.pages) if document.has_pages else None,
    }


def _docx_paragraph_elements(path: Path) -> int:
    """Paragraph elements (``<w:p>``, empty ones too) in a DOCX body, counted on the streamed
    XML before it is parsed, because python-docx is slow and large on very many tiny
    paragraphs (docs/reliability.md, row 11) while this scan is cheap. 0 when it is not a readable DOCX: the loader
    then says why."""
    import zipfile

    count, tail = 0, b""
    try:
        with zipfile.ZipFile(path) as archive, archive.open("word/document.xml") as xml:
            while block := xml.read(1 << 20):
                chunk = tail + block
                count += chunk.count(b"<w:p>") + chunk.count(b"<w:p ")
                tail = chunk[-5:]  # a tag split across blocks is counted once, in the next chunk
                count -= tail.count(b"<w:p>") + tail.count(b"<w:p ")
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError, EOFError, zlib.error):
        return 0
    return count + tail.count(b"<w:p>") + tail.count(b"<w:p ")


def prepare_document(
    path: Path, passage_chars: int, max_bytes: int | None = None, caps: DocumentCaps = DocumentCaps()
) -> PreparedDocument:
    """One file to clauses, passages and sentence spans; DocumentError when unreadable or over a
    cap (checked after each step, so an oversized document stops as early as it can)."""
    if caps.paragraphs is not None and Path(path).suffix.lower() == ".docx":
        _over(path, "paragraphs", _docx_paragraph_elements(path), caps.paragraphs, "ASSISTANT_MAX_DOCUMENT_PARAGRAPHS")
    document = load_document(path, max_bytes=max_bytes)
    chars = sum(len(page.text) for page in document.pages)
    _over(path, "text size (characters after extraction)", chars, caps.text_chars, "ASSISTANT_MAX_DOCUMENT_CHARS")
    if caps.paragraphs is not None:
        paragraphs = sum(1 for page in document.pages for line in page.text.splitlines() if line.strip())
        _over(path, "paragraphs", paragraphs, caps.paragraphs, "ASSISTANT_MAX_DOCUMENT_PARAGRAPHS")
    clauses = add_sections(parse_clauses(document))
    _over(path, "clauses", len(clauses), caps.clauses, "ASSISTANT_MAX_DOCUMENT_CLAUSES")
    sentences: list[tuple[str, int, int]] = []
    for clause in clauses:
        for start, end in sentence_spans(clause.text):
            sentences.append((clause.id, start, end))
        _over(path, "sentences", len(sentences), caps.sentences, "ASSISTANT_MAX_DOCUMENT_SENTENCES")
    passages = passages_for(clauses, {document.id: document.title}, passage_chars)
    return PreparedDocument(document_summary(document), clauses, passages, sentences)


def assemble(prepared: Iterable[PreparedDocument], errors: list[DocumentError], fingerprint: str) -> PreparedCorpus:
    documents, clauses, passages, sentences = [], [], [], []
    for item in prepared:
        documents.append(item.summary)
        clauses.extend(item.clauses)
        passages.extend(item.passages)
        sentences.extend(item.sentences)
    return PreparedCorpus(documents, clauses, passages, fingerprint, errors, sentences)


def prepare_files(paths: list[Path], passage_chars: int, max_bytes: int | None = None) -> PreparedCorpus:
    """In this process, without caps: for benchmarks and tests that measure the pipeline itself.
    Builds of a corpus go through build_worker.prepare_corpus."""
    documents, errors = load_documents(paths, max_bytes=max_bytes)
    clauses = [clause for document in documents for clause in add_sections(parse_clauses(document))]
    titles = {d.id: d.title for d in documents}
    return PreparedCorpus(
        documents=[document_summary(d) for d in documents],
        clauses=clauses,
        passages=passages_for(clauses, titles, passage_chars),
        fingerprint=corpus_fingerprint(paths),
        errors=errors,
    )


def corpus_fingerprint(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(file_sha256(path).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
