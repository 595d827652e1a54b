#!/usr/bin/env python
"""Build a printed-standard style PDF from a Markdown guidance source.

    python scripts/build_corpus_pdf.py SOURCE.md OUT.pdf --title "..." [--header "..."]

Layout: a cover page with the title (and any text between the first `#` heading and the first
`##` heading), a table of contents ("目次" for Chinese, "Contents" for English) with dot leaders
and page numbers (two-pass build so the numbers are right), a running header with the document
name and a page number footer ("— 7 —" for Chinese, "7" for English) on every page after the
cover. Headings are bold on their own line, body paragraphs wrap (CJK-aware), list items
("a) ...", "- ...") each start their own line. Page numbers in the footer and the contents are the
physical PDF page numbers, i.e. the ones a PDF viewer and pypdf report.

Chinese text uses WenQuanYi Zen Hei (Debian package fonts-wqy-zenhei) embedded as a TrueType
subset with a ToUnicode map, so pypdf's extract_text() returns the Chinese characters.
Output is byte-for-byte reproducible (reportlab's invariant mode).

Supported Markdown: ATX headings, paragraphs (consecutive lines are joined), list items,
block quotes (rendered as plain paragraphs), pipe tables, **bold**/`code` markers (stripped).
A "目次"/"目录"/"Contents" heading in the source is skipped: the contents are generated.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config

rl_config.invariant = 1  # fixed creation date and ids: same sources -> same bytes

from reportlab.lib import colors  # noqa: E402
from reportlab.lib.enums import TA_CENTER  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import ParagraphStyle  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfbase import pdfmetrics  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.platypus import (  # noqa: E402
    BaseDocTemplate,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.text import CJK_RE as _CJK_RE  # noqa: E402
from assistant.text import CJK_WIDE_RE as _CJK_JOIN  # noqa: E402
from assistant.text import detect_language  # noqa: E402

CJK_FONT_PATH = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
CJK_FONT = "WQYZenHei"

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LIST_RE = re.compile(
    r"^\s*(?:[-*+•]\s+|\d{1,3}[.)）]\s*|[a-zA-Z][.)）]\s+|[（(][a-zA-Z0-9一二三四五六七八九十]{1,3}[)）]\s*"
    r"|[一二三四五六七八九十]{1,3}、|——)"
)
_TABLE_SEP_RE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_TOC_WORDS = {"目次", "目录", "contents", "table of contents"}


# --------------------------------------------------------------------------- markdown model


@dataclass
class Block:
    kind: str  # "heading", "para", "item", "table"
    text: str = ""
    level: int = 0  # heading level, 0 = top
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Source:
    title: str
    cover: list[Block]
    body: list[Block]


def _join(a: str, b: str) -> str:
    if not a:
        return b
    if not b:
        return a
    if _CJK_JOIN.match(a[-1]) or _CJK_JOIN.match(b[0]):
        return a + b
    return a + " " + b


def _width(text: str) -> int:
    return sum(2 if _CJK_JOIN.match(ch) else 1 for ch in text)


def _hard_wrapped(lines: list[str]) -> bool:
    """Consecutive source lines form one hard-wrapped paragraph (else: one line per paragraph).

    Same rule as assistant.chunking uses for Markdown, so the PDF and the Markdown agree.
    """
    if len(lines) < 2:
        return False
    widths = [_width(line) for line in lines]
    widest = max(widths)
    return widest >= 60 and all(w >= 0.75 * widest for w in widths[:-1])


def _inline(text: str) -> str:
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    text = re.sub(r"`([^`]+)`", r"\1", text)
    return text.strip()


def parse_markdown(md: str) -> Source:
    md = md.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    md = re.sub(r"\A---[ \t]*\n.*?\n---[ \t]*\n", "", md, count=1, flags=re.S)
    md = re.sub(r"<!--.*?-->", "", md, flags=re.S)
    lines = md.split("\n")

    blocks: list[Block] = []
    para: list[str] = []
    table: list[list[str]] = []

    def flush_para() -> None:
        if para:
            if _hard_wrapped(para):
                # one wrapped paragraph, except that list markers start new items
                groups: list[list[str]] = []
                for line in para:
                    if not groups or _LIST_RE.match(line):
                        groups.append([line])
                    else:
                        groups[-1].append(line)
            else:
                groups = [[line] for line in para]
            for group in groups:
                text = ""
                for line in group:
                    text = _join(text, line)
                kind = "item" if _LIST_RE.match(group[0]) else "para"
                blocks.append(Block(kind, _inline(text)))
            para.clear()

    def flush_table() -> None:
        if table:
            blocks.append(Block("table", rows=[r[:] for r in table]))
            table.clear()

    for raw in lines:
        line = raw.strip()
        if line.startswith(">"):
            line = line.lstrip(">").strip()
        if not line:
            flush_para()
            flush_table()
            continue
        if line.startswith("```") or line.startswith("~~~") or re.fullmatch(r"([-*_])(\s*\1){2,}", line):
            flush_para()
            continue
        m = _HEADING_RE.match(line)
        if m:
            flush_para()
            flush_table()
            blocks.append(Block("heading", _inline(m.group(2)), level=len(m.group(1))))
            continue
        if line.startswith("|"):
            flush_para()
            if _TABLE_SEP_RE.match(line):
                continue
            cells = [_inline(c) for c in line.strip("|").split("|")]
            table.append(cells)
            continue
        flush_table()
        para.append(line)
    flush_para()
    flush_table()

    title = ""
    cover: list[Block] = []
    if blocks and blocks[0].kind == "heading" and blocks[0].level == 1:
        title = blocks[0].text
        blocks = blocks[1:]
        while blocks and blocks[0].kind != "heading":
            cover.append(blocks.pop(0))
    # drop a contents section written in the source: ours is generated
    body: list[Block] = []
    skipping = False
    for block in blocks:
        if block.kind == "heading":
            skipping = block.text.replace(" ", "").replace("\u3000", "").lower() in _TOC_WORDS or (
                block.text.strip().lower() in _TOC_WORDS
            )
            if skipping:
                continue
        if not skipping:
            body.append(block)
    levels = [b.level for b in body if b.kind == "heading"]
    top = min(levels) if levels else 1
    for block in body:
        if block.kind == "heading":
            block.level = block.level - top
    return Source(title=title, cover=cover, body=body)


# --------------------------------------------------------------------------- rendering


class BoldParagraph(Paragraph):
    """A Paragraph drawn with fill+stroke text (fake bold): WQY Zen Hei has no bold face."""

    fake_bold = True

    def draw(self):  # noqa: D401 - reportlab API
        if not self.fake_bold:
            return super().draw()
        canv = self.canv
        original = canv.beginText

        def begin_text(*args, **kwargs):
            text_object = original(*args, **kwargs)
            text_object.setTextRenderMode(2)
            return text_object

        canv.saveState()
        canv.setLineWidth(0.3)
        canv.setStrokeColor(colors.black)
        canv.beginText = begin_text
        try:
            super().draw()
        finally:
            del canv.beginText
            canv.restoreState()


class HeadingParagraph(BoldParagraph):
    def __init__(self, text, style, level, toc_text, key, fake_bold):
        super().__init__(text, style)
        self.toc_level = level
        self.toc_text = toc_text
        self.toc_key = key
        self.fake_bold = fake_bold


class GuidanceDocTemplate(BaseDocTemplate):
    def __init__(self, filename, *, doc_title, header, lang, font, toc_levels, **kw):
        super().__init__(filename, pagesize=A4, title=doc_title, **kw)
        self.doc_title = doc_title
        self.header_text = header
        self.lang = lang
        self.font = font
        self.toc_levels = toc_levels
        width, height = A4
        frame = Frame(25 * mm, 22 * mm, width - 50 * mm, height - 50 * mm, id="body")
        cover = Frame(25 * mm, 22 * mm, width - 50 * mm, height - 44 * mm, id="cover")
        self.addPageTemplates(
            [
                PageTemplate(id="cover", frames=[cover]),
                PageTemplate(id="body", frames=[frame], onPage=self._header, onPageEnd=self._footer),
            ]
        )

    def _header(self, canv, doc):
        width, height = A4
        canv.saveState()
        canv.setFont(self.font, 9)
        canv.drawCentredString(width / 2, height - 17 * mm, self.header_text)
        canv.setLineWidth(0.5)
        canv.line(25 * mm, height - 19 * mm, width - 25 * mm, height - 19 * mm)
        canv.restoreState()

    def _footer(self, canv, doc):
        width, _ = A4
        label = f"— {doc.page} —" if self.lang == "zh" else str(doc.page)
        canv.saveState()
        canv.setFont(self.font, 9)
        canv.drawCentredString(width / 2, 12 * mm, label)
        canv.restoreState()

    def afterFlowable(self, flowable):
        if isinstance(flowable, HeadingParagraph):
            if flowable.toc_level < self.toc_levels:
                self.notify("TOCEntry", (flowable.toc_level, flowable.toc_text, self.page, flowable.toc_key))
            self.canv.bookmarkPage(flowable.toc_key)
            self.canv.addOutlineEntry(flowable.toc_text, flowable.toc_key, level=min(flowable.toc_level, 3), closed=True)


def _register_cjk_font() -> None:
    if CJK_FONT in pdfmetrics.getRegisteredFontNames():
        return
    if not Path(CJK_FONT_PATH).exists():
        raise SystemExit(f"CJK font not found: {CJK_FONT_PATH} (install Debian package fonts-wqy-zenhei)")
    pdfmetrics.registerFont(TTFont(CJK_FONT, CJK_FONT_PATH, subfontIndex=0))
    from reportlab.pdfbase.pdfmetrics import registerFontFamily

    registerFontFamily(CJK_FONT, normal=CJK_FONT, bold=CJK_FONT, italic=CJK_FONT, boldItalic=CJK_FONT)


def build_pdf(
    source_md: str,
    out_path: str | Path,
    *,
    title: str | None = None,
    header: str | None = None,
    lang: str | None = None,
    toc_levels: int = 2,
) -> Path:
    """Render Markdown text to a PDF at ``out_path``; returns the path."""
    src = parse_markdown(source_md)
    doc_title = title or src.title or Path(out_path).stem
    header = header or doc_title
    all_text = doc_title + "\n" + source_md
    lang = lang or detect_language(all_text)
    use_cjk = bool(_CJK_RE.search(all_text))
    if use_cjk:
        _register_cjk_font()
        font = bold_font = CJK_FONT
    else:
        font, bold_font = "Helvetica", "Helvetica-Bold"
    wrap = "CJK" if lang == "zh" else None
    fake_bold = use_cjk

    body_size = 10.5
    base = ParagraphStyle(
        "body",
        fontName=font,
        fontSize=body_size,
        leading=body_size * 1.6,
        spaceAfter=3,
        firstLineIndent=2 * body_size if lang == "zh" else 0,
        wordWrap=wrap,
    )
    item = ParagraphStyle("item", parent=base, firstLineIndent=0, leftIndent=2 * body_size, spaceAfter=1)
    cell = ParagraphStyle("cell", parent=base, firstLineIndent=0, fontSize=9.5, leading=14, spaceAfter=0)
    heading_styles = [
        ParagraphStyle(f"h{i}", parent=base, fontName=bold_font, fontSize=size, leading=size * 1.5,
                       firstLineIndent=0, spaceBefore=before, spaceAfter=4, keepWithNext=1)
        for i, (size, before) in enumerate([(13, 12), (11.5, 8), (10.5, 6), (10.5, 4), (10.5, 4)])
    ]  # fmt: skip
    cover_title = ParagraphStyle("cover_title", parent=base, fontName=bold_font, fontSize=20, leading=30,
                                 alignment=TA_CENTER, firstLineIndent=0, spaceAfter=18)  # fmt: skip
    cover_text = ParagraphStyle("cover_text", parent=base, alignment=TA_CENTER, firstLineIndent=0)
    toc_title = ParagraphStyle("toc_title", parent=cover_title, fontSize=15, leading=22, spaceAfter=12)

    toc = TableOfContents()
    toc.dotsMinLevel = 0
    toc.levelStyles = [
        ParagraphStyle(f"toc{i}", fontName=font, fontSize=10.5, leading=17, leftIndent=i * 2 * body_size,
                       firstLineIndent=0, wordWrap=wrap)
        for i in range(toc_levels)
    ]  # fmt: skip

    story: list = []
    story.append(Spacer(1, 60 * mm))
    cover_bold = BoldParagraph(escape(doc_title), cover_title)
    cover_bold.fake_bold = fake_bold
    story.append(cover_bold)
    for block in src.cover:
        if block.kind in ("para", "item"):
            story.append(Paragraph(escape(block.text), cover_text))
    story.append(NextPageTemplate("body"))
    story.append(PageBreak())
    toc_head = BoldParagraph(escape("目次" if lang == "zh" else "Contents"), toc_title)
    toc_head.fake_bold = fake_bold
    story.append(toc_head)
    story.append(toc)
    story.append(PageBreak())

    for n, block in enumerate(src.body):
        if block.kind == "heading":
            level = min(block.level, len(heading_styles) - 1)
            story.append(
                HeadingParagraph(escape(block.text), heading_styles[level], block.level, block.text, f"h{n}", fake_bold)
            )
        elif block.kind == "item":
            story.append(Paragraph(escape(block.text), item))
        elif block.kind == "para":
            story.append(Paragraph(escape(block.text), base))
        elif block.kind == "table":
            ncols = max(len(r) for r in block.rows)
            rows = [[Paragraph(escape(c), cell) for c in r] + [""] * (ncols - len(r)) for r in block.rows]
            table = Table(rows, repeatRows=1, hAlign="LEFT", colWidths=[(A4[0] - 50 * mm) / ncols] * ncols)
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(table)
            story.append(Spacer(1, 4))

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = GuidanceDocTemplate(
        str(out), doc_title=doc_title, header=header, lang=lang, font=font, toc_levels=toc_levels,
        author="", subject="", creator="scripts/build_corpus_pdf.py",
    )  # fmt: skip
    doc.multiBuild(story)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path, help="Markdown source")
    ap.add_argument("out", type=Path, help="PDF to write")
    ap.add_argument("--title", help="document title (default: the first # heading)")
    ap.add_argument("--header", help="running header text (default: the title)")
    ap.add_argument("--lang", choices=["zh", "en"], help="default: detected from the text")
    ap.add_argument("--toc-levels", type=int, default=2, help="heading levels listed in the contents")
    args = ap.parse_args(argv)
    md = args.source.read_text(encoding="utf-8")
    out = build_pdf(md, args.out, title=args.title, header=args.header, lang=args.lang, toc_levels=args.toc_levels)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
