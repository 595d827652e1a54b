"""Defect classes of real documents (issue 14), one small fixture each.

The fixtures are Document objects built from a few lines cut from the real documents the
parsing benchmark uses (NIST SP 800-63B / 800-171r2, OWASP ASVS 4.0.3; public domain /
CC BY-SA 4.0) or written in the shape of a CNKI-exported Chinese standard; every test failed on
the parser before issue 14.
"""

from __future__ import annotations

import pytest

from assistant.chunking import parse_clauses
from assistant.chunking.lines import printed_page_labels
from assistant.records import Clause, Document, Page
from tests.support.paths import DATA

HEADER = [
    "NIST SP 800-63B DIGITAL IDENTITY GUIDELINES:",
    "AUTHENTICATION & LIFECYCLE MANAGEMENT",
    "{n}",
    "This publication is available free of charge from: https://doi.org/10.6028/NIST.SP.800-63b",
]


def doc_of(pages: list[str], lang: str = "en", doc_id: str = "d") -> Document:
    return Document(
        id=doc_id,
        title="Test document",
        source=f"{doc_id}.pdf",
        format="pdf",
        lang=lang,
        pages=[Page(number=i, text=t) for i, t in enumerate(pages, start=1)],
        has_pages=True,
    )


def numbers(clauses: list[Clause]) -> list[str]:
    return [c.number for c in clauses if not c.number.startswith("¶")]


def by_number(clauses: list[Clause]) -> dict[str, Clause]:
    return {c.number: c for c in clauses}


def with_header(body: str, n: int) -> str:
    return "\n".join(line.format(n=n) for line in HEADER) + "\n" + body


FILLER = "The verifier SHALL use approved cryptography for every exchange it makes with the claimant."


# --------------------------------------------------------------------------- numbering forms


def test_spaced_cnki_numbers_are_clause_numbers():
    text = (
        "3 术语和定义\n下列术语和定义适用于本文件。\n"
        "3. 1 实时流\n按时间顺序连续传输的音视频数据。\n"
        "3. 2 历史流\n存储后回放的音视频数据。\n"
        "4 分类\n4. 1 按用途\n分为监控用和记录用。\n"
        "4. 2 按接口\n分为有线和无线。\n"
        "4. 3 按供电\n分为交流和直流。\n"
        "4. 3. 1 帧结构\n每一帧由帧头和帧体组成。\n"
        "4. 3. 2 校验\n帧尾携带校验字节。\n"
    )
    clauses = parse_clauses(doc_of([text], lang="zh"))
    assert numbers(clauses) == ["3", "3.1", "3.2", "4.1", "4.2", "4.3", "4.3.1", "4.3.2"]
    assert by_number(clauses)["4.3.1"].path == ["4 分类", "4.3 按供电", "4.3.1 帧结构"]


def test_full_width_numbers_are_clause_numbers():
    text = "４ 总体要求\n４．１ 一般规定\n应符合本文件的规定。\n４．２ 安全\n应保障数据安全。\n"
    assert numbers(parse_clauses(doc_of([text], lang="zh"))) == ["4.1", "4.2"]


def test_byte_table_rows_do_not_become_the_clause_chain():
    body = (
        "5 数据格式\n5. 1 帧头\n帧头由下表所列字段组成。\n表1 帧头字段\n字节 字段 类型\n"
        "1 实时流分辨率 BYTE\n2 历史流分辨率 BYTE\n3 通道号 BYTE\n4 码率 WORD\n5 帧率 BYTE\n29 ～ 90 保留\n"
        "5. 2 帧体\n帧体为压缩后的音视频数据。\n5. 3 帧尾\n帧尾为两个字节的校验和。\n"
        "6 检验方法\n6. 1 抽样\n按批抽样检验。\n"
    )
    got = numbers(parse_clauses(doc_of([body], lang="zh")))
    assert got == ["5.1", "5.2", "5.3", "6.1"]
    assert "1" not in got and "29" not in got


def test_annex_title_on_the_line_after_the_annex_kind():
    text = (
        "1 范围\n本文件规定了要求。\n2 要求\n2.1 一般\n应符合规定。\n"
        "附录A\n（规范性附录）\n检验规则\nA.1 组批\n同一批次为一批。\nA.2 抽样\n每批抽取三件。\n"
    )
    clauses = parse_clauses(doc_of([text], lang="zh"))
    got = by_number(clauses)
    assert got["A.1"].path[0] == "附录A 检验规则"
    assert "A.2" in got and got["A.2"].text == "每批抽取三件。"


def test_gb_untitled_provision_is_its_own_clause():
    text = (
        "4 自然环境\n4.1 总体要求\n产地应具备良好的生态环境。\n"
        "4.2 地理位置在北纬 45°以北，东经 125°以东的区域。\n"
        "4.3 年平均气温在 3 ℃以上。\n"
        "5 感官要求\n5.1 色泽\n应有光泽。\n5.2 应有大米固有的自然清香味。\n"
    )
    got = by_number(parse_clauses(doc_of([text], lang="zh")))
    assert got["4.2"].text.startswith("地理位置在北纬")
    assert got["4.2"].title.startswith("地理位置")
    assert "4.3" in got and "地理位置" not in got["4.1"].text
    assert got["5.2"].text == "应有大米固有的自然清香味。"


# --------------------------------------------------------------------------- requirement tables


ASVS_PAGE = """V1 Architecture, Design and Threat Modeling
Control Objective
Security architecture has almost become a lost art in many organizations.
V1.1 Secure Software Development Lifecycle
# Description L1 L2 L3 CWE
1.1.1 Verify the use of a secure software development lifecycle that addresses
security in all stages of development. (C1)
✓ ✓
1.1.2 Verify the use of threat modeling for every design change or sprint planning
to identify threats, plan for countermeasures, facilitate appropriate risk
responses, and guide security testing.
✓ ✓ 1053
V1.2 Authentication Architecture
1.2.1 Verify the use of unique or special low-privilege operating system accounts for all
application components, services, and servers. (C3)
✓ ✓ 250
1.2.2 Verify that communications between application components, including APIs,
middleware and data layers, are authenticated.
✓ ✓ 306
"""


def test_requirement_rows_become_clauses_with_their_whole_text():
    got = by_number(parse_clauses(doc_of([ASVS_PAGE])))
    assert set(got) >= {"1.1.1", "1.1.2", "1.2.1", "1.2.2"}
    assert got["1.1.2"].text.startswith("Verify the use of threat modeling")
    assert "guide security testing." in got["1.1.2"].text
    assert got["1.1.2"].title.startswith("Verify the use of threat modeling")
    assert got["1.2.2"].path[:2] == ["V1 Architecture, Design and Threat Modeling", "V1.2 Authentication Architecture"]


def test_a_rejected_first_item_does_not_wipe_out_its_section():
    # the first requirement's first printed line ends in a comma (as in all of ASVS V7)
    page = (
        "V7 Error Handling and Logging\n"
        "V7.1 Log Content\n"
        "7.1.1 Verify that the application does not log credentials or payment details,\n"
        "session tokens should only be stored in logs in an irreversible, hashed form.\n"
        "✓ ✓ ✓ 532\n"
        "7.1.2 Verify that the application does not log other sensitive data as defined\n"
        "under local privacy laws or relevant security policy.\n"
        "✓ ✓ ✓ 532\n"
        "7.1.3 Verify that the application logs security relevant events.\n"
        "✓ ✓ 778\n"
    )
    assert numbers(parse_clauses(doc_of([page]))) == ["7.1.1", "7.1.2", "7.1.3"]


def test_wrapped_comma_ending_requirements_are_clauses():
    page = (
        "3.1 ACCESS CONTROL\n"
        "3.1.1 Limit system access to authorized users, processes acting on behalf of authorized users, and\n"
        "devices (including other systems).\n"
        "DISCUSSION\n"
        "Access control policies control access between active entities and passive entities.\n"
        "3.1.2 Limit system access to the types of transactions and functions that authorized users are\n"
        "permitted to execute.\n"
        "DISCUSSION\n"
        "Organizations may choose to define access privileges or other attributes by account.\n"
        "3.1.3 Control the flow of CUI in accordance with approved authorizations.\n"
        "DISCUSSION\n"
        "Information flow control regulates where information can travel within a system.\n"
    )
    got = by_number(parse_clauses(doc_of([page])))
    assert set(got) == {"3.1.1", "3.1.2", "3.1.3"}
    assert got["3.1.1"].text.startswith("Limit system access to authorized users")


# --------------------------------------------------------------------------- running headers, page labels


def test_four_line_running_header_is_removed_and_gives_the_page_label():
    titles = ["Purpose", "Scope", "Terms", "Levels", "Verifiers", "Binding", "Sessions", "Threats", "Privacy"]
    pages = [with_header(f"{n + 1} {titles[n - 1]}\nThe {titles[n - 1].lower()} part applies to page {n}.", n) for n in range(1, 10)]
    labels = printed_page_labels(pages)  # what the PDF loader stores as Page.label
    assert labels == [str(n) for n in range(1, 10)]
    doc = doc_of(pages)
    doc.pages = [Page(p.number, p.text, label) for p, label in zip(doc.pages, labels)]
    clauses = parse_clauses(doc)
    assert numbers(clauses) == [str(n) for n in range(2, 11)]
    for c in clauses:
        assert "available free of charge" not in c.text and "DIGITAL IDENTITY" not in c.text
    assert [c.page_label_start for c in clauses] == labels


def test_roman_and_full_width_page_numerals_in_footers():
    numerals = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "Ⅵ", "Ⅶ", "Ⅷ", "Ⅸ"]
    pages = [f"{k + 1} 第{k + 1}章\n应符合规定。\n{numerals[k]}" for k in range(9)]
    clauses = parse_clauses(doc_of(pages, lang="zh"))
    assert all(not any(n in c.text for n in numerals) for c in clauses)
    assert printed_page_labels(pages) == ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"]


# --------------------------------------------------------------------------- the contents list as evidence


TOC_63B = """Table of Contents
1 Purpose ................................................................. 1
2 Introduction ............................................................ 2
4 Authenticator Assurance Levels .......................................... 5
Authenticator Assurance Level 1 ......................................... 5
4.1.1 Permitted Authenticator Types ..................................... 5
4.1.2 Authenticator and Verifier Requirements ........................... 6
Authenticator Assurance Level 2 ......................................... 6
4.2.1 Permitted Authenticator Types ..................................... 7
Authenticator Assurance Level 3 ......................................... 8
4.3.1 Permitted Authenticator Types ..................................... 8
Privacy Requirements .................................................... 8
"""


def test_second_level_numbers_missing_from_the_text_layer_come_from_the_contents():
    body = (
        "1 Purpose\n" + FILLER + "\n"
        "2 Introduction\n" + FILLER + "\n"
        "Table 2-1 Normative and Informative Sections of SP 800-63B\n"
        "1. Purpose Informative\n2. Introduction Informative\n4. Authenticator Assurance Levels Normative\n"
        "4 Authenticator Assurance Levels\nThis section contains both normative and informative material.\n"
        "Authenticator Assurance Level 1\nThis section is normative.\n"
        "4.1.1 Permitted Authenticator Types\n" + FILLER + "\n"
        "4.1.2 Authenticator and Verifier Requirements\n" + FILLER + "\n"
        "Authenticator Assurance Level 2\nAAL2 provides high confidence.\n"
        "4.2.1 Permitted Authenticator Types\n" + FILLER + "\n"
        "Authenticator Assurance Level 3\nAAL3 provides very high confidence.\n"
        "4.3.1 Permitted Authenticator Types\n" + FILLER + "\n"
        "Privacy Requirements\nThe CSP SHALL employ appropriate privacy measures.\n"
    )
    clauses = parse_clauses(doc_of([TOC_63B, body]))
    got = by_number(clauses)
    assert numbers(clauses) == ["1", "2", "4", "4.1", "4.1.1", "4.1.2", "4.2", "4.2.1", "4.3", "4.3.1", "4.4"]
    assert got["4.1"].title == "Authenticator Assurance Level 1"
    assert got["4"].text.startswith("This section contains")  # the real heading, not the table row
    assert got["4.2.1"].path[1] == "4.2 Authenticator Assurance Level 2"


def test_unnumbered_contents_entries_become_headings():
    toc = (
        "Table of Contents\nV1 Architecture ........ 2\nControl Objective ........ 2\n"
        "V1.1 Secure Lifecycle ........ 2\nReferences ........ 2\nV2 Authentication ........ 2\n"
        "Control Objective ........ 2\n"
    )
    body = (
        "V1 Architecture\nControl Objective\nSecurity architecture is a lost art.\n"
        "V1.1 Secure Lifecycle\n1.1.1 Verify the use of a secure lifecycle.\n✓ ✓\n"
        "References\nFor more information, see the OWASP Cheat Sheets.\n"
        "V2 Authentication\nControl Objective\nAuthentication establishes who someone is.\n"
    )
    got = [c.number for c in parse_clauses(doc_of([toc, body]))]
    assert got == ["Control Objective", "1.1.1", "References", "Control Objective"]


def test_recurring_unnumbered_subheadings_group_their_clauses():
    families = []
    for f in (1, 2, 3):
        families.append(
            f"3.{f} FAMILY {f}\nBasic Security Requirements\n"
            f"3.{f}.1 Limit access to systems of kind {f}, and to the devices of kind {f}.\nDISCUSSION\n{FILLER}\n"
            f"Derived Security Requirements\n3.{f}.2 Control the flow of data of kind {f}.\nDISCUSSION\n{FILLER}\n"
        )
    clauses = parse_clauses(doc_of(["3 THE REQUIREMENTS\n" + "".join(families)]))
    got = by_number(clauses)
    assert got["3.2.1"].path == ["3 THE REQUIREMENTS", "3.2 FAMILY 2", "Basic Security Requirements", got["3.2.1"].path[-1]]
    assert got["3.2.2"].path[2] == "Derived Security Requirements"


def test_bodiless_unnumbered_heading_heads_the_ones_below_and_deleted_rows_count():
    toc = (
        "Table of Contents\nFrontispiece ........ 2\nAbout the Standard ........ 2\n"
        "Copyright and License ........ 2\nV1 Architecture ........ 2\nSecurity Verification Requirements ........ 2\n"
        "V1.1 Secure Lifecycle ........ 2\n"
    )
    body = (
        "Frontispiece\nAbout the Standard\nThe ASVS is a list of application security requirements.\n"
        "Copyright and License\nVersion 4.0.3, October 2021.\n"
        "V1 Architecture\nSecurity architecture is a lost art.\nSecurity Verification Requirements\n"
        "V1.1 Secure Lifecycle\n1.1.1 Verify the use of a secure lifecycle.\n✓ ✓\n"
        "1.1.2 [DELETED, NOT ACTIONABLE]\n1.1.3 Verify that all user stories contain security constraints.\n✓ ✓ 1110\n"
    )
    got = by_number(parse_clauses(doc_of([toc, body])))
    assert got["About the Standard"].path == ["Frontispiece", "About the Standard"]
    assert got["Copyright and License"].path == ["Frontispiece", "Copyright and License"]
    assert got["1.1.1"].path[:3] == ["V1 Architecture", "Security Verification Requirements", "V1.1 Secure Lifecycle"]
    assert got["1.1.2"].text == "[DELETED, NOT ACTIONABLE]"


def test_front_matter_headings_before_the_first_numbered_heading():
    front = (
        "Authority\n"
        "This publication has been developed by NIST in accordance with its statutory responsibilities under\n"
        "the Federal Information Security Modernization Act of 2014, and it is not subject to copyright.\n"
        "Patent Disclosure Notice\n"
        "NOTICE: The Information Technology Laboratory has requested that holders of patent claims disclose\n"
        "such patent claims to ITL, and no such patent claims have been identified to ITL.\n"
        "CAUTIONARY NOTE\n"
        "The security requirements in this publication apply only to components of nonfederal systems.\n"
    )
    body = "1 Introduction\n" + FILLER + "\n2 Fundamentals\n" + FILLER + "\n3 Requirements\n" + FILLER + "\n"
    got = [c.number for c in parse_clauses(doc_of([front, body]))]
    assert got[:2] == ["Authority", "Patent Disclosure Notice"]
    assert "CAUTIONARY NOTE" not in got and got[-3:] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("name", "labels"),
    [
        ("cnki-style-standard", [None, "I", "II", "1", "2", "3", "4"]),
        ("word-style-provincial-standard", [None, "1", "2"]),
    ],
)
def test_generated_chinese_standards_parse_as_their_truth_files(name, labels):
    """tests/data/parsing/*.pdf (scripts/make_cnki_sample.py): every truth row is a clause with
    that title (or, for an untitled provision, its first words) on that page, or a heading in a
    clause's path when it has no body; no other numbered clause; labels from the footers."""
    from assistant.documents import load_document

    data = DATA / "parsing"
    doc = load_document(data / f"{name}.pdf")
    assert [p.label for p in doc.pages] == labels
    clauses = parse_clauses(doc)
    got = by_number(clauses)
    rows = [line.split("\t") for line in (data / f"{name}.truth.tsv").read_text("utf-8").splitlines()[1:]]
    for number, title, page in rows:
        if number not in got:
            assert any(p == f"{number} {title}" for c in clauses for p in c.path[:-1]), number
            continue
        clause = got[number]
        assert clause.page_start == int(page), number
        assert clause.title == title if title else clause.text.startswith(clause.title), number
    assert set(numbers(clauses)) <= {r[0] for r in rows}


def test_ocr_layer_numbers_and_letter_spacing():
    toc = (
        "目 次\n7 检验规则 ........ 3\n7.4 抽样 ........ 3\n7.5 判定规则 ........ 3\n8 检验 ........ 4\n"
        "8.1 检验分类 ........ 4\n8.2 出厂检验 ........ 4\n"
    )
    body = (
        "7 检验规则\n7.4 抽样\n按批随机抽样。\n7,5 判定规则\n全部项目合格判为合格。\n"
        "8 检验\n81 检验分类\n检验分为出厂检验和型式检验。\n8.2 出厂检验\n每批产品应进行出厂检验。\n"
        "9 标 志\n9.1 地 理标 志产 品\n应标注产地。\n"
    )
    got = by_number(parse_clauses(doc_of([toc, body], lang="zh")))
    assert got["7.5"].title == "判定规则"
    assert got["8.1"].title == "检验分类" and "81" not in got
    assert got["9.1"].title == "地理标志产品"


def test_short_gb_provisions_and_annex_kind_on_the_annex_line():
    text = (
        "5 感官要求\n5.1 色泽\n米粒应有光泽。\n5.2 应有光泽\n5.3 应无异味\n"
        "6 标志\n6.1 一般\n应标注产地。\n"
        "附录A （规范性附录） 检验规则\nA.1 组批\n同一批次为一批。\n"
    )
    got = by_number(parse_clauses(doc_of([text], lang="zh")))
    assert got["5.2"].text == "应有光泽" and got["5.3"].text == "应无异味"
    assert got["A.1"].path[0] == "附录A 检验规则"


def test_page_labels_in_the_usual_footer_forms():
    assert printed_page_labels([f"正文第{k}段。\n第 {k} 页 共 9 页" for k in range(1, 10)]) == [str(k) for k in range(1, 10)]
    assert printed_page_labels([f"Body {k}.\nPage {k} of 9" for k in range(1, 10)]) == [str(k) for k in range(1, 10)]
    assert printed_page_labels([f"正文。\n— {k} —" for k in range(1, 10)]) == [str(k) for k in range(1, 10)]
    assert printed_page_labels(["封面", "正文。", "正文二。"]) == [None, None, None]
