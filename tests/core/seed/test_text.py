"""Seed text worth searching: titles and descriptions from a Zipf vocabulary of thousands of words
(issue 15, item 3), checked on real seeded databases with PostgreSQL's english configuration."""

from __future__ import annotations

import math
import re

import pytest

from todoctl.core import explain
from todoctl.core.explain import plan as plan_nodes
from todoctl.core.seed import plan as seed_plan
from todoctl.core.seed import profile as seed_profile
from todoctl.todo.seed_text import Vocabulary, sections

# The words of a task as the app's search sees them (tasks.search_vector's text, weights aside).
DOCUMENT = "to_tsvector('english', title) || to_tsvector('english', coalesce(description, ''))"
# Lexemes that are words (numbers such as "5k" or "1099" are lexemes too, but not vocabulary).
WORD = r"^[a-z][a-z'-]*$"


def word_stats(pg, url, where: str = "") -> list[tuple[str, int, int]]:
    """(lexeme, tasks holding it, occurrences), most frequent first."""
    inner = f"SELECT {DOCUMENT} FROM tasks {where}".replace("'", "''")
    rows = pg.execute(
        f"SELECT word, ndoc, nentry FROM ts_stat('{inner}') ORDER BY nentry DESC, ndoc DESC, word",
        database=url.database,
    )
    return [r for r in rows if re.match(WORD, r[0])]


# ---------------------------------------------------------------- the word lists and the pools


def sources(seed: int):
    """The seed sources of a run of the small profile with ``seed`` (its text models are the Todo app's hooks)."""
    return seed_plan.build(seed_profile.with_options(seed_profile.load("small"), seed=seed)).sources


def texts(seed: int, model: str, count: int = 1024) -> list[str]:
    return sources(seed).texts(model, count)


def test_same_seed_same_texts_and_another_seed_other_texts():
    for model in ("task_titles", "task_descriptions"):
        first, again, other = texts(7, model), texts(7, model), texts(8, model)
        assert first == again and first != other


def test_titles_read_like_to_do_items():
    titles = texts(3, "task_titles")
    descriptions = texts(3, "task_descriptions")
    for title in titles:
        assert not title[0].islower() and "  " not in title and title == title.strip(), title
        assert "{" not in title and "}" not in title and len(title) <= 255, title
        assert not re.search(r"\bthe (Mom|Dad|my|the)\b", title), title  # people take no article
    for description in descriptions:
        assert description[0].isupper() and description.endswith((".", "!", "?")), description
        assert "{" not in description, description
    # A few thousand distinct titles from a few hundred templates and lists, not a few canned ones.
    assert len(set(titles)) > 0.8 * len(titles)


def test_every_domain_has_verbs_and_objects():
    words = sources(1).words
    verbs, objects = sections(words, "task_verbs"), sections(words, "task_objects")
    assert list(verbs) == list(objects)
    for domain in verbs:
        assert verbs[domain].entries and objects[domain].entries, domain
        assert len(set(objects[domain].entries)) == len(objects[domain].entries), domain
    assert Vocabulary(words, ["Ann"]).titles  # the templates compile


# ---------------------------------------------------------------- on a seeded database


@pytest.fixture(scope="module")
def scaled_load(pg, seeded_template):
    """The load profile's settings (skew, probabilities) on 2,000 users: 40,000 tasks, which is
    past the size at which the title and description pools are full (32,768 titles), so every
    task draws from the same pools, and the same vocabulary, as on the full profile."""
    return pg.url_for(seeded_template("load", 2000))


def test_seeded_vocabulary_has_thousands_of_distinct_words(pg, scaled_load):
    words = word_stats(pg, scaled_load)
    assert len(words) >= 2000, len(words)


def test_word_frequencies_are_zipf_like(pg, scaled_load):
    words = word_stats(pg, scaled_load)
    (tasks,), = pg.execute("SELECT count(*) FROM tasks", database=scaled_load.database)
    occurrences = sum(n for _, _, n in words)
    top = words[: len(words) // 100]
    # The top 1% of words carry a large share of the text; a handful are in one task in ten.
    assert sum(n for _, _, n in top) >= 0.15 * occurrences
    assert max(d for _, d, _ in words) >= 0.10 * tasks
    # The median word is rare: in under one task in a thousand.
    median = sorted(d for _, d, _ in words)[len(words) // 2]
    assert median < tasks / 1000, median
    # Frequency falls with rank as a power law: log-log slope near Zipf's -1.
    points = [(math.log(rank), math.log(n)) for rank, (_, _, n) in enumerate(words[: len(words) // 2], start=1)]
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    assert -2.0 < slope < -0.7, slope


@pytest.fixture(scope="module")
def load_copy(pg, seeded_template):
    """A copy of the full load profile (the template is shared with the health tests, which must
    see it untouched)."""
    name = pg.create_database(template=seeded_template("load"))
    yield pg.url_for(name)
    pg.drop_database(name)


def searchable_words(pg, url, user_id) -> list[tuple[str, int]]:
    """The user's words that search for exactly themselves (alphabetic lexemes that are their own
    stem), with the number of the user's tasks holding each, most frequent first."""
    inner = f"SELECT {DOCUMENT} FROM tasks WHERE user_id = '{user_id}'".replace("'", "''")
    return pg.execute(
        f"SELECT word, ndoc FROM ts_stat('{inner}') "
        "WHERE word ~ '^[a-z]{3,}$' AND ts_lexize('english_stem', word) = ARRAY[word] ORDER BY ndoc DESC, word",
        database=url.database,
    )


def test_task_search_defaults_to_a_word_of_typical_selectivity(pg, load_copy):
    result = explain.explain(load_copy, "task-search")
    user, q = result.params["user_id"], result.params["q"]
    (tasks,), = pg.execute(f"SELECT count(*) FROM tasks WHERE user_id = '{user}'", database=load_copy.database)
    (matches,), = pg.execute(
        f"SELECT count(*) FROM tasks WHERE user_id = '{user}' AND ({DOCUMENT}) @@ websearch_to_tsquery('english', '{q}')",
        database=load_copy.database,
    )
    # Typical: in 1-5% of the user's tasks (most of a heavy user's searchable words are rarer,
    # a few such as "check" or "call" are in one task in ten).
    assert 0.01 * tasks <= matches <= 0.05 * tasks, (q, matches, tasks)
    assert re.fullmatch(r"[a-z]{3,}", q), q  # a word as written, not a stem such as "anyth"


def test_a_rare_and_a_common_term_read_very_different_numbers_of_rows(pg, load_copy):
    user = explain.explain(load_copy, "task-search", analyze=False).params["user_id"]
    words = searchable_words(pg, load_copy, user)
    common, in_common = words[0]
    rare, in_rare = min((w, d) for w, d in words if d == 1)
    assert in_common >= 200, (common, in_common)  # the heaviest user's commonest word: hundreds of tasks

    plans = {
        term: explain.explain(load_copy, "task-search", params={"user_id": user, "q": term})
        for term in (rare, common)
    }
    # The common term reads every one of its hundreds of matches to rank them; the rare one, one.
    assert plan_nodes.rows_read(plans[rare].root) <= 5
    assert plan_nodes.rows_read(plans[common].root) >= in_common
    assert plans[rare].root.actual_rows == 1 and plans[common].root.actual_rows == 50
    assert in_common >= 100 * in_rare


def test_explain_check_passes_task_search_on_the_load_profile(load_copy):
    report = explain.check(load_copy, names=["task-search"], runs=3)
    assert report.ok, [(q.name, q.violations) for q in report.queries]
