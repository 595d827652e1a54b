from assistant.text import sentence_spans


def pieces(text):
    return [text[s:e] for s, e in sentence_spans(text)]


def test_chinese_sentences_and_semicolons():
    assert pieces("应建立制度；并定期评估。服务水平宜达到80/20！") == [
        "应建立制度；", "并定期评估。", "服务水平宜达到80/20！"]


def test_list_items_are_separate_sentences():
    assert pieces("包括：\na) 第一项；\nb) 第二项") == ["包括：", "a) 第一项；", "b) 第二项"]


def test_english_abbreviations_and_decimals_do_not_split():
    assert pieces("Keep 99.9% uptime, e.g. by redundancy. Test it") == [
        "Keep 99.9% uptime, e.g. by redundancy.", "Test it"]


def test_spans_are_trimmed_and_skip_punctuation_only():
    text = "  第一句。  。 第二句  "
    assert pieces(text) == ["第一句。", "第二句"]
