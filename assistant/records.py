"""The records that flow between stages: documents, clauses, passages, citations, answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Page:
    number: int  # 1-based page number as printed by the reader; 1 for formats without pages
    text: str
    label: str | None = None  # printed page label ("6", "iii") from /PageLabels or the footer/header


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
    page_label_start: str | None = None  # printed page labels of page_start / page_end, if known
    page_label_end: str | None = None
    # Ids of the direct children of a section clause: a heading without a body of its own,
    # synthesised at ingest (assistant/sections.py). Empty for every clause the parser made.
    children: list[str] = field(default_factory=list)

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
    kind: str = "guidance"  # the document's kind: "guidance" or "background" (corpus/documents.toml)
    link: str = ""  # the viewer URL of the clause, with ?hl= for the quoted spans
    # The same clause number in the other edition(s): {"id", "lang", "link"}.
    also_in: list[dict] = field(default_factory=list)
    # A section's direct children: {"id", "clause", "title", "link"}; [] for other clauses.
    children: list[dict] = field(default_factory=list)
    page_label: str | None = None  # printed page label range, "6", "6–7", "iii"
    truncated: bool = False  # text was cut at a bound; the link gives the whole clause


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    reason: str | None
    citations: list[Citation] = field(default_factory=list)
    took_ms: float = 0.0
    index_version: str = ""
    # Stage -> milliseconds of this call (query embedding, retrieval stages, composition), for
    # benchmarks and logs; a cached answer reports only "answer_cache".
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Only when abstained: the closest clauses, {"id", "document", "clause", "title", "lang",
    # "link"}, offered as places to look, explicitly not as answers.
    suggestions: list[dict] = field(default_factory=list)
    contact: str | None = None  # ASSISTANT_REFUSAL_CONTACT, on refusals only
    # Only when abstained: the reason in the question's language, for a person (reasons.py).
    message: str | None = None
    # Fitted probability that the guidance covers the question (abstention.py; 1.0 for a
    # question naming a clause); uncertain: answered, but close to the threshold.
    confidence: float = 0.0
    uncertain: bool = False

    def to_dict(self) -> dict:
        return asdict(self)
