"""Clause parser (numbered headings -> Clause records with hierarchy) and passage splitter.

Pipeline of `parse_clauses`:

1. Lines. Page texts are split into lines; clause numbers at a line start are normalised
   (full-width digits, CNKI's spaced `5. 3. 1`, an OCR layer's `7,5`). For PDFs the running
   headers/footers are removed first: runs of lines at the top or bottom of a page (up to six
   lines high) that repeat on many pages with digits and Roman numerals normalised, and
   per-chapter `… PAGE n` lines. (`printed_page_labels` reads the page number the same lines
   carry; the PDF loader stores it as `Page.label`.) In PDFs, numbers an OCR layer damaged
   (`52 茶树品种`, `5 4`, `A,2`, `3 1`, 艹刖 for 前言) are repaired where exactly one reading is
   the next number of the document's own sequence. Markdown `#` headings are marked.
2. Table of contents. A "目次"/"目录"/"Contents" block and any line with dot leaders and a
   page number are set aside. Its entries are then located in the body in order (compared
   without spaces and punctuation): the contents list is the best evidence of which lines are
   headings. Unnumbered entries become headings too; a contents list whose second-level numbers
   are missing from the text layer (NIST SP 800-63B) gets them from the order.
3. Headings. Markdown documents with `#` headings use those. Otherwise the numbering *family*
   is detected first (dotted `4.2.1`, also `V1.1` and annex `A.1`; statute `第X章`/`第X节`/`第X条`;
   Chinese lists `一、`/`（一）`/`1)`/`(a)`; plain lists `1)`/`(a)`) and only that family's
   patterns are used. Candidates look like headings (short title, no sentence punctuation), or
   are untitled provisions / requirement rows (`4.2 地理位置在…。`, `3.1.1 Limit system access
   to …, and` wrapping on) that keep their own text. A candidate repeating a number the contents
   list placed elsewhere (a table row) is dropped, a run of same-level numbers on consecutive
   lines (a table's number column) gets little trust, and the longest plausible numbering chain
   is chosen by dynamic programming. Front/back matter words, annexes (`附录A` with its title
   under `（规范性附录）`), `第X章` chapters above `1.1` clauses, unnumbered front-matter
   headings of PDFs and sub-headings recurring above numbered clauses are added.
4. Clauses. Each heading with a body becomes a Clause; headings without a body only appear in
   their children's paths (an unnumbered heading right above another heads it). Text before
   the first heading and documents without numbering become paragraph clauses "¶1", "¶2", ...

`split_passages` cuts long clauses at sentence boundaries into Passages that cite the clause.

Modules: `text` (character classes, small text helpers), `lines` (pages -> lines, running
headers, re-joining wraps), `ocr` (OCR-damaged numbers), `headings` (candidates and numbering chains), `toc` (contents
detection), `clauses` (`parse_clauses`), `passages` (`split_passages`).
"""

from __future__ import annotations

from .clauses import parse_clauses
from .passages import split_passages

__all__ = ["parse_clauses", "split_passages"]
