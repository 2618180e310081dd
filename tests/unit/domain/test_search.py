"""Accent folding and snippets: what makes `zrodlo` find `źródło` and shows the user where."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.search import fold, search_terms, snippet


def test_folding_drops_polish_and_other_accents_and_keeps_every_offset() -> None:
    text = "Źródło Łódź, żółć; Café naïve, Straße"
    assert fold(text) == "zrodlo lodz, zolc; cafe naive, strase"
    assert len(fold(text)) == len(text)


@given(st.text())
def test_any_text_folds_to_one_character_for_each_of_its_own_the_same_every_time(text: str) -> None:
    once = fold(text)
    assert len(once) == len(text)
    assert fold(text) == once  # the second time from the remembered characters


def test_query_words_are_folded_deduplicated_and_stripped_of_syntax() -> None:
    assert search_terms('ŹRÓDŁO & "źródło" | río:*') == ("zrodlo", "rio")
    assert search_terms("!!! ---") == ()


def test_the_snippet_highlights_whole_words_in_the_original_text() -> None:
    found = snippet({"title": "Inny", "summary": "Na wstępie. Źródła rzeki i źródło potoku."}, ("zrodl",))
    assert found is not None
    assert found.field == "summary"
    assert [found.text[s:e] for s, e in found.highlights] == ["Źródła", "źródło"]


def test_a_long_text_gives_a_short_passage_around_the_match() -> None:
    text = "słowo " * 100 + "kosodrzewina " + "słowo " * 100
    found = snippet({"summary": text}, ("kosodrzewina",))
    assert found is not None
    assert len(found.text) <= 160
    start, end = found.highlights[0]
    assert found.text[start:end] == "kosodrzewina"


def test_no_snippet_when_no_field_matches() -> None:
    assert snippet({"summary": "rzeka"}, ("gory",)) is None
