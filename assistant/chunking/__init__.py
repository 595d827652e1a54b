"""Clause parser (numbered headings -> Clause records with hierarchy) and passage splitter.

Pipeline of `parse_clauses`:

1. Lines. Page texts are split into lines; for PDFs the running headers/footers and page
   numbers are removed first (lines repeated in the top/bottom zone of many pages, compared with
   digits normalised). Markdown `#` headings are marked as explicit headings.
2. Table of contents. A "目次"/"目录"/"Contents" block and any line with dot leaders and a
   page number are set aside, so the real headings later in the document are the ones used.
3. Headings. Markdown documents with `#` headings use those. Otherwise the numbering *family*
   is detected first (dotted `4.2.1`; statute `第X章`/`第X节`/`第X条`; Chinese lists
   `一、`/`（一）`/`1)`/`(a)`; plain lists `1)`/`(a)`) and only that family's patterns are used,
   so list items inside a dotted document's clauses stay body text. Candidate heading lines must
   look like headings (short title, no sentence punctuation, not a wrapped sentence) and the
   accepted numbers must progress plausibly: the longest plausible numbering chain is chosen by
   dynamic programming, so a wrapped line starting "2.1 ..." in chapter 7 or a cross-reference
   is rejected.
4. Clauses. Each heading with a body becomes a Clause; headings without a body only appear in
   their children's paths. Text before the first heading and documents without numbering become
   paragraph clauses "¶1", "¶2", ...

`split_passages` cuts long clauses at sentence boundaries into Passages that cite the clause.

Modules: `text` (character classes, small text helpers), `lines` (pages -> lines, running
headers, re-joining wraps), `headings` (candidates and numbering chains), `toc` (contents
detection), `clauses` (`parse_clauses`), `passages` (`split_passages`).
"""

from __future__ import annotations

from .clauses import parse_clauses
from .passages import split_passages

__all__ = ["parse_clauses", "split_passages"]
