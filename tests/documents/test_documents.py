"""Loaders: formats, metadata, decoding and every error case (fixtures in tests/data/docs)."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from assistant.documents import (
    SUPPORTED_SUFFIXES,
    DocumentError,
    discover,
    document_id_for,
    load_document,
    load_documents,
)
from tests.support.paths import DATA, REPO

DOCS = DATA / "docs"
ZH_PDF = DOCS / "zh-guidance.pdf"
EN_PDF = DOCS / "en-guidance.pdf"


def _reason(path: Path, **kw) -> str:
    with pytest.raises(DocumentError) as info:
        load_document(path, **kw)
    err = info.value
    assert err.path == str(path)
    assert str(err) == f"{path}: {err.reason}"
    return err.reason


# --------------------------------------------------------------------------- ids and discovery


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("corpus/ccso-zh.pdf", "ccso-zh"),
        ("corpus/CCSO_EN v2.Markdown", "ccso-en-v2"),
        ("x/Annual Report (2012).docx", "annual-report-2012"),
    ],
)
def test_document_id_for(path, expected):
    assert document_id_for(path) == expected


def test_document_id_for_non_ascii_name_is_stable_and_nonempty():
    a = document_id_for("指导要求.pdf")
    assert a and a == document_id_for("other/指导要求.md")
    assert a != document_id_for("其他文件.pdf")


def test_discover_lists_supported_files_only(tmp_path):
    for name in ["b.md", "a.pdf", "c.TXT", "README.md", "readme.txt", ".hidden.md", "notes.xyz", "d.htm"]:
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "e.md").write_text("x", encoding="utf-8")
    assert [p.name for p in discover(tmp_path)] == ["a.pdf", "b.md", "c.TXT", "d.htm"]
    assert SUPPORTED_SUFFIXES == {".pdf", ".md", ".markdown", ".txt", ".docx", ".html", ".htm"}


# --------------------------------------------------------------------------- formats


def test_pdf_pages_title_and_chinese_text():
    doc = load_document(ZH_PDF)
    assert doc.id == "zh-guidance"
    assert doc.format == "pdf" and doc.has_pages
    assert doc.title == "呼叫中心服务质量示例指导要求"  # PDF metadata /Title
    assert doc.lang == "zh"
    assert [p.number for p in doc.pages] == list(range(1, len(doc.pages) + 1))
    assert len(doc.pages) >= 4
    body = "\n".join(p.text for p in doc.pages)
    # embedded TrueType subset with a ToUnicode map: pypdf gives back real Chinese characters
    assert "4.5 企业高层领导支持" in body
    assert "企业高层领导应定期听取呼叫中心工作汇报" in body
    assert doc.source == str(ZH_PDF)


def test_english_pdf():
    doc = load_document(EN_PDF)
    assert doc.lang == "en" and doc.title == "Sample Call Centre Guidance"
    assert "2.2 Strategic guidelines" in doc.pages[2].text


def test_markdown_keeps_headings_and_strips_inline_markup(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text(
        "---\nauthor: x\n---\n# Guide\n\n## 1 Scope\n\nThis **document** applies to [call centres](http://x).\n",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert doc.format == "markdown" and not doc.has_pages
    assert [p.number for p in doc.pages] == [1]
    assert doc.title == "Guide"
    text = doc.pages[0].text
    assert "## 1 Scope" in text
    assert "This document applies to call centres." in text
    assert "author" not in text


def test_text_title_first_line_and_lang(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("\n\n  呼叫中心服务说明  \n第一段内容。\n", encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "呼叫中心服务说明"
    assert doc.format == "text" and doc.lang == "zh"


def test_title_is_truncated(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("word " * 100 + "\nbody\n", encoding="utf-8")
    assert len(load_document(path).title) <= 120


def test_docx(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_heading("4 规划及发展方向", level=1)
    d.add_heading("4.5 企业高层领导支持", level=2)
    d.add_paragraph("企业高层领导应定期听取呼叫中心工作汇报。")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "ACD"
    table.rows[0].cells[1].text = "自动呼叫分配"
    path = tmp_path / "guide.docx"
    d.save(path)
    doc = load_document(path)
    assert doc.format == "docx" and not doc.has_pages
    lines = doc.pages[0].text.splitlines()
    # heading styles become '#' marks that the clause parser reads as explicit headings
    assert lines[:3] == ["# 4 规划及发展方向", "## 4.5 企业高层领导支持", "企业高层领导应定期听取呼叫中心工作汇报。"]
    assert "ACD 自动呼叫分配" in lines
    assert doc.title == "4 规划及发展方向"


def test_corrupted_docx(tmp_path):
    path = tmp_path / "bad.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    assert _reason(path).startswith("corrupted DOCX")


def test_html_blocks_become_lines_and_scripts_are_dropped(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>指导要求</title><style>p{color:red}</style></head><body>"
        "<script>var x = 1;</script><h1>4.5 企业高层领导支持</h1>"
        "<p>企业高层领导应定期\n听取汇报，<b>给予</b>支持。</p><ul><li>a) first</li><li>b) second</li></ul>"
        "<p>line one<br>line two</p></body></html>",
        encoding="utf-8",
    )
    doc = load_document(path)
    assert doc.format == "html" and doc.title == "指导要求"
    assert doc.pages[0].text.splitlines() == [
        "4.5 企业高层领导支持",
        "企业高层领导应定期听取汇报，给予支持。",
        "a) first",
        "b) second",
        "line one",
        "line two",
    ]


# --------------------------------------------------------------------------- text decoding


TEXT_ZH = "第一条　为了规范呼叫中心服务，制定本条例。\n第二条　本条例自公布之日起施行。\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "gbk", "gb18030"])
def test_text_encodings_decode(tmp_path, encoding):
    path = tmp_path / f"rules-{encoding}.txt"
    path.write_bytes(TEXT_ZH.encode(encoding))
    doc = load_document(path)
    assert doc.pages[0].text == TEXT_ZH.strip()
    assert doc.lang == "zh"


def test_gbk_markdown(tmp_path):
    path = tmp_path / "g.md"
    path.write_bytes("# 标题\n\n正文内容。\n".encode("gbk"))
    assert "正文内容。" in load_document(path).pages[0].text


# --------------------------------------------------------------------------- errors


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.md"
    path.write_bytes(b"")
    assert _reason(path) == "empty file"


def test_whitespace_only_file_has_no_text(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("\n  \n\t\n", encoding="utf-8")
    assert _reason(path) == "no text"


def test_file_over_max_bytes(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("x" * 2000, encoding="utf-8")
    assert _reason(path, max_bytes=1000) == "file too large (2000 bytes, limit 1000)"
    assert load_document(path, max_bytes=2000).pages[0].text == "x" * 2000


def test_unknown_suffix(tmp_path):
    path = tmp_path / "data.xyz"
    path.write_text("hello", encoding="utf-8")
    assert _reason(path) == "unsupported file type '.xyz'"


def test_missing_file(tmp_path):
    assert _reason(tmp_path / "nope.txt") == "file not found"


def test_binary_named_txt(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(bytes(range(256)) * 8)
    assert _reason(path) == "binary content, not text"


def test_undecodable_text(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("café naïve résumé à la carte".encode("cp1252"))
    assert _reason(path) == "cannot decode text (not UTF-8, UTF-16 or GBK)"


def test_truncated_pdf(tmp_path):
    data = ZH_PDF.read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    assert _reason(path).startswith("corrupted PDF: ")


def test_garbage_pdf(tmp_path):
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf body\n%%EOF\n")
    assert _reason(path).startswith("corrupted PDF: ")
    path.write_bytes(b"<html>not a pdf</html>")
    assert _reason(path).startswith("corrupted PDF: ")


def _rewrite(src: Path, dst: Path, **encrypt) -> Path:
    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(src.read_bytes()))
    writer.encrypt(**encrypt)
    buf = io.BytesIO()
    writer.write(buf)
    dst.write_bytes(buf.getvalue())
    return dst


def test_encrypted_pdf(tmp_path):
    path = _rewrite(EN_PDF, tmp_path / "locked.pdf", user_password="secret", owner_password="owner")
    assert _reason(path) == "encrypted PDF"


def test_pdf_with_owner_password_only_is_readable(tmp_path):
    path = _rewrite(EN_PDF, tmp_path / "restricted.pdf", user_password="", owner_password="owner")
    assert "Strategic guidelines" in "\n".join(p.text for p in load_document(path).pages)


def test_pdf_without_text_layer(tmp_path):
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    path = tmp_path / "scan.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    assert _reason(path) == "no text layer (scanned PDF? run OCR first)"


def test_load_documents_continues_past_bad_files(tmp_path):
    good1 = tmp_path / "a.md"
    good1.write_text("# A\n\ntext", encoding="utf-8")
    bad = tmp_path / "b.txt"
    bad.write_bytes(b"")
    unknown = tmp_path / "c.xyz"
    unknown.write_text("x", encoding="utf-8")
    good2 = tmp_path / "d.txt"
    good2.write_text("plain text", encoding="utf-8")
    docs, errors = load_documents([good1, bad, unknown, good2, EN_PDF])
    assert [d.id for d in docs] == ["a", "d", "en-guidance"]
    assert [(Path(e.path).name, e.reason) for e in errors] == [
        ("b.txt", "empty file"),
        ("c.xyz", "unsupported file type '.xyz'"),
    ]


def test_load_documents_max_bytes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x" * 50, encoding="utf-8")
    docs, errors = load_documents([path], max_bytes=10)
    assert docs == [] and errors[0].reason == "file too large (50 bytes, limit 10)"


# --------------------------------------------------------------------------- scripts/build_corpus_pdf.py


def _builder():
    pytest.importorskip("reportlab")
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("build_corpus_pdf", REPO / "scripts" / "build_corpus_pdf.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_build_pdf_is_deterministic_and_has_contents_header_footer(tmp_path):
    builder = _builder()
    md = (DOCS / "en-guidance.md").read_text(encoding="utf-8")
    a = builder.build_pdf(md, tmp_path / "a.pdf", header="Running Header")
    b = builder.build_pdf(md, tmp_path / "b.pdf", header="Running Header")
    assert a.read_bytes() == b.read_bytes()
    doc = load_document(a)
    assert doc.title == "Sample Call Centre Guidance"
    contents = doc.pages[1].text.splitlines()
    assert contents[0] == "Running Header" and "Contents" in contents[1]
    # every heading is listed with the page it really starts on
    assert "3.2 Recruitment and training" in contents
    assert any(line.endswith(" 3") and ". . ." in line for line in contents)
    for page in doc.pages[1:]:
        lines = page.text.splitlines()
        assert lines[0] == "Running Header" and lines[-1] == str(page.number)
    assert "Running Header" not in doc.pages[0].text  # no header on the cover


def test_committed_chinese_fixture_is_reproducible(tmp_path):
    builder = _builder()
    if not Path(builder.CJK_FONT_PATH).exists():
        pytest.skip("fonts-wqy-zenhei not installed")
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", DOCS.parent / "make_fixtures.py")
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    source, pdf, title, header = fixtures.FIXTURES[0]
    out = builder.build_pdf((DOCS / source).read_text(encoding="utf-8"), tmp_path / pdf, title=title, header=header)
    assert out.read_bytes() == (DOCS / pdf).read_bytes(), "run tests/data/make_fixtures.py"
