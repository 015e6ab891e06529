"""The demo blog: the posts read off the sample blog's page, plus realistic generated posts.

Generation is deterministic: post number *i* is always the same post, so running the
demo again, or with more posts, adds only what is missing and never duplicates.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from importlib import resources
from typing import Any

from dateutil import parser as date_parser
from sqlalchemy.orm import Session

from feeds.settings import Settings
from feeds.store.models import PostStatus
from feeds.store.queries import find_post
from feeds.store.taxonomy import ensure_category
from feeds.store.validation import (
    AuthorInput,
    EnclosureInput,
    ImageInput,
    PostInput,
    TermInput,
)
from feeds.store.writes import create_post
from feeds.tools.demo.texts import TEXTS, LanguageText

SEED_LANGUAGE = "en"
# Where the demo's images and episodes would live (the blog's media host).
DEMO_MEDIA = "https://www.ledger.com/wp-content/uploads"
AUTHORS = (
    "Camille Laurent",
    "Omar Haddad",
    "Mei Lin",
    "Jonas Becker",
    "Sofía Ortega",
    "Kenji Sato",
)
LANGUAGE_WEIGHTS = {
    "en": 30,
    "fr": 10,
    "es": 9,
    "de": 8,
    "pt-br": 8,
    "ja": 7,
    "zh-hans": 7,
    "ru": 6,
    "ko": 5,
    "tr": 5,
    "ar": 5,
}
CATEGORY_WEIGHTS = {
    "blog-posts": 40,
    "tech": 25,
    "product-news": 12,
    "company-news": 10,
    "thought-leadership": 6,
    "enterprise": 4,
    "donjon": 3,
}
GENERATED_SINCE = datetime(2021, 1, 1, tzinfo=UTC)
GENERATED_SPAN = timedelta(days=3 * 365)
SCHEDULED_FROM = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class DemoResult:
    created: int = 0
    unchanged: int = 0


def seed_data() -> dict[str, Any]:
    """The sample blog page's site, languages, categories and posts, as shipped in the package."""
    text = resources.files(__package__).joinpath("seed-posts.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def demo_posts(settings: Settings, count: int) -> Iterator[PostInput]:
    """The seed page's posts, then ``count`` generated posts in the configured languages."""
    seed = seed_data()
    if SEED_LANGUAGE in settings.languages:
        # Oldest first, so that posts of the same day keep the page's order, newest on top.
        for number, post in enumerate(reversed(seed["posts"])):
            yield _seed_post(post, number, settings)
    languages = {code: w for code, w in LANGUAGE_WEIGHTS.items() if code in settings.languages}
    if languages:
        for number in range(count):
            yield _generated_post(number, languages, settings)


def load_demo(session: Session, settings: Settings, posts: Iterable[PostInput]) -> DemoResult:
    """Write the demo's categories and the posts not stored yet (same language and slug)."""
    for category in seed_data()["categories"]:
        ensure_category(session, category["slug"], category["name"])
    result = DemoResult()
    for post in posts:
        if find_post(session, post.language, post.slug) is not None:
            result.unchanged += 1
            continue
        create_post(session, settings, post)
        result.created += 1
    return result


def _seed_post(post: dict[str, Any], number: int, settings: Settings) -> PostInput:
    rng = random.Random(f"seed-{post['slug']}")
    text = TEXTS[SEED_LANGUAGE]
    summary = post.get("summary") or rng.choice(text.sentences)
    return PostInput(
        title=post["title"],
        slug=post["slug"],
        language=SEED_LANGUAGE,
        summary=summary,
        content_html=_content(rng, text, summary, settings.home_url),
        published=date_parser.parse(post["date"], dayfirst=False).replace(
            hour=9, minute=number % 60, tzinfo=UTC
        ),
        categories=[TermInput(slug) for slug in post["categories"]],
        authors=[AuthorInput(rng.choice(AUTHORS))],
    )


def _generated_post(number: int, languages: dict[str, int], settings: Settings) -> PostInput:
    rng = random.Random(number)
    language = rng.choices(list(languages), weights=list(languages.values()))[0]
    text = TEXTS[language]
    topic_index = rng.randrange(len(text.topics))
    title = rng.choice(text.titles).format(topic=text.topics[topic_index], n=number % 9 + 1)
    categories = {"blog-posts"} | set(
        rng.choices(list(CATEGORY_WEIGHTS), weights=list(CATEGORY_WEIGHTS.values()), k=2)
    )
    roll = rng.random()
    status = PostStatus.DRAFT if roll < 0.02 else PostStatus.PUBLISHED
    if roll > 0.99:
        published = SCHEDULED_FROM + timedelta(days=number)
    else:
        published = GENERATED_SINCE + GENERATED_SPAN * rng.random()
    summary = " ".join(rng.sample(text.sentences, 2))
    topic = TEXTS["en"].topics[topic_index % len(TEXTS["en"].topics)]
    return PostInput(
        title=title,
        slug=f"{topic}-{number}".replace(" ", "-"),
        language=language,
        summary=summary,
        content_html=_content(rng, text, summary, settings.language_home_url.format(lang=language)),
        status=status,
        published=published.replace(microsecond=0),
        categories=[TermInput(slug) for slug in sorted(categories)],
        tags=[TermInput(topic.replace(" ", "-"), topic.capitalize())],  # a tag per topic
        authors=[AuthorInput(name) for name in rng.sample(AUTHORS, rng.choice((1, 1, 1, 2)))],
        image=_demo_image(number, topic) if number % 3 == 0 else None,
        enclosures=_demo_episode(number) if number % 10 == 0 else (),
    )


def _demo_image(number: int, topic: str) -> ImageInput:
    """A cover image for every third generated post (on the blog's own media host)."""
    return ImageInput(
        f"{DEMO_MEDIA}/covers/{number}.jpg", f"Illustration: {topic}", width=1200, height=630
    )


def _demo_episode(number: int) -> tuple[EnclosureInput, ...]:
    """A podcast episode, in two encodings, for every tenth generated post."""
    return (
        EnclosureInput(f"{DEMO_MEDIA}/episodes/{number}.mp3", "audio/mpeg", 24_000_000 + number),
        EnclosureInput(f"{DEMO_MEDIA}/episodes/{number}.ogg", "audio/ogg"),
    )


def _content(rng: random.Random, text: LanguageText, summary: str, home: str) -> str:
    paragraphs = [f"<p>{escape(summary)}</p>"]
    for heading in text.headings:
        body = " ".join(rng.choices(text.sentences, k=4))
        paragraphs.append(f"<h2>{escape(heading)}</h2><p>{escape(body)}</p>")
    items = "".join(f"<li>{escape(s)}</li>" for s in rng.sample(text.sentences, 3))
    paragraphs.append(f"<ul>{items}</ul>")
    paragraphs.append(f'<p><a href="{escape(home)}">{escape(text.headings[-1])} →</a></p>')
    return "".join(paragraphs)
