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

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DocumentError",
    "discover",
    "document_id_for",
    "load_document",
    "load_documents",
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
    """Load every path; a bad file is reported in the error list and does not stop the others."""
    docs: list[Document] = []
    errors: list[DocumentError] = []
    for path in paths:
        try:
            docs.append(load_document(path, max_bytes=max_bytes))
        except DocumentError as err:
            errors.append(err)
        except Exception as err:  # pragma: no cover - load_document wraps everything already
            errors.append(DocumentError(path, f"cannot read: {_short(err)}"))
    return docs, errors


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

    doc_id = document_id_for(p)
    title = _clean_title(meta_title) or _first_line_title(full) or doc_id
    return Document(
        id=doc_id,
        title=title,
        source=str(path),
        format=fmt,
        lang=detect_lang(full),
        pages=pages,
        has_pages=has_pages,
    )


# --------------------------------------------------------------------------- helpers


def _short(err: BaseException, limit: int = 100) -> str:
    msg = str(err).strip().splitlines()[0] if str(err).strip() else ""
    text = f"{type(err).__name__}: {msg}" if msg else type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x2FA1F
        or 0x3040 <= o <= 0x30FF  # kana
        or 0xAC00 <= o <= 0xD7AF  # hangul
    )


def detect_lang(text: str) -> str:
    """"zh" when CJK characters are at least 20% of the letters, else "en"."""
    cjk = letters = 0
    for ch in text:
        if _is_cjk(ch):
            cjk += 1
            letters += 1
        elif ch.isalpha():
            letters += 1
    if letters and cjk / letters >= 0.2:
        return "zh"
    return "en"


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


def _normalise_lines(text: str) -> str:
    """Unify newlines, drop trailing spaces and control characters, keep line structure."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\ufeff", "")
    text = "".join(
        ch for ch in text if ch in "\n\t" or not unicodedata.category(ch).startswith("C") or ch == "\u200b"
    ).replace("\u200b", "")
    lines = [line.rstrip() for line in text.split("\n")]
    # collapse runs of blank lines to one
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
    (0x4E00, 0x9FFF),
    (0x3000, 0x303F),
    (0xFF00, 0xFFEF),
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
            or 0x3000 <= o <= 0x303F
            or 0x4E00 <= o <= 0x9FFF
            or 0xFF00 <= o <= 0xFFEF
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


_MD_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*\n", re.S)
_MD_COMMENT = re.compile(r"<!--.*?-->", re.S)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]+|<[^>]*>)(?:\s+\"[^\"]*\")?\)")
_MD_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+.*$", re.M)
_MD_EMPH = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_CODE = re.compile(r"`([^`\n]+)`")
_MD_FENCE = re.compile(r"^\s*(```|~~~).*$", re.M)
_MD_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$", re.M)
_MD_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", re.M)
_MD_QUOTE = re.compile(r"^\s{0,3}>\s?", re.M)
_MD_HARD_BREAK = re.compile(r"(\\| {2,})$", re.M)


def _clean_markdown(raw: str) -> str:
    """Strip the markup that would end up in clause text; keep `#` heading marks and list markers."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _MD_FRONT_MATTER.sub("", text, count=1)
    text = _MD_COMMENT.sub("", text)
    text = _MD_REF_DEF.sub("", text)
    text = _MD_FENCE.sub("", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_EMPH.sub(r"\2", text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_TABLE_SEP.sub("", text)
    text = _MD_RULE.sub("", text)
    text = _MD_QUOTE.sub("", text)
    text = _MD_HARD_BREAK.sub("", text)
    # closing hashes of ATX headings: "## Title ##"
    text = re.sub(r"^(#{1,6}\s.*?)\s+#+\s*$", r"\1", text, flags=re.M)
    return _normalise_lines(text)


# --------------------------------------------------------------------------- HTML

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre",
    "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "html",
}  # fmt: skip
_CJK_CLASS = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"


def _html_to_text(raw: str) -> tuple[str, str | None]:
    try:
        from bs4 import BeautifulSoup, Comment, NavigableString
    except ImportError as err:  # pragma: no cover
        raise RuntimeError("beautifulsoup4 is required for HTML") from err

    soup = BeautifulSoup(raw, "html.parser")
    title = None
    if soup.title and soup.title.string:
        title = soup.title.string.strip() or None
    for tag in soup(["script", "style", "noscript", "template", "head", "title", "svg", "iframe"]):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    # collapse source whitespace (except inside <pre>), removing wraps between CJK characters
    for node in list(soup.find_all(string=True)):
        if node.find_parent("pre") is not None:
            continue
        s = str(node)
        s = re.sub(rf"(?<=[{_CJK_CLASS}])[ \t]*\n\s*(?=[{_CJK_CLASS}])", "", s)
        s = re.sub(r"\s+", " ", s)
        node.replace_with(NavigableString(s))
    for br in soup.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(NavigableString(" "))
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before(NavigableString("\n"))
        tag.insert_after(NavigableString("\n"))
    text = soup.get_text("")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _normalise_lines("\n".join(line for line in lines if line)), title


# --------------------------------------------------------------------------- DOCX


def _load_docx(path: Path, data: bytes) -> tuple[str, str | None]:
    import io
    import zipfile

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentError(path, "corrupted DOCX: not a zip archive")
    try:
        import docx  # python-docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        d = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        body = d.element.body
        for child in body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                text = Paragraph(child, d).text
                if text.strip():
                    lines.append(" ".join(text.split()))
            elif tag == "tbl":
                table = Table(child, d)
                for row in table.rows:
                    cells: list[str] = []
                    for cell in row.cells:
                        t = " ".join(cell.text.split())
                        if t and (not cells or cells[-1] != t):  # merged cells repeat
                            cells.append(t)
                    if cells:
                        lines.append(" ".join(cells))
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
        raise DocumentError(path, "no usable text layer (fonts without Unicode mapping; run OCR)")
    return pages, title


def _normalise_pdf_text(text: str) -> str:
    if _has_compat(text):
        text = "".join(unicodedata.normalize("NFKC", ch) if _is_compat(ch) else ch for ch in text)
    lines = [" ".join(line.replace("\u3000", " ").split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _is_compat(ch: str) -> bool:
    o = ord(ch)
    return 0x2F00 <= o <= 0x2FDF or 0xF900 <= o <= 0xFAFF or 0x2E80 <= o <= 0x2EFF


def _has_compat(text: str) -> bool:
    # Kangxi radicals / CJK compatibility ideographs that some PDF fonts map to; NFKC fixes them
    # (only those characters: full-width punctuation stays as printed).
    return any(_is_compat(ch) for ch in text)
