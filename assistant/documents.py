"""Document loaders: PDF, Markdown, plain text, DOCX and HTML into `Document` records.

Every failure is reported as a `DocumentError` carrying the path and a short reason; a loader
never lets a raw pypdf / zipfile / lxml exception escape. PDFs keep one `Page` per PDF page
(1-based, the page index a PDF viewer shows); the other formats have a single page 1 and
``has_pages=False``.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from .records import Document, Page
from .text import (
    CJK_CLASS,
    CJK_COMPATIBILITY_FORMS,
    CJK_PUNCTUATION,
    CJK_WIDE_CLASS,
    FULL_WIDTH,
    HAN_BASIC,
    detect_language,
    in_ranges,
    is_cjk,
)

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DocumentError",
    "discover",
    "document_id_for",
    "id_clash_reason",
    "load_document",
    "load_documents",
    "unreadable_reason",
]

SUPPORTED_SUFFIXES = {".pdf", ".md", ".markdown", ".txt", ".docx", ".html", ".htm"}

_FORMATS = {
    ".pdf": "pdf",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
}

_TITLE_MAX = 120


class DocumentError(Exception):
    """A file that cannot be turned into a Document; ``str(err) == f"{path}: {reason}"``."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


# --------------------------------------------------------------------------- ids, discovery


def document_id_for(path: str | Path) -> str:
    """Stable id from the file name: lower-case stem, runs of other than [a-z0-9-] -> "-"."""
    stem = Path(path).stem.lower()
    ident = re.sub(r"[^a-z0-9-]+", "-", stem)
    ident = re.sub(r"-{2,}", "-", ident).strip("-")
    if not ident:
        # e.g. a purely Chinese file name: keep it stable and distinct with a short hash
        import hashlib

        ident = "doc-" + hashlib.sha1(Path(path).stem.encode("utf-8")).hexdigest()[:8]
    return ident


def discover(corpus_dir: str | Path) -> list[Path]:
    """Supported files directly inside ``corpus_dir`` (not recursive), sorted by name.

    Hidden files and README* files are skipped.
    """
    root = Path(corpus_dir)
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        name = entry.name
        if name.startswith(".") or name.lower().startswith("readme"):
            continue
        if entry.suffix.lower() in SUPPORTED_SUFFIXES and entry.is_file():
            found.append(entry)
    return sorted(found, key=lambda p: p.name)


def load_documents(
    paths: Iterable[str | Path], *, max_bytes: int | None = None
) -> tuple[list[Document], list[DocumentError]]:
    """Load every path; a bad file is reported in the error list and does not stop the others.

    Two files with one document id (``base.md`` beside ``Base.txt``, a PDF beside its DOCX
    named alike) would give colliding clause ids: the first path keeps the id, each later one
    is refused with an error naming both files.
    """
    unique, errors = without_id_clashes(paths)
    docs: list[Document] = []
    for path in unique:
        try:
            docs.append(load_document(path, max_bytes=max_bytes))
        except DocumentError as err:
            errors.append(err)
        except Exception as err:  # pragma: no cover - load_document wraps everything already
            errors.append(DocumentError(path, f"cannot read: {_short(err)}"))
    return docs, errors


def without_id_clashes(paths: Iterable[str | Path]) -> tuple[list[Path], list[DocumentError]]:
    """The paths in order, less each one whose document id an earlier path already holds
    (reported as an error naming both files)."""
    unique: list[Path] = []
    errors: list[DocumentError] = []
    owners: dict[str, Path] = {}
    for path in paths:
        ident = document_id_for(path)
        owner = owners.get(ident)
        if owner is not None:
            errors.append(DocumentError(path, id_clash_reason(ident, owner)))
            continue
        owners[ident] = Path(path)
        unique.append(Path(path))
    return unique, errors


def id_clash_reason(ident: str, owner: str | Path) -> str:
    return (
        f"document id '{ident}' is already taken by {Path(owner).name}; "
        "rename one of the two files (the id comes from the file name)"
    )


# --------------------------------------------------------------------------- entry point


def load_document(path: str | Path, *, max_bytes: int | None = None) -> Document:
    """Read one file into a Document, or raise DocumentError with a short reason."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = p.suffix if p.suffix else "(none)"
        raise DocumentError(p, f"unsupported file type '{shown}'")
    try:
        if not p.exists():
            raise DocumentError(p, "file not found")
        if not p.is_file():
            raise DocumentError(p, "not a regular file")
        size = p.stat().st_size
    except OSError as err:
        raise DocumentError(p, f"cannot read: {_short(err)}") from None
    if size == 0:
        raise DocumentError(p, "empty file")
    if max_bytes is not None and size > max_bytes:
        raise DocumentError(p, f"file too large ({size} bytes, limit {max_bytes})")

    fmt = _FORMATS[suffix]
    meta_title: str | None = None
    if fmt == "pdf":
        pages, meta_title = _load_pdf(p)
        has_pages = True
    else:
        try:
            data = p.read_bytes()
        except OSError as err:
            raise DocumentError(p, f"cannot read: {_short(err)}") from None
        if fmt == "docx":
            text, meta_title = _load_docx(p, data)
        else:
            raw = _decode_text(p, data)
            if fmt == "markdown":
                text = _clean_markdown(raw)
            elif fmt == "html":
                text, meta_title = _html_to_text(raw)
            else:
                text = _clean_plain(raw)
        pages = [Page(number=1, text=text)]
        has_pages = False

    full = "\n".join(page.text for page in pages)
    if not full.strip():
        raise DocumentError(p, "no text")
    problem = unreadable_reason(full)
    if problem:
        # a layer of glyph names or run-together words would index as garbage clauses that
        # then answer unrelated questions: refuse it like a scanned PDF
        raise DocumentError(p, f"{problem}; run OCR first" if fmt == "pdf" else problem)

    doc_id = document_id_for(p)
    title = _clean_title(meta_title)
    if _placeholder_title(title):
        title = ""
    title = title or _cover_title(pages[0].text if fmt == "pdf" else full) or doc_id
    return Document(
        id=doc_id,
        title=title,
        source=str(path),
        format=fmt,
        lang=detect_language(full),
        pages=pages,
        has_pages=has_pages,
    )


# --------------------------------------------------------------------------- helpers


def _short(err: BaseException, limit: int = 100) -> str:
    msg = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = f"{type(err).__name__}: {msg}" if msg else type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean_title(title: object) -> str:
    if not isinstance(title, str):
        return ""
    title = " ".join(title.split())
    return title[:_TITLE_MAX].strip()


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return " ".join(line.split())[:_TITLE_MAX].strip()
    return ""


# Title metadata that names no document: editor defaults, file names, a cover's classification
# codes. Seen in real files: "标题", "书", "ICS 65.020.20", "Microsoft Word - 报告.doc".
_PLACEHOLDER_TITLE_RE = re.compile(
    r"^(?:untitled.*|title|document\d*|microsoft (?:word|powerpoint|excel) - .*|.*\.(?:docx?|pdf|rtf|odt|txt|wps)"
    r"|无标题.*|标题\s*\d*|文档\s*\d*|新建.*文档.*|[" + CJK_CLASS + r"]|(?:ICS|CCS)\b.*|[\d\s.\-_/]*)$",
    re.I,
)
# Cover lines that are not the title: classification codes, standard numbers, issuing lines
_COVER_NOISE_RE = re.compile(
    r"^(?:(?:ICS|CCS)\b.*|[A-Z]{1,4}(?:/[A-Z]{1,2})? ?\d{0,6}(?:\.\d{1,3})? ?[-—–] ?\d{4}\b.*"
    r"|[A-Z]{1,4}(?:/[A-Z]{1,2})? ?\d{0,3}|.{0,12}(?:国家|行业|地方|团体|企业)标准|.*(?:发布|实施)"
    r"|\d{4} ?[-年].*|[\d .\-–—/IVXivx]*|(?:page|第) ?\d+.*)$",
    re.I,
)


def _placeholder_title(title: str) -> bool:
    return bool(title) and bool(_PLACEHOLDER_TITLE_RE.match(title.strip()))


def _cover_title(text: str, scan: int = 15) -> str:
    """The first line of the cover (or first heading) that is not a code, number or date line."""
    seen = 0
    for line in text.splitlines():
        line = " ".join(line[:300].strip().lstrip("#").split())  # a title is short: bound the work
        if not line:
            continue
        seen += 1
        if seen > scan:
            break
        if _COVER_NOISE_RE.match(line) or not any(ch.isalpha() for ch in line):
            continue
        return line[:_TITLE_MAX].strip()
    return _first_line_title(text)


# --------------------------------------------------------------------------- readable text?

# "/G21/G22/G23": pypdf's output for glyphs whose font maps to no Unicode
_GLYPH_NAME_RE = re.compile(r"/(?:[A-Za-z]{1,3}[0-9A-Fa-f]{1,5}|uni[0-9A-Fa-f]{4,6}|glyph\d{1,5}|cid:?\d{1,5})")
_LATIN_RUN_RE = re.compile(r"[A-Za-z]+")
_SPACE_RE = re.compile(r"\s+")


def unreadable_reason(text: str) -> str | None:
    """Why an extracted text layer is not language, or None when it reads as text.

    Measured over the whole document so that one odd table does not refuse a good file:
    glyph names covering a third of the characters, unmapped characters (private use,
    replacement, unassigned) over 30 %, Latin text whose letters sit mostly in "words" over
    25 letters (a layer that lost its spaces: ``Verifythatinputisdecoded…``), or a text with
    almost no letters at all (under 15 % of the characters).
    """
    # re's \s is str.isspace's set, and a printable text has no character of category C: the
    # two whole-string calls spare a Python step per character on the usual document.
    chars = _SPACE_RE.sub("", text)
    total = len(chars)
    if total < 40:
        return None  # too little to judge; a short note is not refused
    glyphs = sum(len(m) for m in _GLYPH_NAME_RE.findall(text))
    if glyphs > 0.3 * total:
        return "the text layer is glyph names (/G21/G22…), not text: its fonts map to no characters"
    bad = _unmapped_count(chars)
    if bad > 0.3 * total:
        return "the text layer is mostly unmapped characters (fonts without a Unicode mapping)"
    letters = sum(1 for ch in chars if ch.isalpha())
    if total >= 200 and letters < 0.15 * total:  # low: tables of figures are still documents
        return "the text layer is not language (almost no letters)"
    cjk = sum(1 for ch in chars if is_cjk(ch))
    latin_runs = [len(m) for m in _LATIN_RUN_RE.findall(text)]
    latin = sum(latin_runs)
    if latin >= 200 and cjk < 0.2 * max(1, letters):
        long_runs = [n for n in latin_runs if n > 25]
        if len(long_runs) >= 5 and sum(long_runs) > 0.4 * latin:
            return "the text layer has lost the spaces between words (Verifythatinputisdecoded…)"
    return None


def _unmapped_count(chars: str) -> int:
    """Replacement, private-use, unassigned and control characters in ``chars``."""
    if chars.isprintable():
        return chars.count("\ufffd")
    return sum(1 for ch in chars if ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn", "Cc"))


def _normalise_lines(text: str) -> str:
    """Unify newlines, drop trailing spaces and control characters, keep line structure."""
    # A printable line has no character of category C, so only the others are gone through
    # character by character (most lines of most documents are printable).
    return collapse_blank_lines(
        line.rstrip() if line.isprintable() else "".join(
            ch for ch in line if ch == "\t" or not unicodedata.category(ch).startswith("C")
        ).rstrip()
        for line in unify_newlines(text).split("\n")
    )


def unify_newlines(text: str) -> str:
    """Every line break as "\\n" (CRLF, CR, form feed, Unicode line and paragraph separators), and
    no byte-order mark."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    return text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\ufeff", "")


def collapse_blank_lines(lines: Iterable[str]) -> str:
    """The lines joined, each run of blank ones as one empty line, none at either end."""
    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out and out[-1] == "":
                continue
            out.append("")
        else:
            out.append(line)
    return "\n".join(out).strip("\n")


# --------------------------------------------------------------------------- text decoding

_GB_TEXT_RANGES = (
    HAN_BASIC,
    CJK_PUNCTUATION,
    FULL_WIDTH,
    (0x2000, 0x206F),
    (0x00B7, 0x00B7),
    (0x2460, 0x24FF),
    (0x25A0, 0x25FF),
    (0x0391, 0x03C9),
)


def _looks_binary(data: bytes) -> bool:
    sample = data[:65536]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 0x20 and b not in (0x09, 0x0A, 0x0C, 0x0D, 0x1B)) + sample.count(0x7F)
    return control > max(2, len(sample) // 20)


def _guess_utf16(data: bytes) -> str | None:
    """BOM-less UTF-16: text with NUL bytes that decodes to common-script text one way round."""
    if len(data) < 2 or len(data) % 2 or b"\x00" not in data[:65536]:
        return None
    # ASCII characters put their NUL in the high byte; try the likelier byte order first
    sample = data[:65536]
    order = ["utf-16-le", "utf-16-be"] if sample[1::2].count(0) >= sample[0::2].count(0) else ["utf-16-be", "utf-16-le"]
    for codec in order:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _common_text(text):
            return text
    return None


_COMMON_CJK = (CJK_PUNCTUATION, HAN_BASIC, FULL_WIDTH)


def _common_text(text: str) -> bool:
    """Stricter check for guessed encodings: nearly all characters from common scripts."""
    if not text.strip():
        return False
    good = 0
    for ch in text:
        o = ord(ch)
        if (
            ch in "\n\r\t"
            or 0x20 <= o < 0x7F
            or 0xA0 <= o <= 0x24F
            or 0x2000 <= o <= 0x206F
            or in_ranges(ch, _COMMON_CJK)
        ):
            good += 1
    return good >= 0.95 * len(text)


def _plausible_text(text: str) -> bool:
    if not text.strip():
        return False
    bad = sum(
        1 for ch in text if unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs") and ch not in "\n\r\t\f"
    )
    return bad <= len(text) * 0.01


def _plausible_gb(text: str) -> bool:
    """GB18030 decodes many byte strings; accept only text whose non-ASCII part is common Chinese."""
    if not _plausible_text(text):
        return False
    non_ascii = [ch for ch in text if ord(ch) > 0x7F]
    if not non_ascii:
        return True
    good = 0
    for ch in non_ascii:
        o = ord(ch)
        if any(lo <= o <= hi for lo, hi in _GB_TEXT_RANGES):
            try:
                ch.encode("gb2312")
                good += 1
            except UnicodeEncodeError:
                pass
    return good >= 0.9 * len(non_ascii)


def _decode_text(path: Path, data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError(path, "cannot decode text (not UTF-8, UTF-16 or GBK)") from None
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                raise DocumentError(path, "cannot decode text (not UTF-8, UTF-16 or GBK)") from None
            if not _plausible_text(text):
                raise DocumentError(path, "binary content, not text")
            return text
    guessed = _guess_utf16(data)
    if guessed is not None:
        return guessed
    if _looks_binary(data):
        raise DocumentError(path, "binary content, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is not None and _plausible_gb(text):
        return text
    raise DocumentError(path, "cannot decode text (not UTF-8, UTF-16 or GBK)")


# --------------------------------------------------------------------------- plain text, markdown


def _clean_plain(raw: str) -> str:
    return _normalise_lines(raw)


# Every pattern below runs over untrusted text, so each is linear in it (issue 15): none lets
# `\s` cross a newline where the pattern is anchored per line, and every repeated class stops
# at the character that could start another match, so a failed attempt cannot rescan the
# same text from the next start. tests/documents/test_adversarial.py feeds each one 100 KB runs.
_MD_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*\n", re.S)
_MD_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]\([^()\n]*\)")
_MD_LINK = re.compile(r"\[([^\[\]\n]+)\]\((?:[^()\s]+|<[^<>\n]*>)(?:[ \t]+\"[^\"\n]*\")?\)")
_MD_REF_DEF = re.compile(r"^[ \t]{0,3}\[[^\[\]\n]+\]:[ \t]+\S.*$", re.M)
_MD_EMPH = re.compile(r"\*\*(?=[^\s*])([^*\n]*?[^\s*])\*\*|__(?=[^\s_])([^_\n]*?[^\s_])__")
_MD_CODE = re.compile(r"`([^`\n]+)`")
_MD_FENCE = re.compile(r"^[ \t]*(?:```|~~~).*$", re.M)
_MD_RULE = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)
# no two `[ \t]*` may be adjacent (around an optional `|`): they would split one run of spaces
# every possible way before failing (quadratic)
_MD_TABLE_SEP = re.compile(r"^[ \t]*(?:\|[ \t]*)?:?-{3,}:?(?:[ \t]*\|[ \t]*:?-{3,}:?)*[ \t]*(?:\|[ \t]*)?$", re.M)
_MD_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.M)
_MD_HARD_BREAK = re.compile(r"\\$", re.M)  # trailing double spaces go with the rstrip of every line


def _strip_comments(text: str) -> str:
    """Remove ``<!-- … -->``; an unclosed comment is left as text (one pass, str.find)."""
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("<!--", pos)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[pos:start])
        pos = end + 3
    out.append(text[pos:])
    return "".join(out)


def _strip_closing_hashes(line: str) -> str:
    """``## Title ##`` -> ``## Title`` (ATX closing sequence), without a backtracking regex."""
    if not line.startswith("#"):
        return line
    body = line.rstrip(" \t")
    trimmed = body.rstrip("#")
    if trimmed != body and trimmed[-1:] in (" ", "\t") and trimmed.lstrip("#")[:1] in (" ", "\t"):
        return trimmed.rstrip(" \t")
    return line


def _clean_markdown(raw: str) -> str:
    """Strip the markup that would end up in clause text; keep `#` heading marks and list markers."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _MD_FRONT_MATTER.sub("", text, count=1)
    text = _strip_comments(text)
    text = _MD_REF_DEF.sub("", text)
    text = _MD_FENCE.sub("", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPH.sub(lambda m: m.group(1) or m.group(2), text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_TABLE_SEP.sub("", text)
    text = _MD_RULE.sub("", text)
    text = _MD_QUOTE.sub("", text)
    text = _MD_HARD_BREAK.sub("", text)
    text = "\n".join(_strip_closing_hashes(line) for line in text.split("\n"))
    return _normalise_lines(text)


# --------------------------------------------------------------------------- HTML

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "html",
}  # fmt: skip
_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "title", "svg", "iframe"}
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_CJK_WRAP = re.compile(rf"(?<=[{CJK_WIDE_CLASS}])[ \t]*\n[ \t\n]*(?=[{CJK_WIDE_CLASS}])")
_SPACES = re.compile(r"\s+")


def _html_to_text(raw: str) -> tuple[str, str | None]:
    """Text of an HTML page: block elements on their own lines, script/style dropped.

    An event parser (html.parser) with a flat state instead of a tree: the cost is linear in
    the input however deep the nesting, where a parse tree was quadratic (docs/reliability.md,
    "Adversarial classes", row 16).
    """
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.skip = 0  # depth inside script/style/…
            self.pre = 0  # depth inside <pre>
            self.title: list[str] = []
            self.in_title = False

        def handle_starttag(self, tag: str, attrs) -> None:
            if tag == "body":
                self.skip = 0  # an unclosed <head> (or <title>) must not hide the page
            if tag == "title":
                self.in_title = True
            if tag in _SKIP_TAGS:
                if tag not in _VOID_TAGS:
                    self.skip += 1
                return
            if self.skip:
                return
            if tag == "br":
                self.parts.append("\n")
            elif tag in _BLOCK_TAGS:
                self.parts.append("\n")
                if tag == "pre":
                    self.pre += 1

        def handle_startendtag(self, tag: str, attrs) -> None:
            if tag == "br" and not self.skip:
                self.parts.append("\n")
            elif tag in _BLOCK_TAGS and not self.skip:
                self.parts.append("\n")

        def handle_endtag(self, tag: str) -> None:
            if tag == "title":
                self.in_title = False
            if tag in _SKIP_TAGS:
                self.skip = max(0, self.skip - 1)
                return
            if self.skip:
                return
            if tag in ("td", "th"):
                self.parts.append(" ")
            if tag in _BLOCK_TAGS:
                self.parts.append("\n")
                if tag == "pre":
                    self.pre = max(0, self.pre - 1)

        def handle_data(self, data: str) -> None:
            if self.in_title:
                self.title.append(data)
            if self.skip:
                return
            if not self.pre:
                # collapse source whitespace, removing wraps between CJK characters
                data = _SPACES.sub(" ", _CJK_WRAP.sub("", data))
            self.parts.append(data)

    parser = _Text()
    parser.feed(raw)
    parser.close()
    title = " ".join("".join(parser.title).split()) or None
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _normalise_lines("\n".join(line for line in lines if line)), title


# --------------------------------------------------------------------------- DOCX


_DOCX_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.I)


def _docx_style_levels(document) -> tuple[dict[str, int], str | None]:
    """Heading level of every paragraph style id (0 = body), and the default paragraph style.

    A level comes from the style name (``Heading N`` / ``标题 N``), its outline level, or the
    style it is based on. Worked out once per document from the styles part: looking styles up
    per paragraph through python-docx made large files many times slower (docs/benchmarks.md,
    section s8-misc).
    """
    from docx.oxml.ns import qn

    styles: dict[str, tuple[str, str | None, int]] = {}
    default = None
    root = document.styles.element
    for style in root.iterchildren(qn("w:style")):
        if style.get(qn("w:type")) != "paragraph":
            continue
        sid = style.get(qn("w:styleId")) or ""
        name_el = style.find(qn("w:name"))
        based = style.find(qn("w:basedOn"))
        styles[sid] = (
            (name_el.get(qn("w:val")) if name_el is not None else "") or "",
            based.get(qn("w:val")) if based is not None else None,
            _outline_level(style),
        )
        if style.get(qn("w:default")) in ("1", "true", "on"):
            default = sid
    levels: dict[str, int] = {}

    def level_of(sid: str, depth: int = 0) -> int:
        if sid in levels:
            return levels[sid]
        name, based, outline = styles.get(sid, ("", None, 0))
        m = _DOCX_HEADING_STYLE.match(name.strip())
        level = int(m.group(1)) if m else outline
        if not level and based and depth < 10:  # base-style chains are short; a cycle must not hang
            level = level_of(based, depth + 1)
        levels[sid] = level
        return level

    for sid in styles:
        level_of(sid)
    return levels, default


def _docx_paragraph_level(element, levels: dict[str, int], default: str | None) -> int:
    """Word heading level 1-9 of a <w:p>, 0 for body text: its style's level, else its own
    outline level (Chinese Word templates often set that instead of using heading styles)."""
    from docx.oxml.ns import qn

    ppr = element.find(qn("w:pPr"))
    style = ppr.find(qn("w:pStyle")) if ppr is not None else None
    sid = style.get(qn("w:val")) if style is not None else default
    return levels.get(sid or "", 0) or _outline_level(element)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# containers whose runs are part of the paragraph's current text (tracked insertions, content
# controls, simple fields, smart tags); w:del, drawings and text boxes are not descended into
_W_RUN_CONTAINERS = {_W + t for t in ("hyperlink", "ins", "smartTag", "sdt", "sdtContent", "fldSimple", "customXml")}
_W_RUN_TEXT = {_W + "tab": "\t", _W + "ptab": "\t", _W + "br": "\n", _W + "cr": "\n", _W + "noBreakHyphen": "-"}


def _docx_paragraph_text(element) -> str:
    """The text of a <w:p> straight from its XML: python-docx objects per run cost too much for
    files of many paragraphs (docs/benchmarks.md, section s8-misc; docs/reliability.md row 11)."""
    parts: list[str] = []
    stack = list(reversed(element))
    while stack:
        node = stack.pop()
        tag = node.tag
        if tag == _W + "r":
            for item in node:
                if item.tag == _W + "t":
                    parts.append(item.text or "")
                elif item.tag in _W_RUN_TEXT:
                    parts.append(_W_RUN_TEXT[item.tag])
        elif tag in _W_RUN_CONTAINERS:
            stack.extend(reversed(node))
    return "".join(parts)


def _docx_table_rows(table) -> list[str]:
    """One line per table row, its cells' text joined by spaces, from the XML; a column-label
    row above rows of clause ids is left out.

    python-docx's ``row.cells`` resolves the whole grid for every row, quadratic in a long table
    (docs/benchmarks.md, section s8-misc). A cell continuing a vertical merge is empty here, so merged text is not repeated on
    every row it spans; nested tables' text stays in its cell.
    """
    rows: list[list[str]] = []
    for tr in table.iterchildren(_W + "tr"):
        cells: list[str] = []
        for tc in tr.iterchildren(_W + "tc"):
            t = " ".join(" ".join(_docx_paragraph_text(p) for p in tc.iter(_W + "p")).split())
            if t and (not cells or cells[-1] != t):
                cells.append(t)
        if cells:
            rows.append(cells)
    if len(rows) >= 2 and not _ROW_ID_RE.match(rows[0][0]) and all(_ROW_ID_RE.match(r[0]) for r in rows[1:3]):
        # a column-label row ("# Description L1 L2 L3 CWE") above numbered requirement rows: the
        # labels mean nothing without the grid and would become the text of the section above
        rows = rows[1:]
    return [" ".join(cells) for cells in rows]


_ROW_ID_RE = re.compile(r"^(?:[A-Z]{0,2}\d{1,3}(?:\.\d{1,3})+|[A-Z]\.\d{1,3}(?:\.\d{1,3})*)$")


def _outline_level(element) -> int:
    from docx.oxml.ns import qn

    ppr = element.find(qn("w:pPr"))
    node = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
    if node is None:
        return 0
    try:
        value = int(node.get(qn("w:val")))
    except (TypeError, ValueError):
        return 0
    return value + 1 if 0 <= value <= 8 else 0  # 9 means "body text"


def _load_docx(path: Path, data: bytes) -> tuple[str, str | None]:
    """Paragraphs and table rows as lines; heading-styled paragraphs as Markdown-style ``#`` lines.

    The heading marks carry the document's own structure to the clause parser (which reads them
    exactly as Markdown headings); a body line that itself starts with ``#`` is escaped as ``\\#``.
    """
    import io
    import zipfile

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentError(path, "corrupted DOCX: not a zip archive")
    try:
        import docx  # python-docx

        d = docx.Document(io.BytesIO(data))
        levels, default_style = _docx_style_levels(d)
        lines: list[str] = []
        body = d.element.body
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                text = " ".join(_docx_paragraph_text(child).split())
                if not text:
                    continue
                level = _docx_paragraph_level(child, levels, default_style)
                if level:
                    lines.append("#" * level + " " + text)
                else:
                    lines.append("\\" + text if text.startswith("#") else text)
            elif tag == "tbl":
                for line in _docx_table_rows(child):
                    lines.append("\\" + line if line.startswith("#") else line)
        title = None
        try:
            title = d.core_properties.title or None
        except Exception:  # noqa: BLE001 - metadata is optional
            title = None
    except DocumentError:
        raise
    except Exception as err:  # noqa: BLE001 - zip/lxml/python-docx failures
        raise DocumentError(path, f"corrupted DOCX: {_short(err)}") from None
    return _normalise_lines("\n".join(lines)), title


# --------------------------------------------------------------------------- PDF


def _garbled(text: str) -> bool:
    """Text from fonts without a Unicode mapping: private-use / replacement / control chars."""
    chars = [ch for ch in text if not ch.isspace()]
    if not chars:
        return False
    bad = sum(
        1
        for ch in chars
        if ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cc", "Cn")
    )
    return bad > 0.3 * len(chars)


# PDF /Title values that are not a title: editor defaults and file names
_JUNK_TITLE_RE = re.compile(r"^(?:untitled.*|microsoft (?:word|powerpoint|excel) - .*|.*\.(?:docx?|pdf|rtf|odt|txt)|无标题.*)$", re.I)


def _load_pdf(path: Path) -> tuple[list[Page], str | None]:
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 4096))
            tail = fh.read()
    except OSError as err:
        raise DocumentError(path, f"cannot read: {_short(err)}") from None
    if b"%PDF-" not in head:
        raise DocumentError(path, "corrupted PDF: no %PDF header (not a PDF file)")
    if b"%%EOF" not in tail.rstrip(b"\x00\r\n\t "):
        raise DocumentError(path, "corrupted PDF: truncated (no %%EOF at end of file)")

    import pypdf
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    pypdf_logger = logging.getLogger("pypdf")
    previous_level = pypdf_logger.level
    pypdf_logger.setLevel(logging.ERROR)  # pypdf warns loudly about recoverable oddities
    try:
        try:
            reader = pypdf.PdfReader(str(path), strict=False)
        except FileNotDecryptedError:
            raise DocumentError(path, "encrypted PDF") from None
        except Exception as err:  # noqa: BLE001
            raise DocumentError(path, f"corrupted PDF: {_short(err)}") from None

        try:
            if reader.is_encrypted:
                # Owner-password-only PDFs (empty user password) are readable; others are not.
                try:
                    ok = reader.decrypt("")
                except Exception:  # noqa: BLE001 - e.g. missing AES support
                    ok = 0
                if not ok:
                    raise DocumentError(path, "encrypted PDF")

            title = None
            try:
                meta = reader.metadata
                if meta is not None and meta.title:
                    title = str(meta.title)
            except Exception:  # noqa: BLE001 - metadata is optional
                title = None
            if title and _JUNK_TITLE_RE.match(title.strip()):
                title = None

            pages: list[Page] = []
            for number, page in enumerate(reader.pages, start=1):
                text = page.extract_text() or ""
                pages.append(Page(number=number, text=_normalise_pdf_text(text)))
            # printed page labels: the PDF's own /PageLabels, else the number in the header/footer
            from .chunking.lines import printed_page_labels

            try:
                has_labels = "/PageLabels" in reader.trailer["/Root"]
                labels = list(reader.page_labels) if has_labels else []
            except Exception:  # noqa: BLE001 - a damaged label tree only loses the labels
                labels = []
            if len(labels) != len(pages):
                labels = printed_page_labels([pg.text for pg in pages])
            pages = [Page(number=pg.number, text=pg.text, label=lab) for pg, lab in zip(pages, labels)]
        except DocumentError:
            raise
        except FileNotDecryptedError:
            raise DocumentError(path, "encrypted PDF") from None
        except (PdfReadError, Exception) as err:  # noqa: BLE001 - pypdf raises many kinds
            raise DocumentError(path, f"corrupted PDF: {_short(err)}") from None
    finally:
        pypdf_logger.setLevel(previous_level)

    if not pages:
        raise DocumentError(path, "corrupted PDF: no pages")
    all_text = "".join(p.text for p in pages)
    if not all_text.strip():
        raise DocumentError(path, "no text layer (scanned PDF? run OCR first)")
    if _garbled(all_text):
        raise DocumentError(path, "no usable text layer (fonts without Unicode mapping); run OCR first")
    return pages, title


def _normalise_pdf_text(text: str) -> str:
    if _has_compat(text):
        text = "".join(unicodedata.normalize("NFKC", ch) if _is_compat(ch) else ch for ch in text)
    lines = [" ".join(line.replace("\u3000", " ").split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _is_compat(ch: str) -> bool:
    return in_ranges(ch, CJK_COMPATIBILITY_FORMS)


def _has_compat(text: str) -> bool:
    # Kangxi radicals / CJK compatibility ideographs that some PDF fonts map to; NFKC fixes them
    # (only those characters: full-width punctuation stays as printed).
    return any(_is_compat(ch) for ch in text)
