"""The records that flow between stages: documents, clauses, passages, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Page:
    number: int  # 1-based page number as printed by the reader; 1 for formats without pages
    text: str


@dataclass
class Document:
    id: str  # stable id derived from the file name, e.g. "ccso-zh"
    title: str
    source: str  # path of the file it was read from
    format: str  # "pdf", "markdown", "text", "docx", "html"
    lang: str  # "zh" or "en" (dominant script)
    pages: list[Page]
    has_pages: bool = True  # False for formats with no real pagination (md, txt, html, docx)


@dataclass
class Clause:
    id: str  # "<document id>:<number>", e.g. "ccso-zh:4.5"
    document: str
    number: str  # "4.5", "第十二条", "一", "(a)"; "¶3" for unnumbered paragraphs
    title: str
    path: list[str]  # ancestors and self, each "number title", e.g. ["4 规划及发展方向", "4.5 企业高层领导支持"]
    text: str  # the clause body, verbatim (whitespace normalised), without the heading line
    page_start: int | None
    page_end: int | None
    lang: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Passage:
    """A retrieval unit: a whole clause or one piece of a long one; always cites its clause."""

    id: str  # clause id, plus "#n" for the n-th piece of a split clause
    clause_id: str
    text: str
    start: int  # character offset of this piece inside the clause text
    index_text: str = ""  # text given to BM25: document title and heading path prefixed
    dense_text: str = ""  # text given to the dense model: the clause's own title prefixed


@dataclass
class Citation:
    id: str
    document: str
    clause: str
    title: str
    path: list[str]
    page_start: int | None
    page_end: int | None
    lang: str
    text: str
    highlights: list[tuple[int, int]]  # [start, end) character spans inside text
    score: float


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    reason: str | None
    citations: list[Citation] = field(default_factory=list)
    took_ms: float = 0.0
    index_version: str = ""
    # Fitted probability that the guidance covers the question (abstention.py; 1.0 for a
    # question naming a clause); uncertain: answered, but close to the threshold.
    confidence: float = 0.0
    uncertain: bool = False

    def to_dict(self) -> dict:
        return asdict(self)
