from assistant.lexical import LexicalIndex, bm25_terms, tokenize


def test_english_is_stemmed_and_stopwords_dropped():
    assert tokenize("The centers are monitoring calls") == ["center", "monitor", "call"]


def test_chinese_is_segmented_and_function_words_dropped():
    tokens = tokenize("企业高层领导应支持呼叫中心的建设")
    assert "高层" in tokens and "呼叫" in tokens
    assert "的" not in tokens and "应" not in tokens


def test_clause_numbers_survive_as_single_terms():
    assert "4.5" in tokenize("第4.5条")
    assert "3.6a.4" in tokenize("see Rule 3.6A.4")


def test_mixed_text_keeps_both_scripts():
    tokens = tokenize("IVR 菜单层级 menu levels")
    assert {"ivr", "菜单", "menu", "level"} <= set(tokens)


def test_bm25_ranks_matching_passage_first(tmp_path):
    texts = ["数据安全与加密存储", "Training of new agents", "Complaint handling within 24 hours"]
    index = LexicalIndex.build(texts)
    assert index.scores("how are complaints handled").argmax() == 2
    assert index.scores("数据加密").argmax() == 0
    index.save(tmp_path / "bm25")
    reloaded = LexicalIndex.load(tmp_path / "bm25")
    assert reloaded.scores("agent training").argmax() == 1
    assert not reloaded.scores("zzzz unknown").any()


def test_bm25_also_indexes_english_word_pairs_that_nothing_but_stopwords_separate():
    terms = bm25_terms("Holding of client money: the firm's call-centre 3.6 rules")
    assert {"hold_client", "client_money"} <= set(terms)
    assert "money_firm" not in terms, "punctuation ends a phrase"
    assert "call_centr" not in terms and not any(t.startswith("3.6_") or t.endswith("_3.6") for t in terms)
    assert [t for t in terms if "_" not in t] == tokenize("Holding of client money: the firm's call-centre 3.6 rules")
    assert "_" not in "".join(tokenize("Holding of client money")), "only BM25 sees the pairs"
    assert bm25_terms("客户资金管理") == tokenize("客户资金管理")


def test_a_phrase_in_the_question_prefers_the_passage_that_has_it_as_a_phrase():
    # On words alone the first wins: it is shorter and has both words.
    texts = [
        "Money held for a client must be kept apart.",
        "Client money must be kept apart from what the firm holds for its own account at every branch.",
    ]
    assert LexicalIndex.build(texts).scores("What are the rules on client money?").argmax() == 1


def test_question_scope_tokenises_each_text_once_and_forgets_it_afterwards(monkeypatch):
    from assistant import lexical

    calls: list[str] = []
    split = lexical._split_terms

    def counted(text: str, phrases: bool) -> list[str]:
        calls.append(text)
        return split(text, phrases)

    monkeypatch.setattr(lexical, "_split_terms", counted)
    # The session's remembered tokens (tests/support/tokens.py) would answer before the scope does.
    monkeypatch.setattr(lexical, "_terms", getattr(lexical._terms, "computes", lexical._terms))
    expected = tokenize("How are complaints handled?")
    calls.clear()
    with lexical.question_scope():
        first = tokenize("How are complaints handled?")
        first.append("mutated by a caller")
        second = tokenize("How are complaints handled?")
        bm25_terms("How are complaints handled?")  # phrases on: its own entry
    assert second == expected  # a caller's change to its list never reaches the next caller
    assert calls == ["How are complaints handled?"] * 2
    tokenize("How are complaints handled?")  # outside the scope: tokenised again
    assert len(calls) == 3
