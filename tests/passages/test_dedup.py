"""Story grouping: exact copies and syndicated near-duplicates fold together, others don't."""

from __future__ import annotations

from coverage_search.passages.dedup import (
    group_stories,
    is_near_duplicate,
    normalized_hash,
    shingles,
)
from coverage_search.records import Document

WIRE = """\
Dario Amodei, OpenAI's former vice president of research, left the company in December 2020
with a group of colleagues and went on to co-found Anthropic in early 2021 as a rival lab built
around safety-first model development.

People familiar with the departure said the disagreement was about how fast to scale and how to
govern increasingly powerful systems. The group believed scaling laws made safety research urgent
rather than optional, and wanted an institution designed around that belief from the start.

Anthropic has since raised billions of dollars from investors including Amazon and Google, and
its Claude assistant now competes directly with ChatGPT for business customers. The company says
its constitution-based training makes models easier to steer and audit.

OpenAI announced on December 29, 2020, that Amodei was leaving after nearly five years. Several
researchers who left with him now run Anthropic's policy, interpretability and product teams.

Analysts say the split shaped the industry's central argument: whether safety is a constraint on
the race, or the only way to win it. Regulators in Washington and Brussels now cite both labs."""

SAME_TOPIC = """\
Anthropic, the artificial intelligence company founded by former OpenAI staff, said on
Tuesday it had closed a new funding round that values the start-up far above last year's figure.
The money will pay for computing capacity and for hiring engineers in London and Tokyo, the
company said in a statement.

Chief executive Dario Amodei told reporters the company expects revenue to triple this year as
large enterprises adopt its Claude models for coding and customer service. He declined to comment
on reports of talks with sovereign wealth funds.

Competition for chips and talent has pushed AI valuations to records. OpenAI, Google and Meta are
all spending heavily on data centers, and investors have questioned how quickly those costs can be
recovered. Anthropic said its safety research would remain a priority as it grows."""

FOOTER = """\
Sign up for our daily technology newsletter to get the most important stories in your
inbox every morning. Copyright 2026 Example Media Group. All rights reserved. This material may not
be published, broadcast, rewritten or redistributed without permission. Follow us on social media
and share your thoughts in the comments below."""


def doc(doc_id: str, text: str, *, published: str | None = None) -> Document:
    return Document(
        doc_id=doc_id,
        path=doc_id,
        title=doc_id,
        text=text,
        format="markdown",
        content_hash=normalized_hash(text),
        published=published,
    )


def syndicated_copy(text: str) -> str:
    """The wire story under another headline, with the last paragraph cut and a footer added."""
    paragraphs = text.split("\n\n")
    return "# Why Amodei Really Quit OpenAI\n\n" + "\n\n".join(paragraphs[:-1]) + "\n\n" + FOOTER


def test_exact_copies_differing_in_case_and_punctuation_are_one_story() -> None:
    shouted = WIRE.upper().replace(",", "").replace("'", "’")
    stories = group_stories([doc("b.md", shouted), doc("a.md", WIRE)])
    assert stories == {"a.md": "a.md", "b.md": "a.md"}


def test_syndicated_copy_joins_the_story_of_the_earliest_copy() -> None:
    docs = [
        doc("outlets/late-copy.md", syndicated_copy(WIRE), published="2026-06-17"),
        doc("wire.md", WIRE, published="2026-06-16"),
        doc("other.md", SAME_TOPIC, published="2026-06-15"),
    ]
    stories = group_stories(docs)
    assert stories == {
        "outlets/late-copy.md": "wire.md",
        "wire.md": "wire.md",
        "other.md": "other.md",
    }


def test_same_date_copies_take_the_shortest_path_and_undated_ones_come_last() -> None:
    docs = [
        doc("long/path/copy.md", syndicated_copy(WIRE), published="2026-06-16"),
        doc("undated.md", WIRE.replace("Analysts say", "Observers say")),
        doc("wire.md", WIRE, published="2026-06-16"),
    ]
    assert set(group_stories(docs).values()) == {"wire.md"}


def test_articles_on_the_same_topic_are_different_stories() -> None:
    assert not is_near_duplicate(WIRE, SAME_TOPIC)
    stories = group_stories([doc("a.md", WIRE), doc("b.md", SAME_TOPIC)])
    assert stories == {"a.md": "a.md", "b.md": "b.md"}


BRIEFS = [
    "Nvidia said new export rules will cut its quarterly sales to China by about a fifth, "
    "and shares fell four percent in early trading.",
    "Microsoft will build two data centers in Wisconsin, adding capacity for cloud customers "
    "who train large models, the company told state officials.",
    "A federal judge allowed authors to proceed with a copyright lawsuit claiming their books "
    "were copied without permission to train a chatbot.",
    "Google released a smaller version of its Gemini model that runs on phones, promising "
    "faster replies and better battery life for translation.",
    "The European Commission opened an antitrust review of cloud partnerships between "
    "start-ups and the largest software companies.",
    "A robotics firm backed by Amazon showed a warehouse machine that sorts parcels with a "
    "vision model, reducing errors during peak season.",
    "Meta signed a long-term deal to buy nuclear power for its Ohio campus as electricity "
    "demand from training clusters keeps climbing.",
    "Japan's largest bank said it would roll out an internal assistant to forty thousand staff "
    "after a pilot cut the time spent drafting reports.",
]


def test_a_shared_footer_does_not_make_short_articles_copies() -> None:
    # Short, different briefs from one outlet, each ending in the same footer, longer than them.
    docs = [doc(f"brief-{n}.md", f"{text}\n\n{FOOTER}") for n, text in enumerate(BRIEFS)]
    stories = group_stories(docs)
    assert len(set(stories.values())) == len(BRIEFS)


def test_short_texts_group_only_when_identical() -> None:
    stories = group_stories(
        [
            doc("a.md", "OpenAI ships a model."),
            doc("b.md", "OpenAI ships a new model."),
            doc("c.md", "openai ships a model"),
        ]
    )
    assert stories == {"a.md": "a.md", "b.md": "b.md", "c.md": "a.md"}


def test_trimmed_and_shuffled_copies_are_near_duplicates() -> None:
    paragraphs = WIRE.split("\n\n")
    assert is_near_duplicate(WIRE, "\n\n".join(paragraphs[:3]))  # trimmed to the first three
    assert is_near_duplicate(WIRE, "\n\n".join(reversed(paragraphs)))
    quoting = SAME_TOPIC + "\n\nAs reported earlier: " + paragraphs[0]
    assert not is_near_duplicate(WIRE, quoting)  # another article quoting one paragraph


def test_no_documents_no_stories() -> None:
    assert group_stories([]) == {}


def test_shingles_are_runs_of_five_words_wherever_they_stand() -> None:
    run = shingles("one two three four five")
    assert len(run) == 1
    assert run < shingles("zero one two three four five six")  # the same run, elsewhere
    assert shingles("One, two; THREE four... five!") == run  # normalized words
    assert shingles("two one three four five").isdisjoint(run)  # order counts
    assert len(shingles("a b c d e f g")) == 3
    assert len(shingles("a b c")) == 1 and shingles("a b c") != shingles("a b d")
    assert shingles("") == frozenset()
