"""Loader defects from real documents (issue 14): Word heading styles, Markdown articles under
chapter headings, requirement rows in tables. Fixtures are generated here, cut small from the
shapes of ../shared/realdocs (ASVS 4.0.3 Word file, 医疗器械注册与备案管理办法)."""

from __future__ import annotations

import pytest

from assistant.chunking import parse_clauses
from assistant.documents import load_document

docx = pytest.importorskip("docx")


def _outline(paragraph, level: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    node = OxmlElement("w:outlineLvl")
    node.set(qn("w:val"), str(level))
    ppr.append(node)


def _asvs_like(path):
    """ASVS 4.0.3 Word shape: Heading 1/2 chapters and sections, requirements as table rows."""
    d = docx.Document()
    d.add_heading("Application Security Verification Standard 4.0.3", level=1)
    d.add_heading("Frontispiece", level=1)
    d.add_heading("About the Standard", level=2)
    d.add_paragraph("The Application Security Verification Standard is a list of requirements.")
    d.add_heading("V1 Architecture, Design and Threat Modeling", level=1)
    d.add_heading("Control Objective", level=2)
    d.add_paragraph("Security architecture has almost become a lost art.")
    d.add_heading("V1.1 Secure Software Development Lifecycle", level=2)
    rows = [
        ("#", "Description", "L1", "L2", "L3", "CWE"),
        ("1.1.1", "Verify the use of a secure software development lifecycle that addresses security. (C1)", "", "✓", "✓", ""),
        ("1.1.2", "Verify the use of threat modeling for every design change or sprint planning.", "", "✓", "✓", "1053"),
    ]
    table = d.add_table(rows=len(rows), cols=6)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.rows[r].cells[c].text = value
    d.add_heading("V1.2 Authentication Architecture", level=2)
    table = d.add_table(rows=1, cols=3)
    for c, value in enumerate(("1.2.1", "Verify the use of unique or special low-privilege operating system accounts,", "✓")):
        table.rows[0].cells[c].text = value
    d.add_heading("References", level=2)
    d.add_paragraph("OWASP Threat Modeling Cheat Sheet")
    d.add_heading("Appendix C: Internet of Things Verification Requirements", level=1)
    table = d.add_table(rows=1, cols=4)
    for c, value in enumerate(("C.1", "Verify that application layer debugging interfaces are disabled.", "✓", "4.0")):
        table.rows[0].cells[c].text = value
    d.save(path)


def test_docx_heading_styles_and_requirement_rows_become_clauses(tmp_path):
    path = tmp_path / "asvs-word.docx"
    _asvs_like(path)
    clauses = {c.number: c for c in parse_clauses(load_document(path))}
    assert {"1.1.1", "1.1.2", "1.2.1", "C.1", "Control Objective", "About the Standard"} <= set(clauses)
    # V1.1 has no text of its own once the column-label row is left out: it is only a path entry
    assert "V1.1" not in clauses
    req = clauses["1.1.2"]
    assert req.title == "Verify the use of threat modeling for every design change or sprint planning."
    assert req.path[:2] == ["V1 Architecture, Design and Threat Modeling", "V1.1 Secure Software Development Lifecycle"]
    assert req.text.startswith("Verify the use of threat modeling")
    # a comma-ending requirement keeps its whole text and is not rejected
    assert clauses["1.2.1"].title.endswith("accounts,")
    assert clauses["C.1"].title == "Verify that application layer debugging interfaces are disabled."
    assert clauses["About the Standard"].path == ["Frontispiece", "About the Standard"]
    # the column-label row "# Description L1 …" is neither a heading nor any clause's text
    assert not any(c.number.startswith("#") or "Description L1" in c.text for c in clauses.values())


def test_docx_chinese_heading_style_names_and_outline_levels(tmp_path):
    from docx.enum.style import WD_STYLE_TYPE

    d = docx.Document()
    style = d.styles.add_style("标题 1", WD_STYLE_TYPE.PARAGRAPH)
    derived = d.styles.add_style("我的二级标题", WD_STYLE_TYPE.PARAGRAPH)
    derived.base_style = d.styles["Heading 2"]
    d.add_paragraph("1 范围", style=style)
    d.add_paragraph("本标准规定了呼叫中心的服务要求。")
    d.add_paragraph("2 术语", style=style)
    d.add_paragraph("2.1 坐席", style=derived)
    d.add_paragraph("处理来电的人员。")
    p = d.add_paragraph("2.2 呼叫中心")  # direct outline level, no heading style
    _outline(p, 1)
    d.add_paragraph("集中处理呼叫的机构。")
    d.add_paragraph("# 不是标题的正文")
    path = tmp_path / "zh.docx"
    d.save(path)
    doc = load_document(path)
    assert doc.pages[0].text.splitlines()[:3] == ["# 1 范围", "本标准规定了呼叫中心的服务要求。", "# 2 术语"]
    assert "\\# 不是标题的正文" in doc.pages[0].text.splitlines()
    clauses = parse_clauses(doc)
    assert [(c.number, c.path) for c in clauses] == [
        ("1", ["1 范围"]),
        ("2.1", ["2 术语", "2.1 坐席"]),
        ("2.2", ["2 术语", "2.2 呼叫中心"]),
    ]
    assert clauses[-1].text == "集中处理呼叫的机构。\n# 不是标题的正文"


NMPA_LIKE = """# 医疗器械注册与备案管理办法

2021年8月26日 国家市场监督管理总局令第47号公布

<!-- INFO END -->

## 第一章 总 则

第一条 为了规范医疗器械注册与备案行为，制定本办法。

第二条 在中华人民共和国境内从事医疗器械注册活动，适用本办法。

## 第三章 医疗器械注册

### 第一节 产品研制

第三条 医疗器械研制应当遵循风险管理原则。依照第二条规定的要求进行。

第二条规定的情形除外的，不适用本条。

### 第二节 临床评价

第四条 医疗器械临床评价是指采用科学合理的方法。

## 第四章 特殊注册程序

### 第一节 创新产品注册程序

第五条 符合下列要求的医疗器械，可以申请适用创新产品注册程序：

（一）申请人通过其主导的技术创新活动，依法拥有产品核心技术发明专利权；

（二）产品主要工作原理或者作用机理为国内首创。
"""


def test_markdown_articles_under_chapter_and_section_headings(tmp_path):
    path = tmp_path / "nmpa.md"
    path.write_text(NMPA_LIKE, encoding="utf-8")
    clauses = parse_clauses(load_document(path))
    numbered = [c for c in clauses if not c.number.startswith("¶")]
    assert [c.number for c in numbered] == ["第一条", "第二条", "第三条", "第四条", "第五条"]
    by = {c.number: c for c in numbered}
    assert by["第三条"].path == ["第三章 医疗器械注册", "第一节 产品研制", "第三条"]
    assert by["第五条"].path == ["第四章 特殊注册程序", "第一节 创新产品注册程序", "第五条"]
    # a cross-reference wrapped to a line start stays in its article; list items stay in theirs
    assert "第二条规定的情形除外的" in by["第三条"].text
    assert "（二）产品主要工作原理" in by["第五条"].text


def test_markdown_numbered_lists_under_dotted_headings_stay_body_text(tmp_path):
    path = tmp_path / "lists.md"
    path.write_text(
        "# Guide\n\n## 4 Planning\n\n### 4.5 Leadership support\n\nLeaders should:\n\n"
        "1. meet the team monthly;\n2. review the budget.\n\n## 5 Operations\n\nText.\n",
        encoding="utf-8",
    )
    assert [c.number for c in parse_clauses(load_document(path))] == ["4.5", "5"]


def test_markdown_markup_rewritten_without_backtracking_keeps_its_meaning():
    from assistant.documents import _clean_markdown

    raw = (
        "---\ntitle: x\n---\n## 1 Scope ##\n# Language C#\n<!-- hidden -->kept **bold** and __under__ "
        "[link](http://a.b \"t\") ![img](p.png) `code`\n| a | b |\n| --- | :---: |\n| 1 | 2 |\n"
        "> quoted  \nline\\\n- - -\n\n\n\n<!-- never closed"
    )
    assert _clean_markdown(raw).splitlines() == [
        "## 1 Scope",
        "# Language C#",
        "kept bold and under link img code",
        "| a | b |",
        "",
        "| 1 | 2 |",
        "quoted",
        "line",
        "",
        "<!-- never closed",
    ]


def test_markdown_requirement_table_rows_under_prefixed_headings(tmp_path):
    """The ASVS release Markdown: `## V1.1 …` headings, requirements as `| **1.1.1** | … | ✓ |` rows."""
    path = tmp_path / "asvs.md"
    path.write_text(
        "# V1 Architecture, Design and Threat Modeling\n\n## V1.1 Secure Software Development Lifecycle\n\n"
        "| # | Description | L1 | L2 | L3 | CWE |\n| :---: | :--- | :---: | :---: | :---: | :---: |\n"
        "| **1.1.1** | Verify the use of a secure software development lifecycle. ([C1](https://owasp.org/)) | | ✓ | ✓ | |\n"
        "| **1.1.2** | Verify the use of threat modeling for every design change. | | ✓ | ✓ | 1053 |\n",
        encoding="utf-8",
    )
    by = {c.number: c for c in parse_clauses(load_document(path))}
    assert by["1.1.1"].title == "Verify the use of a secure software development lifecycle. (C1)"
    assert by["1.1.2"].title == "Verify the use of threat modeling for every design change."
    assert by["1.1.2"].path == [
        "V1 Architecture, Design and Threat Modeling",
        "V1.1 Secure Software Development Lifecycle",
        "1.1.2 Verify the use of threat modeling for every design change.",
    ]


def test_markdown_articles_under_chinese_list_headings(tmp_path):
    path = tmp_path / "rules.md"
    path.write_text(
        "# 管理办法\n\n## 一、总则\n\n第一条 为了规范服务，制定本办法。\n\n第二条 本办法适用于呼叫中心。\n\n"
        "## 二、附则\n\n第三条 本办法自发布之日起施行。\n",
        encoding="utf-8",
    )
    clauses = [c for c in parse_clauses(load_document(path)) if not c.number.startswith("¶")]
    assert [(c.number, c.path[0]) for c in clauses] == [("第一条", "一 总则"), ("第二条", "一 总则"), ("第三条", "二 附则")]
