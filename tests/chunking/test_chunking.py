"""Clause parser and passage splitter (fixtures in tests/data/docs, see make_fixtures.py)."""

from __future__ import annotations


import pytest

from assistant.chunking import parse_clauses, split_passages
from assistant.documents import load_document
from assistant.records import Clause, Document, Page
from tests.support.paths import DATA

DOCS = DATA / "docs"


def clauses_of(name: str) -> list[Clause]:
    return parse_clauses(load_document(DOCS / name))


def by_number(clauses: list[Clause]) -> dict[str, Clause]:
    return {c.number: c for c in clauses}


def pdf_like(pages: list[str], doc_id: str = "synthetic", title: str = "Synthetic", lang: str = "zh") -> Document:
    return Document(
        id=doc_id,
        title=title,
        source=f"{doc_id}.pdf",
        format="pdf",
        lang=lang,
        pages=[Page(number=i, text=t) for i, t in enumerate(pages, start=1)],
        has_pages=True,
    )


ZH_NUMBERS = ["前言", "1", "2", "3.1", "3.2", "4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "5.1", "5.2", "5.3.1", "5.3.2"]


# --------------------------------------------------------------------------- dotted numbering


@pytest.fixture(scope="module")
def zh_pdf() -> list[Clause]:
    return clauses_of("zh-guidance.pdf")


def test_dotted_numbering_with_hierarchy_path(zh_pdf):
    numbered = [c.number for c in zh_pdf if not c.number.startswith("¶")]
    assert numbered == ZH_NUMBERS
    c = by_number(zh_pdf)
    assert c["4.5"].path == ["4 规划及发展方向", "4.5 企业高层领导支持"]
    assert c["4.5"].title == "企业高层领导支持"
    assert c["4.5"].id == "zh-guidance:4.5"
    assert c["4.5"].text == "企业高层领导应定期听取呼叫中心工作汇报，在资源配置、组织保障和跨部门协调方面给予支持。"
    assert c["5.3.1"].path == ["5 人员管理", "5.3 人员考核", "5.3.1 考核原则"]
    assert c["4.5"].lang == "zh" and c["4.5"].document == "zh-guidance"


def test_front_matter_heading_is_a_clause(zh_pdf):
    c = by_number(zh_pdf)["前言"]
    assert c.title == "前言" and c.path == ["前言"]
    assert c.text.startswith("本文件按照示例规则起草。")


def test_heading_without_body_is_not_a_clause_but_in_paths(zh_pdf):
    numbers = {c.number for c in zh_pdf}
    assert {"3", "4", "5", "5.3"}.isdisjoint(numbers)
    assert by_number(zh_pdf)["3.2"].path[0] == "3 术语、定义和缩略语"


def test_pdf_and_markdown_give_the_same_clauses(zh_pdf):
    md = clauses_of("zh-guidance.md")
    assert [c.number for c in md] == [c.number for c in zh_pdf]
    assert [c.path for c in md] == [c.path for c in zh_pdf]
    for a, b in zip(md, zh_pdf, strict=True):
        # the same text apart from where paragraph breaks fall
        assert a.text.replace("\n", "") == b.text.replace("\n", ""), a.number
    assert all(c.page_start is None and c.page_end is None for c in md)


def test_list_items_stay_in_the_clause_body(zh_pdf):
    c = by_number(zh_pdf)["4.2"]
    assert c.text.splitlines() == [
        "呼叫中心应制定清晰的战略指导方针，至少包括以下内容：",
        "a) 服务定位和目标客户群体；",
        "b) 服务渠道和服务时间；",
        "c) 服务质量目标和关键绩效指标。",
    ]


def test_pdf_line_wraps_rejoined(zh_pdf):
    c = by_number(zh_pdf)["4.3"]
    assert "\n" not in c.text
    assert "并作为下一年度经营计划的输入。" in c.text  # wrapped after 下一 in the PDF
    en = by_number(clauses_of("en-guidance.pdf"))
    assert "clause parsing, running header removal and pagination" in en["Foreword"].text
    assert en["2.2"].text.splitlines()[1:] == [
        "a) the service positioning and target customer groups;",
        "b) the service channels and service hours;",
        "c) the service quality targets and key performance indicators.",
    ]


def test_cross_references_are_not_headings(zh_pdf):
    c = by_number(zh_pdf)["4.1"]
    assert "按5.3.2的要求明确人员配置，并符合 4.2 条的战略指导方针" in c.text
    clauses = clauses_of("crossref-en.txt")
    assert [c.number for c in clauses] == ["1.1", "1.2", "2.1", "2.2"]
    c = by_number(clauses)
    assert "see Rule 3.6A.4 for the record-keeping requirements that 3.6 applies" in c["1.1"].text
    assert c["1.2"].text.endswith("and Rule 2.1 Definitions of the glossary are to be read accordingly.")
    assert c["2.1"].path == ["2 Conduct", "2.1 Definitions"]


def test_false_headings_from_wrapped_lines_and_toc_are_rejected():
    clauses = clauses_of("toc-zh.txt")
    assert [c.number for c in clauses] == ["前言", "1", "2", "4.1", "4.2", "4.5"]
    c = by_number(clauses)
    # "5.3.2 的要求", "4.2 条的规定", "5 个工作日" and "2.1 现场监控要求" start wrapped lines
    assert "5.3.2 的要求执行" in c["4.1"].text
    assert "4.2 条的规定" in c["4.1"].text
    assert "5 个工作日内完成" in c["4.1"].text
    assert "2.1 现场监控要求" in c["4.1"].text
    assert c["前言"].text == "本文件按照示例规则起草。"
    assert all("...." not in x.text and "……" not in x.text for x in clauses)


# --------------------------------------------------------------------------- table of contents, running headers


def test_pdf_table_of_contents_is_skipped(zh_pdf):
    raw = load_document(DOCS / "zh-guidance.pdf").pages[1].text
    assert raw.splitlines()[1].strip() == "目次"  # the contents page is there ...
    numbers = [c.number for c in zh_pdf]
    assert len(numbers) == len(set(numbers))  # ... but no heading is taken twice
    assert all(". . ." not in c.text and "目次" not in c.text for c in zh_pdf)
    assert by_number(zh_pdf)["前言"].page_start == 3  # the real heading, not the contents entry


def test_running_headers_footers_and_page_numbers_removed(zh_pdf):
    doc = load_document(DOCS / "zh-guidance.pdf")
    header = "呼叫中心服务质量示例指导要求（测试样例）"
    assert all(page.text.splitlines()[0] == header for page in doc.pages[1:])
    assert f"— {doc.pages[2].number} —" in doc.pages[2].text
    for c in zh_pdf:
        assert header not in c.text and "测试样例" not in c.text
        assert "— " not in c.text and " —" not in c.text, c.number
    c = by_number(zh_pdf)["5.3.1"]
    assert (c.page_start, c.page_end) == (4, 5)  # runs over a page break ...
    assert "\n".join(c.text.splitlines()[1:]).startswith("考核周期分为月度考核")
    assert "被评为待改进的人员应当接受针对性辅导，并在下一考核周期内复评。" in c.text  # ... joined


def test_page_ranges(zh_pdf):
    c = by_number(zh_pdf)
    assert (c["1"].page_start, c["1"].page_end) == (3, 3)
    assert c["5.3.2"].page_start == 5
    assert all(x.page_start <= x.page_end for x in zh_pdf)


def test_repeated_headers_detected_without_hardcoded_strings():
    header = "T/CCEA 001—2012 呼叫中心服务质量指南"
    body = [
        ["1 范围", "本文件规定了呼叫中心服务的基本要求。"],
        ["2 术语", "下列术语适用于本文件。"],
        ["3 要求", "3.1 总体要求", "呼叫中心应建立管理制度。"],
        ["3.2 人员", "座席人员应经过培训。"],
        ["4 评估", "每年评估一次。"],
    ]
    pages = [
        "\n".join([header, *lines, f"第 {n} 页 共 5 页", f"{n + 10}"]) for n, lines in enumerate(body, start=1)
    ]
    clauses = parse_clauses(pdf_like(pages))
    assert [c.number for c in clauses] == ["1", "2", "3.1", "3.2", "4"]
    for c in clauses:
        assert "T/CCEA" not in c.text and "页" not in c.text and not any(ch.isdigit() for ch in c.text), c.text
    assert by_number(clauses)["3.2"].page_start == 4


def test_page_x_of_y_and_roman_numerals():
    pages = []
    for n, lines in enumerate(
        [["Foreword", "This guide was drafted by the committee."], ["1 Scope", "This guide applies to call centres."],
         ["2 Terms", "Terms are defined here."], ["3 Requirements", "Operators shall keep records."]],
        start=1,
    ):  # fmt: skip
        pages.append("\n".join(["Call Centre Guide", *lines, f"Page {n} of 4"]))
    clauses = parse_clauses(pdf_like(pages, lang="en"))
    assert [c.number for c in clauses] == ["Foreword", "1", "2", "3"]
    assert all("Page" not in c.text and "Call Centre Guide" not in c.text for c in clauses)


def test_number_only_heading_line_and_false_heading_in_later_chapter():
    lines = ["7 现场管理", "7.1", "综述", "现场管理人员应当实时监控话务量和服务水平，发现异常时按照应急预案处理，并将处理情况记录在案，",
             "2.1 现场监控要求", "7.2 排班管理", "排班应当依据话务预测。", "7.3 应急措施", "应急预案每年演练一次。"]  # fmt: skip
    clauses = parse_clauses(pdf_like(["\n".join(lines)]))
    assert [c.number for c in clauses] == ["7.1", "7.2", "7.3"]
    c = by_number(clauses)["7.1"]
    assert c.title == "综述" and c.path == ["7 现场管理", "7.1 综述"]
    assert c.text.endswith("并将处理情况记录在案，2.1 现场监控要求")


# --------------------------------------------------------------------------- other numbering styles


def test_statute_chapters_sections_articles():
    clauses = clauses_of("statute-zh.txt")
    assert [c.number for c in clauses] == ["第一条", "第二条", "第三条", "第四条", "第五条", "第六条", "第七条"]
    c = by_number(clauses)
    assert c["第一条"].title == ""
    assert c["第一条"].text == "为了规范呼叫中心服务，保护用户合法权益，制定本条例。"
    assert c["第一条"].path == ["第一章 总则", "第一条"]
    assert c["第三条"].path == ["第二章 服务规范", "第一节 一般规定", "第三条"]
    assert c["第四条"].title == "服务承诺"
    assert c["第四条"].text == "呼叫中心应当向社会公布服务承诺，并按照承诺提供服务。"
    assert c["第七条"].path == ["第三章 附则", "第七条"]
    # （一）（二） items stay inside the article; a wrapped "第三条规定..." is not an article
    assert c["第五条"].text.splitlines() == [
        "有下列情形之一的，呼叫中心可以暂停服务：",
        "（一）系统发生重大故障的；",
        "（二）呼叫中心所在地发生自然灾害等不可抗力事件，或者依照本条例第三条规定需要暂停服务的其他情形。",
    ]
    assert c["第一条"].id == "statute-zh:第一条"


def test_chinese_list_numbering():
    clauses = clauses_of("cnlist-zh.txt")
    assert [c.number for c in clauses] == ["¶1", "一（一）", "一（二）1)", "一（二）2)", "二（一）", "二（二）", "三"]
    c = by_number(clauses)
    assert c["¶1"].text.startswith("各会员单位：")  # the title line itself is not repeated
    assert c["一（一）"].path == ["一 总体要求", "（一） 指导思想"]
    assert c["一（一）"].title == "指导思想"
    assert c["一（二）1)"].path == ["一 总体要求", "（二） 基本原则", "1)"]
    assert c["一（二）1)"].text == "依法合规。各单位应当遵守国家有关法律法规。"
    assert c["二（二）"].path == ["二 重点任务", "（二） 保护用户权益"]
    assert c["三"].path == ["三 保障措施"]


def test_paren_list_numbering():
    clauses = clauses_of("paren-en.txt")
    assert [c.number for c in clauses] == ["1)", "1)(a)", "1)(b)", "2)", "2)(a)", "2)(b)", "3)"]
    c = by_number(clauses)
    assert c["1)"].title == "Membership" and c["1)"].path == ["1) Membership"]
    assert c["2)(a)"].path == ["2) Meetings", "(a)"]
    assert c["2)(a)"].text == "Notice of the meeting is sent 30 days in advance."


def test_unnumbered_news_report_becomes_paragraph_clauses():
    doc = load_document(DOCS / "news-en.txt")
    clauses = parse_clauses(doc)
    assert [c.number for c in clauses] == [f"¶{i}" for i in range(1, len(clauses) + 1)]
    assert len(clauses) >= 2
    assert all(c.path == [doc.title] for c in clauses)
    assert all(len(c.title) <= 40 and c.text.startswith(c.title) for c in clauses)
    assert clauses[0].id == "news-en:¶1"
    # short paragraphs are grouped, but nothing is lost or reordered
    joined = "\n".join(c.text for c in clauses)
    assert "Nearly 200 people attended" in joined and joined.index("publicise") < joined.index("Experts")
    assert all(len(c.text) <= 600 for c in clauses if "\n" in c.text)


def test_markdown_duplicate_numbers_get_suffix(tmp_path):
    path = tmp_path / "dup.md"
    path.write_text("# T\n\n## 1 Scope\n\nFirst.\n\n## 2 Terms\n\nSecond.\n\n## 2 Terms\n\nAgain.\n", encoding="utf-8")
    ids = [c.id for c in parse_clauses(load_document(path))]
    assert ids == ["dup:1", "dup:2", "dup:2-2"]


def test_docx_and_html_are_parsed(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_heading("1 Scope", level=1)
    d.add_paragraph("This guide applies to call centres.")
    d.add_heading("2 Terms", level=1)
    d.add_heading("2.1 Agent", level=2)
    d.add_paragraph("A person who answers calls.")
    d.save(tmp_path / "g.docx")
    clauses = parse_clauses(load_document(tmp_path / "g.docx"))
    assert [(c.number, c.path) for c in clauses] == [("1", ["1 Scope"]), ("2.1", ["2 Terms", "2.1 Agent"])]
    (tmp_path / "g.html").write_text(
        "<h2>1 Scope</h2><p>This guide applies.</p><h2>2 Terms</h2><p>Terms.</p>", encoding="utf-8"
    )
    assert [c.number for c in parse_clauses(load_document(tmp_path / "g.html"))] == ["1", "2"]


# --------------------------------------------------------------------------- passages


def test_short_clause_is_one_passage(zh_pdf):
    c = by_number(zh_pdf)["4.5"]
    assert split_passages(c) == [split_passages(c)[0]]
    p = split_passages(c)[0]
    assert (p.id, p.clause_id, p.text, p.start, p.index_text) == (c.id, c.id, c.text, 0, "")


def test_long_clause_split_into_passages_citing_the_clause(zh_pdf):
    c = by_number(zh_pdf)["4.4"]
    assert len(c.text) > 600
    passages = split_passages(c, max_chars=200)
    assert len(passages) >= 3
    assert [p.id for p in passages] == [f"zh-guidance:4.4#{n}" for n in range(1, len(passages) + 1)]
    assert all(p.clause_id == c.id for p in passages)
    for p in passages:
        assert c.text[p.start : p.start + len(p.text)] == p.text
        assert 0 < len(p.text) <= 200
        assert p.text[-1] in "。；", p.text  # cut at sentence ends
    # the pieces cover the clause in order, with only whitespace between them
    pos = 0
    for p in passages:
        assert c.text[pos : p.start].strip() == ""
        pos = p.start + len(p.text)
    assert c.text[pos:].strip() == ""


def test_passage_overlap_and_hard_cut():
    text = " ".join(f"Sentence number {i} is here." for i in range(1, 30))
    clause = Clause("d:1", "d", "1", "T", ["1 T"], text, None, None, "en")
    plain = split_passages(clause, max_chars=120)
    overlapped = split_passages(clause, max_chars=120, overlap_sentences=1)
    assert len(overlapped) > len(plain)
    assert overlapped[1].text.startswith(overlapped[0].text.rsplit(". ", 1)[-1])
    for p in overlapped:
        assert text[p.start : p.start + len(p.text)] == p.text and len(p.text) <= 120
    long_sentence = "无标点的超长句子" * 100
    clause = Clause("d:2", "d", "2", "T", ["2 T"], long_sentence, None, None, "zh")
    pieces = split_passages(clause, max_chars=150)
    assert all(len(p.text) <= 150 for p in pieces)
    assert "".join(p.text for p in pieces) == long_sentence


def test_contents_without_marker_or_leaders_and_titles_ending_in_numbers():
    lines = ["1 Scope 1", "2 Terms 1", "3 Requirements 2",  # contents: page numbers, no dot leaders
             "1 Scope", "This guide applies to call centres.", "2 Terms", "Terms are defined here.",
             "3 Requirements", "3.1 Level 2", "Operators at level 2 shall keep records.",
             "3.2 ISO 9001", "Certification is recommended."]  # fmt: skip
    clauses = parse_clauses(pdf_like(["\n".join(lines)], lang="en"))
    assert [c.number for c in clauses] == ["1", "2", "3.1", "3.2"]
    assert by_number(clauses)["3.2"].title == "ISO 9001"
    assert by_number(clauses)["1"].text == "This guide applies to call centres."


def test_markdown_unnumbered_subheadings_and_annex(tmp_path):
    path = tmp_path / "m.md"
    path.write_text(
        "# Title\n\n## 1 Scope\n\nScope text.\n\n### Notes\n\nA note.\n\n## Annex A Glossary\n\nWords.\n", encoding="utf-8"
    )
    c = by_number(parse_clauses(load_document(path)))
    assert c["Notes"].path == ["1 Scope", "Notes"]
    assert (c["Annex A"].title, c["Annex A"].path) == ("Glossary", ["Annex A Glossary"])
    assert "Title" not in c  # the document title is not a clause
