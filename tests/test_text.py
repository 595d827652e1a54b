"""The shared text rules: CJK characters, language, sentence spans, Chinese numerals."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from assistant import text
from assistant.text import (
    CJK_CLASS,
    CJK_WIDE_CLASS,
    cjk_share,
    cn_numeral_to_int,
    detect_language,
    int_to_cn_numeral,
    is_cjk,
    is_han,
    sentence_spans,
)


@pytest.mark.parametrize("ch", ["中", "㐀", "鿿", "豈", "𠀀", "の", "カ", "한"])
def test_cjk_script_characters(ch):
    assert is_cjk(ch)


@pytest.mark.parametrize("ch", ["a", "1", "。", "，", "Ａ", " ", "é"])
def test_not_cjk_script_characters(ch):
    assert not is_cjk(ch)


def test_han_is_the_ideographs_only():
    assert is_han("中") and is_han("𠀀") and not is_han("の") and not is_han("한")


def test_class_fragments_work_inside_brackets():
    assert re.fullmatch(f"[{CJK_CLASS}]+", "呼叫中心")
    assert not re.search(f"[{CJK_CLASS}]", "call centre，。")
    assert re.fullmatch(f"[{CJK_WIDE_CLASS}]+", "呼叫，。（Ａ）")
    assert not re.search(f"[{CJK_WIDE_CLASS}]", "abc 1.2")


def test_cjk_share_counts_letters_only():
    assert cjk_share("") == 0.0
    assert cjk_share("12.3 ,;") == 0.0
    assert cjk_share("中文ab") == 0.5
    assert cjk_share("中 1 2 3 a b c") == 0.25


@pytest.mark.parametrize(
    ("sample", "lang"),
    [
        ("呼叫中心应建立服务质量管理制度。", "zh"),
        ("What does the guidance say about data security?", "en"),
        ("ISO 18295-1 规定的服务要求 service requirements", "zh"),  # 7 of 29 letters
        ("The term 坐席 means an agent seat at a call centre desk", "en"),  # 2 of 42
        ("", "en"),
        ("4.5", "en"),
        ("コールセンター", "zh"),  # the service has two editions; CJK text goes to the CJK one
    ],
)
def test_detect_language(sample, lang):
    assert detect_language(sample) == lang


def test_detect_language_threshold_is_a_fifth():
    assert detect_language("中abcd") == "zh"  # exactly 0.2
    assert detect_language("中abcde") == "en"


def pieces(t):
    return [t[s:e] for s, e in sentence_spans(t)]


def test_sentences_chinese_and_semicolons():
    assert pieces("应建立制度；并定期评估。服务水平宜达到80/20！") == ["应建立制度；", "并定期评估。", "服务水平宜达到80/20！"]


def test_sentences_abbreviations_and_decimals_do_not_split():
    assert pieces("Keep 99.9% uptime, e.g. by redundancy. Test it") == ["Keep 99.9% uptime, e.g. by redundancy.", "Test it"]


def test_sentences_half_width_marks_in_chinese_text():
    assert pieces("应建立制度;并定期评估") == ["应建立制度;", "并定期评估"]
    # a dot before a Han character is no boundary, nor a mark inside a Latin word or URL
    assert pieces("按5.条执行") == ["按5.条执行"]
    assert pieces("see https://x.org/a?b=1;c=2 now") == ["see https://x.org/a?b=1;c=2 now"]


def test_sentences_closing_quotes_stay_with_their_sentence():
    assert pieces("他说：“完成。”然后走了") == ["他说：“完成。”", "然后走了"]
    assert pieces('He said "done." Then left') == ['He said "done."', "Then left"]


def test_sentences_trimmed_and_punctuation_only_dropped():
    assert pieces("  第一句。  。 第二句  ") == ["第一句。", "第二句"]
    assert pieces("a\n\n\nb") == ["a", "b"]
    assert pieces("") == []


@pytest.mark.parametrize(
    ("s", "n"),
    [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十三", 23), ("一百零五", 105), ("两千", 2000),
     ("九千九百九十九", 9999), ("〇", 0), ("12", 12), ("１２", 12)],
)
def test_cn_numerals(s, n):
    assert cn_numeral_to_int(s) == n


@pytest.mark.parametrize("s", ["", "章", "十a", "²", "1.2"])
def test_cn_numerals_reject_other_text(s):
    assert cn_numeral_to_int(s) is None


def test_text_module_imports_nothing_from_the_package():
    tree = ast.parse(Path(text.__file__).read_text(encoding="utf-8"))
    imported = ["." * n.level + (n.module or "") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m.startswith("assistant") or m.startswith(".")]


def test_sentences_list_items_are_separate():
    assert pieces("包括：\na) 第一项；\nb) 第二项") == ["包括：", "a) 第一项；", "b) 第二项"]


def test_passages_and_highlights_cut_at_the_same_places():
    from assistant.chunking import split_passages
    from assistant.records import Clause

    sentence = "Records are kept, e.g. call logs, for No. 5 of the rules (i.e. the audit rules). "
    body = sentence * 12
    clause = Clause("d:1", "d", "1", "", [], body, None, None, "en")
    ends = {e for _, e in sentence_spans(body)}
    passages = split_passages(clause, max_chars=200)
    assert len(passages) > 1
    for passage in passages:
        assert passage.start + len(passage.text) in ends  # no passage ends after "e.g." or "No."


def test_int_to_cn_numeral():
    assert [int_to_cn_numeral(n) for n in (3, 10, 12, 20, 105, 110)] == ["三", "十", "十二", "二十", "一百零五", "一百一十"]
    assert int_to_cn_numeral(1200) == "1200"


def test_numerals_round_trip():
    assert all(cn_numeral_to_int(int_to_cn_numeral(n)) == n for n in range(1000))


@pytest.mark.parametrize(
    "sample",
    ["The term 坐席 means an agent seat at a call centre desk, and nothing else here.",
     "呼叫中心应建立服务质量管理制度 (service quality management)。"],
)
def test_documents_questions_and_benchmark_records_get_the_same_language(tmp_path, sample):
    from assistant.documents import load_document
    from assistant.evaluation import records_to_clauses
    from assistant.query import analyse

    path = tmp_path / "doc.md"
    path.write_text(f"# Title\n\n{sample}\n", encoding="utf-8")
    clauses, _ = records_to_clauses([{"_id": "r1", "title": "", "text": sample}])
    expected = detect_language(sample)
    assert load_document(path).lang == expected
    assert analyse(sample).lang == expected
    assert clauses[0].lang == expected
