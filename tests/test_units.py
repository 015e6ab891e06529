"""Unit tests of the pure functions: text cleaning, the page cursor, language matching and
text direction. No store, no app, no process: these run in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.ingest.languages import match_language
from feeds.serving.links import text_direction
from feeds.serving.spec import MAX_POST_ID, BadPageCursor, PageCursor
from feeds.store.cleaning import (
    clean_foreign_html,
    clean_html,
    excerpt,
    plain_text,
    renders_in_xml,
    slugify,
    xml_safe,
)
from feeds.text import printable

pytestmark = pytest.mark.backend_independent  # no database

BASE = "https://blog.example/posts/hello"

# --- slugify ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("  Ça va? Très bien.  ", "ça-va-très-bien"),
        ("مرحبا بالعالم", "مرحبا-بالعالم"),
        ("你好 世界", "你好-世界"),
        ("Ｆｕｌｌ width", "full-width"),  # NFKC folds full-width letters
        ("snake_case stays", "snake_case-stays"),
        ("--- !!! ---", ""),
        ("", ""),
    ],
)
def test_slugify_joins_lower_case_words_of_any_script_with_hyphens(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slugify_caps_a_slug_at_200_characters_without_a_trailing_hyphen() -> None:
    slug = slugify("word " * 100)
    assert len(slug) <= 200
    assert not slug.endswith("-")
    assert slug.startswith("word-word")


@given(st.text())
def test_slugify_is_idempotent_and_has_no_spaces(title: str) -> None:
    slug = slugify(title)
    assert slugify(slug) == slug
    assert not any(character.isspace() for character in slug)
    assert not set(slug) & set("/?#%\\")


# --- clean_html ------------------------------------------------------------------------


def test_clean_html_drops_scripts_and_event_handlers() -> None:
    cleaned = clean_html('<p onclick="steal()">hi<script>alert(1)</script></p>', BASE)
    assert cleaned == "<p>hi</p>"


def test_clean_html_drops_javascript_urls() -> None:
    cleaned = clean_html('<a href="javascript:alert(1)">x</a>', BASE)
    assert "javascript" not in cleaned
    assert ">x</a>" in cleaned


@pytest.mark.parametrize("tag", ["iframe", "style", "form", "object"])
def test_clean_html_drops_tags_outside_the_allow_list(tag: str) -> None:
    assert tag not in clean_html(f"<{tag}>x</{tag}><p>kept</p>", BASE)


def test_clean_html_makes_links_and_images_absolute_against_the_post() -> None:
    cleaned = clean_html('<a href="/about">a</a><img src="pic.png" alt="p">', BASE)
    assert 'href="https://blog.example/about"' in cleaned
    assert 'src="https://blog.example/posts/pic.png"' in cleaned


def test_clean_html_keeps_direction_and_language_but_not_style() -> None:
    cleaned = clean_html('<p dir="rtl" lang="ar" title="t" style="color:red">نص</p>', BASE)
    assert cleaned == '<p dir="rtl" lang="ar" title="t">نص</p>'


def test_clean_html_removes_characters_xml_cannot_hold_even_as_references() -> None:
    cleaned = clean_html("<p>a\x01b&#1;c&#xFFFE;d</p>", BASE)
    assert cleaned == "<p>abcd</p>"


@given(st.text())
def test_clean_html_output_always_renders_in_xml(fragment: str) -> None:
    assert renders_in_xml(clean_html(fragment, BASE))


# --- clean_foreign_html ----------------------------------------------------------------


def test_clean_foreign_html_resolves_links_against_the_original_page() -> None:
    cleaned = clean_foreign_html('<a href="/x">l</a>', "https://old.example/a/b")
    assert 'href="https://old.example/x"' in cleaned


@pytest.mark.parametrize("page", ["/relative/page", "ftp://old.example/a", "", "https://"])
def test_clean_foreign_html_leaves_html_alone_without_an_absolute_web_page(page: str) -> None:
    fragment = '<a href="/x">l</a><script>kept for the write path</script>'
    assert clean_foreign_html(fragment, page) == fragment


# --- excerpt ---------------------------------------------------------------------------


def test_excerpt_keeps_short_text_whole() -> None:
    assert excerpt("short text", 10) == "short text"


def test_excerpt_cuts_at_a_word_boundary_with_an_ellipsis() -> None:
    assert excerpt("one two three four", 10) == "one two…"


def test_excerpt_drops_trailing_punctuation_before_the_ellipsis() -> None:
    assert excerpt("alpha beta, gamma delta", 12) == "alpha beta…"


def test_excerpt_cuts_a_single_long_word_at_the_limit() -> None:
    assert excerpt("abcdefghijkl", 5) == "abcde…"


@given(st.text(), st.integers(min_value=1, max_value=300))
def test_excerpt_is_never_longer_than_the_limit_plus_the_ellipsis(text: str, limit: int) -> None:
    cut = excerpt(text, limit)
    assert len(cut) <= limit + 1
    if len(text) <= limit:
        assert cut == text
    else:
        assert cut.endswith("…")
        assert text.startswith(cut[:-1])


# --- plain_text, xml_safe, printable ---------------------------------------------------


def test_plain_text_drops_tags_decodes_entities_and_folds_white_space() -> None:
    assert plain_text("<p>Hello&nbsp;<b>world</b></p>\n\n<p>&amp; more</p>") == (
        "Hello world & more"
    )


def test_plain_text_drops_script_content() -> None:
    assert plain_text("<p>a</p><script>alert(1)</script><p>b</p>") == "ab"


def test_xml_safe_removes_controls_surrogates_and_non_characters_only() -> None:
    assert xml_safe("a\x00b\x0bc\td\ufffe\ud800e\U0001f600\n\r") == "abc\tde\U0001f600\n\r"


@given(st.text())
def test_xml_safe_output_renders_in_xml_and_is_stable(text: str) -> None:
    safe = xml_safe(text)
    assert renders_in_xml(safe)
    assert xml_safe(safe) == safe


def test_printable_replaces_lone_surrogates() -> None:
    assert printable("a\ud800b") == "a\ufffdb"
    "a\ufffdb".encode()  # what a message writer must be able to do


def test_printable_cuts_long_text_to_the_limit() -> None:
    assert printable("x" * 10, 5) == "xxxx…"
    assert printable("x" * 5, 5) == "xxxxx"


# --- the page cursor -------------------------------------------------------------------

dates = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999_999)
).map(lambda moment: moment.replace(tzinfo=UTC))


@given(dates, st.integers(min_value=1, max_value=MAX_POST_ID))
def test_page_cursor_round_trips_through_its_text(published: datetime, post_id: int) -> None:
    cursor = PageCursor(published, post_id)
    assert PageCursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize(
    ("published", "text"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), "0-7"),
        (datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), "1000000-7"),
        (datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), "-1-7"),
        (datetime(1, 1, 1, tzinfo=UTC), "-62135596800000000-7"),
    ],
    ids=["epoch", "one-second", "before-1970", "year-1"],
)
def test_page_cursor_text_is_microseconds_since_1970_and_the_post_id(
    published: datetime, text: str
) -> None:
    assert str(PageCursor(published, 7)) == text
    assert PageCursor.parse(text) == PageCursor(published, 7)


def test_page_cursor_keeps_a_date_in_another_time_zone_as_the_same_instant() -> None:
    paris = datetime(2024, 6, 1, 14, tzinfo=timezone(timedelta(hours=2)))
    parsed = PageCursor.parse(str(PageCursor(paris, 3)))
    assert parsed.published == datetime(2024, 6, 1, 12, tzinfo=UTC)
    assert parsed.published.tzinfo == UTC


@pytest.mark.parametrize(
    "text",
    [
        "-62135596800000001-1",  # a microsecond before year 1
        "253402300800000000-1",  # the first microsecond of year 10000
        "0-0",  # no post has id 0
        f"0-{MAX_POST_ID + 1}",
    ],
)
def test_page_cursor_refuses_a_position_out_of_range(text: str) -> None:
    with pytest.raises(BadPageCursor, match="out of range"):
        PageCursor.parse(text)


@pytest.mark.parametrize(
    "text",
    ["", "12", "a-1", "1-b", "1-2-3", "+1-2", "1 -2", "１-２", "1-2\n", "1-" + "9" * 20],
)
def test_page_cursor_refuses_text_it_did_not_write(text: str) -> None:
    with pytest.raises(BadPageCursor, match="is not a page cursor"):
        PageCursor.parse(text)


@given(st.text())
def test_page_cursor_parse_either_round_trips_or_refuses(text: str) -> None:
    try:
        cursor = PageCursor.parse(text)
    except BadPageCursor:
        return
    assert PageCursor.parse(str(cursor)) == cursor


# --- languages -------------------------------------------------------------------------

CONFIGURED = ["en", "fr", "pt-br", "zh-hans"]


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("en", "en"),
        ("EN", "en"),
        (" fr ", "fr"),
        ("en-US", "en"),  # the primary subtag
        ("fr-CA", "fr"),
        ("pt-BR", "pt-br"),  # the same code in another case
        ("pt_BR", "pt-br"),  # an underscore, as POSIX locales write it
        ("zh-Hans", "zh-hans"),
        ("de", None),
        ("pt-PT", None),  # neither pt-pt nor pt is configured
        ("", None),
    ],
)
def test_match_language_finds_the_configured_language_a_tag_names(
    tag: str, language: str | None
) -> None:
    assert match_language(tag, CONFIGURED) == language


def test_match_language_keeps_the_configured_spelling() -> None:
    assert match_language("pt-br", ["pt-BR"]) == "pt-BR"


def test_match_language_prefers_the_exact_code_to_its_primary_subtag() -> None:
    assert match_language("pt-BR", ["pt", "pt-br"]) == "pt-br"
    assert match_language("pt-PT", ["pt", "pt-br"]) == "pt"


# --- text direction --------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ar", "he", "fa", "ur", "yi", "AR", "ar-EG", "he-IL"])
def test_text_direction_is_rtl_for_right_to_left_languages(language: str) -> None:
    assert text_direction(language) == "rtl"


@pytest.mark.parametrize("language", ["en", "fr", "zh-hans", "ja", "arn", "hr"])
def test_text_direction_is_ltr_for_other_languages(language: str) -> None:
    assert text_direction(language) == "ltr"
