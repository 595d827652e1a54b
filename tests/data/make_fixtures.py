"""Regenerate the committed PDF fixtures in tests/data/docs/ from their Markdown sources.

    python tests/data/make_fixtures.py

Needs reportlab and the WenQuanYi Zen Hei font (Debian package fonts-wqy-zenhei); the tests
themselves only read the committed PDFs with pypdf. The build is deterministic, so rerunning
this with unchanged sources gives byte-identical files.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DOCS = HERE / "docs"

FIXTURES = [
    # (markdown source, pdf, title, running header)
    ("zh-guidance.md", "zh-guidance.pdf", "呼叫中心服务质量示例指导要求", "呼叫中心服务质量示例指导要求（测试样例）"),
    ("en-guidance.md", "en-guidance.pdf", "Sample Call Centre Guidance", "Sample Call Centre Guidance (test sample)"),
]


def _builder():
    spec = importlib.util.spec_from_file_location("build_corpus_pdf", ROOT / "scripts" / "build_corpus_pdf.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def main() -> None:
    builder = _builder()
    for source, pdf, title, header in FIXTURES:
        md = (DOCS / source).read_text(encoding="utf-8")
        out = builder.build_pdf(md, DOCS / pdf, title=title, header=header)
        print(out.relative_to(ROOT), out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
