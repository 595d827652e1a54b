"""Clause-parsing benchmark on real documents.

For every document in ``../shared/realdocs``, ``tests/data/parsing`` and ``tests/data/parsing/heldout`` (or ``--dir``) with a ``<stem>.truth.tsv`` beside it,
load it with the project's own loader and parser (``load_document`` + ``parse_clauses``) and score
the clauses as the realdocs README defines:

- recall: share of truth rows matched by a clause (same number, matching title, one clause per
  row, a clause on the truth page preferred) or by an ancestor entry of some clause's path;
- precision: share of numbered clauses (not ``¶n``) used by a truth row, or whose number the truth
  does not have and which extends a matched number by further levels;
- pages: among rows matched by a clause and having a page, the share whose ``page_start`` equals it.

It also dumps / compares clause lists (``--dump FILE`` / ``--compare FILE``) for any documents,
which is how the shipped sample corpus is checked to parse as before.

    python scripts/bench_parsing.py                 # the table
    python scripts/bench_parsing.py --doc NIST.SP.800-63b --misses
    python scripts/bench_parsing.py --json
    python scripts/bench_parsing.py --dump base.json corpus/*.pdf tests/data/docs/*
    python scripts/bench_parsing.py --compare base.json corpus/*.pdf tests/data/docs/*
"""

from __future__ import annotations

import argparse
import csv
import difflib
import hashlib
import json
import pickle
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assistant.chunking import parse_clauses  # noqa: E402
from assistant.documents import load_document  # noqa: E402
from assistant.records import Clause, Document  # noqa: E402

DEFAULT_DIRS = [REPO.parent / "shared" / "realdocs", REPO / "tests" / "data" / "parsing",
                REPO / "tests" / "data" / "parsing" / "heldout"]


# ------------------------------------------------------------------------------ normalisation


def norm_number(text: str) -> str:
    text = "".join(unicodedata.normalize("NFKC", text).split())
    return text.rstrip(".").lower()


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def norm_title(text: str) -> str:
    text = "".join(unicodedata.normalize("NFKC", text).split()).lower()
    start, end = 0, len(text)
    while start < end and _is_punct(text[start]):
        start += 1
    while end > start and _is_punct(text[end - 1]):
        end -= 1
    return text[start:end]


def titles_match(truth: str, clause: str) -> bool:
    t, c = norm_title(truth), norm_title(clause)
    if not t:
        return True
    if not c:
        return False
    if c in t and (len(c) >= 4 or c == t):
        return True
    if t in c:
        return True
    return difflib.SequenceMatcher(None, t, c, autojunk=False).ratio() >= 0.6


# ------------------------------------------------------------------------------ scoring


@dataclass
class Row:
    number: str
    title: str
    page: int | None


@dataclass
class Score:
    doc: str
    rows: int
    clauses: int  # numbered clauses (not ¶n)
    matched: int = 0
    by_path: int = 0
    correct_clauses: int = 0
    paged: int = 0
    page_right: int = 0
    seconds: float = 0.0
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    bad_pages: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.matched / self.rows if self.rows else 0.0

    @property
    def precision(self) -> float:
        return self.correct_clauses / self.clauses if self.clauses else 0.0

    @property
    def pages(self) -> float | None:
        return self.page_right / self.paged if self.paged else None

    def summary(self) -> dict:
        return {
            "doc": self.doc,
            "truth_rows": self.rows,
            "clauses": self.clauses,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "pages": None if self.pages is None else round(self.pages, 4),
            "matched_by_path": self.by_path,
            "seconds": round(self.seconds, 2),
        }


def read_truth(path: Path) -> list[Row]:
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            page = (rec.get("page") or "").strip()
            rows.append(Row(rec["number"], rec.get("title") or "", int(page) if page else None))
    return rows


def _path_entries(clause: Clause) -> list[tuple[str, str]]:
    """(number, title) readings of each ancestor entry of a clause's path."""
    out: list[tuple[str, str]] = []
    prefixes: list[str] = []
    for entry in clause.path[:-1] if clause.path else []:
        entry = entry.strip()
        readings = [(entry, entry)]
        if " " in entry:
            num, title = entry.split(" ", 1)
            readings.append((num, title))
            # a section numbered with its chapter: "第一节 产品研制" under "第三章 …"
            readings.extend((p + num, title) for p in prefixes)
            prefixes.append(num)
        out.extend(readings)
    return out


def score(doc_name: str, rows: list[Row], clauses: list[Clause]) -> Score:
    numbered = [c for c in clauses if not c.number.startswith("¶")]
    s = Score(doc_name, len(rows), len(numbered))
    by_number: dict[str, list[int]] = {}
    for k, c in enumerate(numbered):
        by_number.setdefault(norm_number(c.number), []).append(k)
    path_index: dict[str, list[str]] = {}
    for c in clauses:
        for num, title in _path_entries(c):
            path_index.setdefault(norm_number(num), []).append(title)
    used: set[int] = set()
    matched_numbers: set[str] = set()
    for row in rows:
        key = norm_number(row.number)
        options = [k for k in by_number.get(key, []) if k not in used and titles_match(row.title, numbered[k].title)]
        if options:
            on_page = [k for k in options if numbered[k].page_start == row.page]
            k = on_page[0] if on_page else options[0]
            used.add(k)
            s.matched += 1
            matched_numbers.add(key)
            if row.page is not None:
                s.paged += 1
                if numbered[k].page_start == row.page:
                    s.page_right += 1
                else:
                    s.bad_pages.append(f"{row.number} {row.title[:50]!r} truth p{row.page} got p{numbered[k].page_start}")
            continue
        if any(titles_match(row.title, t) for t in path_index.get(key, [])):
            s.matched += 1
            s.by_path += 1
            matched_numbers.add(key)
            continue
        s.misses.append(f"{row.number}\t{row.title[:60]}\tp{row.page}")
    truth_numbers = {norm_number(r.number) for r in rows}
    for k, c in enumerate(numbered):
        key = norm_number(c.number)
        if k in used:
            s.correct_clauses += 1
        elif key not in truth_numbers and any(key.startswith(m + ".") for m in matched_numbers):
            s.correct_clauses += 1
        else:
            s.wrong.append(f"{c.number}\t{c.title[:60]}\tp{c.page_start}")
    return s


# ------------------------------------------------------------------------------ loading


def _code_hash() -> str:
    # a cached Document is only reused while the loader code is unchanged
    code = b"".join((REPO / "assistant" / f).read_bytes() for f in ("documents.py", "chunking/lines.py"))
    return hashlib.sha1(code).hexdigest()[:12]


def load(path: Path, cache_dir: Path | None) -> Document:
    if cache_dir is None:
        return load_document(path)
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:16]
    cached = cache_dir / f"{path.name}.{digest}.{_code_hash()}.pickle"
    if cached.exists():
        return pickle.loads(cached.read_bytes())
    doc = load_document(path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(pickle.dumps(doc))
    return doc


def documents_with_truth(root: Path, only: list[str]) -> list[tuple[Path, Path]]:
    pairs = []
    for truth in sorted(root.glob("*.truth.tsv")):
        stem = truth.name[: -len(".truth.tsv")]
        if only and stem not in only and not any(stem.startswith(o) for o in only):
            continue
        found = [p for p in root.iterdir() if p.stem == stem and not p.name.endswith(".tsv")]
        if found:
            pairs.append((found[0], truth))
    return pairs


# ------------------------------------------------------------------------------ dump / compare


def dump_clauses(paths: list[Path], cache_dir: Path | None) -> dict:
    out = {}
    for p in paths:
        doc = load(p, cache_dir)
        out[str(p)] = [
            {"id": c.id, "title": c.title, "page_start": c.page_start, "page_end": c.page_end, "path": c.path,
             "text_sha": hashlib.sha1(c.text.encode()).hexdigest()[:10]}
            for c in parse_clauses(doc)
        ]
    return out


def compare(before: dict, after: dict) -> int:
    changed = 0
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name, []), after.get(name, [])
        if a == b:
            print(f"same      {name} ({len(b)} clauses)")
            continue
        changed += 1
        print(f"CHANGED   {name} ({len(a)} -> {len(b)} clauses)")
        fmt = lambda c: f"{c['id']} | {c['title']} | p{c['page_start']}-{c['page_end']} | {' > '.join(c['path'])} | {c['text_sha']}"  # noqa: E731
        for line in difflib.unified_diff([fmt(c) for c in a], [fmt(c) for c in b], lineterm="", n=0):
            if not line.startswith(("---", "+++", "@@")):
                print("   ", line)
    return changed


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, action="append", help="folder of documents + *.truth.tsv (repeatable; "
                    "default ../shared/realdocs, tests/data/parsing, tests/data/parsing/heldout)")
    ap.add_argument("--doc", action="append", default=[], help="only this document stem (repeatable)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--misses", action="store_true", help="list unmatched rows, wrong clauses, wrong pages")
    ap.add_argument("--cache-dir", type=Path, default=None, help="cache loaded Documents here (pickles)")
    ap.add_argument("--dump", type=Path, help="write the clause list of FILES to this JSON file")
    ap.add_argument("--compare", type=Path, help="compare the clause list of FILES with this JSON dump")
    ap.add_argument("files", nargs="*", type=Path, help="documents for --dump / --compare")
    args = ap.parse_args(argv)

    if args.dump or args.compare:
        current = dump_clauses(args.files, args.cache_dir)
        if args.dump:
            args.dump.write_text(json.dumps(current, ensure_ascii=False, indent=1), encoding="utf-8")
            print(f"wrote {args.dump} ({sum(len(v) for v in current.values())} clauses)")
            return 0
        return 1 if compare(json.loads(args.compare.read_text(encoding="utf-8")), current) else 0

    results = []
    pairs = [pair for d in (args.dir or DEFAULT_DIRS) if d.is_dir() for pair in documents_with_truth(d, args.doc)]
    for doc_path, truth_path in pairs:
        t0 = time.perf_counter()
        doc = load(doc_path, args.cache_dir)
        clauses = parse_clauses(doc)
        s = score(doc_path.name, read_truth(truth_path), clauses)
        s.seconds = time.perf_counter() - t0
        results.append(s)
    if args.json:
        print(json.dumps([r.summary() for r in results], indent=1))
    else:
        print(f"{'document':36} {'rows':>5} {'clauses':>7} {'recall':>7} {'precis.':>7} {'pages':>6} {'s':>6}")
        for r in results:
            pages = "—" if r.pages is None else f"{r.pages:.3f}"
            print(f"{r.doc:36} {r.rows:5d} {r.clauses:7d} {r.recall:7.3f} {r.precision:7.3f} {pages:>6} {r.seconds:6.1f}")
    if args.misses:
        for r in results:
            print(f"\n== {r.doc}: {len(r.misses)} missed rows")
            print("\n".join(r.misses))
            print(f"-- {len(r.wrong)} wrong clauses")
            print("\n".join(r.wrong))
            print(f"-- {len(r.bad_pages)} wrong pages")
            print("\n".join(r.bad_pages))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
