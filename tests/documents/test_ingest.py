"""Unreadable text layers, document identity and `assistant ingest` outcomes (issues 14, 15).

PDF fixtures are generated here with pypdf (a few hundred bytes each): a font whose encoding
maps the codes to glyph names only (pypdf then extracts `/G21/G22…`, as from the real file in
the issue), and a text layer whose words run together (as pypdf reads the ASVS 5.0 PDF).
"""

from __future__ import annotations

import json
import shutil

import pytest

from assistant.cli import main
from assistant.documents import DocumentError, load_document, load_documents, unreadable_reason


def _pdf(path, lines, *, glyph_names=False, title=None):
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/ABCDEF+SimSun" if glyph_names else "/Helvetica"),
    })  # fmt: skip
    if glyph_names:
        differences = ArrayObject([NumberObject(33)] + [NameObject(f"/G{n}") for n in range(21, 115)])
        font[NameObject("/Encoding")] = DictionaryObject(
            {NameObject("/Type"): NameObject("/Encoding"), NameObject("/Differences"): differences}
        )
    else:
        font[NameObject("/Encoding")] = NameObject("/WinAnsiEncoding")
    resources = {NameObject("/F1"): writer._add_object(font)}
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(resources)})
    ops = [f"BT /F1 10 Tf 40 {760 - 14 * i} Td ({line}) Tj ET" for i, line in enumerate(lines)]
    stream = DecodedStreamObject()
    stream.set_data("\n".join(ops).encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    if title:
        writer.add_metadata({"/Title": title})
    writer.write(str(path))
    return path


GLYPH_LINES = ["".join(chr(33 + (i * 7 + k) % 60) for k in range(40)).translate({40: 65, 41: 66, 92: 67}) for i in range(30)]
SPACELESS_LINES = [
    "Verifythatinputisdecodedorunescapedintoacanonicalformonlyonce",
    "Verifythattheapplicationusesasinglevettedauthenticationmechanism",
    "Verifythatallauthenticationpathwaysandidentitymanagementapis",
] * 6
GOOD_LINES = [
    "1 Scope",
    "This guidance applies to call centres that serve the public.",
    "2 Staffing",
    "Call centres should plan their staffing against the expected call volume.",
] * 3


def test_glyph_name_text_layer_is_refused_with_run_ocr(tmp_path):
    path = _pdf(tmp_path / "glyphs.pdf", GLYPH_LINES, glyph_names=True, title="书")
    with pytest.raises(DocumentError) as err:
        load_document(path)
    assert "glyph names" in err.value.reason and err.value.reason.endswith("run OCR first")


def test_text_layer_without_spaces_is_refused(tmp_path):
    path = _pdf(tmp_path / "asvs5.pdf", SPACELESS_LINES)
    with pytest.raises(DocumentError) as err:
        load_document(path)
    assert "lost the spaces between words" in err.value.reason and "run OCR first" in err.value.reason


def test_readable_pdf_is_accepted_and_placeholder_titles_give_way_to_the_cover(tmp_path):
    for placeholder in ("书", "标题", "ICS 65.020.20", "Microsoft Word - draft.doc"):
        doc = load_document(_pdf(tmp_path / "good.pdf", ["ICS 03.080", *GOOD_LINES], title=placeholder))
        assert doc.title == "1 Scope", placeholder
    assert load_document(_pdf(tmp_path / "good.pdf", GOOD_LINES, title="Call Centre Guide")).title == "Call Centre Guide"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/G21/G22/G23/G24/G25 " * 40, "glyph names"),
        ("\ue000\ue001\ue002 " * 60, "unmapped characters"),
        ("12 34 56 78 90 -- ** ## " * 30, "not language"),
        ("Verifythatinputisdecodedorunescapedintoacanonicalform. " * 10, "lost the spaces"),
    ],
)
def test_unreadable_reason_names_each_class(text, expected):
    assert expected in unreadable_reason(text)


@pytest.mark.parametrize(
    "text",
    [
        "Call centres should plan their staffing against the expected call volume. " * 10,
        "呼叫中心应当根据预计的呼叫量安排人员，并定期评估服务质量。" * 10,
        "See https://doi.org/10.6028/NIST.SP.800-63b and the Internationalization guidance. " * 10,
        "short",
    ],
)
def test_real_text_is_not_refused(text):
    assert unreadable_reason(text) is None


def test_same_document_id_is_refused_naming_both_files(tmp_path):
    (tmp_path / "Base.txt").write_text("First document body text.\n", encoding="utf-8")
    (tmp_path / "base.md").write_text("# Base\n\nSecond document body text.\n", encoding="utf-8")
    docs, errors = load_documents([tmp_path / "Base.txt", tmp_path / "base.md"])
    assert [d.source for d in docs] == [str(tmp_path / "Base.txt")]
    assert len(errors) == 1 and errors[0].path == str(tmp_path / "base.md")
    assert "document id 'base' is already taken by Base.txt" in errors[0].reason


# --------------------------------------------------------------------------- assistant ingest


def _run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def base(fake_settings):
    return ["--corpus", str(fake_settings.corpus_dir), "--index", str(fake_settings.index_dir), "--embedder", "fake"]


def test_ingest_skips_an_unreadable_pdf_and_exits_0_unless_strict(base, fake_settings, capsys, tmp_path):
    bad = _pdf(tmp_path / "glyphs.pdf", GLYPH_LINES, glyph_names=True)
    good = tmp_path / "extra-guide.md"
    good.write_text("## 1 Scope\n\nThis extra guide covers parking for visitors.\n", encoding="utf-8")
    code, out, err = _run(capsys, *base, "ingest", str(good), str(bad), "--quiet")
    assert code == 0 and "indexed 4 documents" in out
    assert "glyphs.pdf" in err and "run OCR first" in err and "skipped 1 file " in err
    assert not (fake_settings.corpus_dir / "glyphs.pdf").exists()
    code, _, err = _run(capsys, *base, "ingest", str(good), str(bad), "--quiet", "--strict")
    assert code == 1 and "glyphs.pdf" in err


def test_ingest_exits_1_when_nothing_could_be_indexed(base, capsys, tmp_path):
    bad = _pdf(tmp_path / "asvs5.pdf", SPACELESS_LINES)
    code, _, err = _run(capsys, *base, "ingest", str(bad), "--quiet")
    assert code == 1 and "no file was added (1 skipped)" in err


def test_ingest_of_a_file_already_in_the_corpus_reindexes_it(base, fake_settings, capsys):
    inside = sorted(fake_settings.corpus_dir.iterdir())[0]
    before = inside.read_bytes()
    code, out, err = _run(capsys, *base, "ingest", str(inside), "--quiet")
    assert code == 0, err
    assert "already in" in out and "reindexing it" in out and "indexed 3 documents" in out
    assert inside.read_bytes() == before


def test_ingest_refuses_a_file_whose_id_is_taken_by_another_corpus_file(base, fake_settings, capsys, tmp_path):
    corpus_names = [p.name for p in fake_settings.corpus_dir.iterdir()]
    taken = next(name for name in corpus_names if name.startswith("ccso-zh"))
    twin = tmp_path / "CCSO-ZH.txt"
    twin.write_text("另一份文件，文件名相同。\n", encoding="utf-8")
    code, out, err = _run(capsys, *base, "ingest", str(twin), "--quiet")
    assert code == 1
    assert f"document id 'ccso-zh' is already taken by {taken}" in err
    assert not (fake_settings.corpus_dir / "CCSO-ZH.txt").exists()


def test_hand_placed_twins_index_one_and_name_the_other(base, fake_settings, capsys):
    corpus = fake_settings.corpus_dir
    shutil.copy(next(corpus.glob("ccso-en.*")), corpus / "CCSO-EN.md")
    code, out, err = _run(capsys, *base, "ingest", "--quiet")
    assert code == 0 and "indexed 3 documents" in out
    assert "CCSO-EN.md" in err and "document id 'ccso-en' is already taken by" in err
    code, out, _ = _run(capsys, *base, "search", "staffing", "--json")
    ids = [hit["id"] for hit in json.loads(out)]
    assert len(ids) == len(set(ids))


def test_upload_of_a_glyph_name_pdf_is_422_and_leaves_nothing(operator_settings, tmp_path):
    from fastapi.testclient import TestClient

    from assistant.api import create_app
    from assistant.embedding import FakeEmbedder
    from assistant.service import Assistant
    from tests.support.corpus import OPERATOR_KEY

    assistant = Assistant(operator_settings, embedder=FakeEmbedder())
    assistant.open()
    before = sorted(p.name for p in operator_settings.corpus_dir.iterdir() if p.is_file())
    data = _pdf(tmp_path / "glyphs.pdf", GLYPH_LINES, glyph_names=True).read_bytes()
    with TestClient(create_app(operator_settings, assistant)) as client:
        response = client.post(
            "/api/documents", headers={"Authorization": f"Bearer {OPERATOR_KEY}"}, files={"file": ("glyphs.pdf", data)}
        )
    assert response.status_code == 422
    assert "glyph names" in response.json()["detail"] and "run OCR first" in response.json()["detail"]
    after = sorted(p.name for p in operator_settings.corpus_dir.iterdir() if p.is_file())
    assert after == before and not list((operator_settings.corpus_dir / ".staging").rglob("*.pdf"))


def _normalise_lines_one_by_one(text: str) -> str:
    """assistant.documents._normalise_lines as it was, its control characters filtered a
    character at a time over the whole text (the reference; the newline and blank-line steps
    are the module's own, unchanged)."""
    import unicodedata

    from assistant.documents import collapse_blank_lines, unify_newlines

    text = "".join(
        ch for ch in unify_newlines(text) if ch in "\n\t" or not unicodedata.category(ch).startswith("C") or ch == "\u200b"
    ).replace("\u200b", "")
    return collapse_blank_lines(line.rstrip() for line in text.split("\n"))


def _unmapped_one_by_one(text: str) -> tuple[int, int]:
    import unicodedata

    chars = [ch for ch in text if not ch.isspace()]
    return len(chars), sum(1 for ch in chars if ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cn", "Cc"))


HOSTILE_LINES = [
    "plain ascii line  ", "数据安全\u3000管理要求\u00a0 ", "tab\there\t", "zero\u200bwidth\u200b",
    "bell\x07and\x00nul", "private\ue000use\U000f0000", "unassigned\u0378\U000e0080", "bom\ufeffinside",
    "soft\u00adhyphen", "bidi\u202eoverride\u2066", "replacement \ufffd\ufffd", "lone \ud800 surrogate",
    "\u2028line sep\u2029para sep", "form\ffeed\r\nwindows\rmac", "   ", "", "\x0b\x1c\x1d\x1e\x85 seps",
]


@pytest.mark.parametrize("joiner", ["\n", "\n\n\n", "\r\n", " "])
def test_fast_paths_of_text_cleaning_equal_the_character_by_character_reference(joiner):
    """_normalise_lines and unreadable_reason look at whole lines / the whole text first and go
    character by character only where a character of category C is; the result is the same."""
    from assistant import documents

    text = joiner.join(HOSTILE_LINES * 3)
    assert documents._normalise_lines(text) == _normalise_lines_one_by_one(text)
    for line in HOSTILE_LINES:
        assert documents._normalise_lines(line) == _normalise_lines_one_by_one(line), line
    for sample in (text, joiner.join(HOSTILE_LINES[:2] + HOSTILE_LINES[10:11])):
        total, bad = _unmapped_one_by_one(sample)
        stripped = documents._SPACE_RE.sub("", sample)
        assert len(stripped) == total and documents._unmapped_count(stripped) == bad
    # the same verdicts: a text mostly of unmapped characters is refused, a clean one not
    assert "unmapped" in documents.unreadable_reason("\ue000\ue001 \U000f0000\u0378 " * 40)
    assert documents.unreadable_reason(joiner.join(HOSTILE_LINES[:2] * 20)) is None
