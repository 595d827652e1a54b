"""query.english_words reads pyspellchecker's list itself (a fraction of SpellChecker()'s load time)
and must answer ``in`` exactly as the spell checker's own WordFrequency does."""

import gzip
import json
import pkgutil

import pytest

from assistant import query
from assistant.query import english_word_frequency, english_words


def test_the_word_set_is_the_spell_checkers():
    assert english_words()._words == frozenset(english_word_frequency().dictionary)


@pytest.mark.parametrize("word", ["married", "Married", "MARRIED", "pasword", "Twilio", "zürich", "a's", ""])
def test_membership_matches_the_spell_checker_case_insensitively(word):
    assert (word in english_words()) == (word in english_word_frequency())


@pytest.fixture
def shipped(monkeypatch):
    """english_words() over a word list given here instead of the installed package's."""

    def use(text: str):
        data = gzip.compress(text.encode("utf-8"))
        monkeypatch.setattr(pkgutil, "get_data", lambda package, name: data)
        english_words.cache_clear()
        return english_words()

    yield use
    english_words.cache_clear()  # the next caller loads the real list again


@pytest.mark.parametrize(
    "layout",
    [
        '{\n"alpha": 3,\n"beta\'s": 2,\n"gamma": 1\n}',  # the shipped layout: the regex path
        '{"alpha": 3, "beta\'s": 2, "gamma": 1}',  # one line: json
        '{\n"alpha": 3,\n"beta\\u0027s": 2,\n"gamma": 1\n}',  # an escape: json
        '{\n"Alpha": 3,\n"BETA\'s": 2,\n"gamma": 1\n}',  # capitals: lower-cased first
    ],
)
def test_any_json_layout_gives_the_same_words(shipped, layout):
    words = shipped(layout)
    assert words._words == frozenset({"alpha", "beta's", "gamma"})
    assert "ALPHA" in words and "delta" not in words


def test_the_regex_path_keeps_every_key_json_does(shipped):
    entries = {f"w{i}-x'y": i for i in range(50)}
    text = "{\n" + ",\n".join(f"{json.dumps(k)}: {v}" for k, v in entries.items()) + "\n}"
    assert shipped(text)._words == frozenset(entries)
    assert query._WORD_LIST_KEY.findall(text) == list(entries)
