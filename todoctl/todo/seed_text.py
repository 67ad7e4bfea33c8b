"""The Todo app's text model: task titles and descriptions composed from the word lists of its seed
directory (``seeds/words/``); seed_hooks.py registers them as the text models ``task_titles`` and
``task_descriptions``.

A title is a template of ``task_titles.txt`` ("{verb} {object} {when}") filled from one domain
of ``task_verbs.txt`` and ``task_objects.txt`` (every verb of a domain fits its objects) plus the
people, first names and contexts lists; a description joins one to three different sentences of
``descriptions.txt``, filled the same way. First names come from Faker's list for the run's locale.

Every list is drawn Zipf by rank (the entry of rank k has weight 1 / k): its first lines are
common, its long tail rare, as words are in what people write. Over a few thousand distinct
words, a few match a large share of a user's tasks and most match almost none, which is what
full-text search plans and GIN sizes depend on.

Cost: templates are compiled once to ``str.format`` strings; every list is drawn in blocks by
``random.choices`` with precomputed cumulative weights (a C bisect per value); the texts are
composed once per run into the seed's pools, so the per-row cost of text stays one index.
"""

from __future__ import annotations

import random
import re
from itertools import accumulate
from typing import Callable, Iterator, NamedTuple

Words = Callable[[str], tuple[str, ...]]  # a word list by name: the seed hooks' ctx.words

# Zipf's exponent: 1.0 is the classic law of word frequencies in natural language.
ZIPF_S = 1.0
BLOCK = 256  # values drawn at a time from one list (more: faster, but more drawn and unused)
SLOTS = ("verb", "object", "person", "name", "when")
_SLOT = re.compile(r"\{([^{}]*)\}")
_SECTION = re.compile(r"^\[(\w+)(?:\s+(\d+(?:\.\d+)?))?((?:\s+\w+)*)\]$")


class Ranked:
    """Entries with weights (default ``1 / rank ** ZIPF_S``) as cumulative weights, for ``choices``."""

    __slots__ = ("entries", "cumulative")

    def __init__(self, entries, weights=None) -> None:
        self.entries = list(entries)
        if not self.entries:
            raise ValueError("a word list has no entries")
        if weights is None:
            weights = [1.0 / rank**ZIPF_S for rank in range(1, len(self.entries) + 1)]
        self.cumulative = list(accumulate(weights))

    def stream(self, rng: random.Random, entries: list | None = None) -> Iterator:
        """Endless draws, made ``BLOCK`` at a time; of ``entries`` (one per entry) if given."""
        choices, cumulative = rng.choices, self.cumulative
        entries = self.entries if entries is None else entries
        while True:
            yield from choices(entries, cum_weights=cumulative, k=BLOCK)


class Section(NamedTuple):
    weight: float
    flags: frozenset[str]
    entries: tuple[str, ...]


def sections(words: Words, name: str) -> dict[str, Section]:
    """A sectioned word list: ``[domain weight flag...]`` lines, then that domain's entries."""
    out: dict[str, tuple[float, frozenset[str], list[str]]] = {}
    current: list[str] | None = None
    for line in words(name):
        header = _SECTION.match(line)
        if header:
            current = []
            out[header.group(1)] = (float(header.group(2) or 1), frozenset(header.group(3).split()), current)
        elif current is None:
            raise ValueError(f"seeds/words/{name}.txt: {line!r} comes before the first [section]")
        else:
            current.append(line)
    return {domain: Section(weight, flags, tuple(entries)) for domain, (weight, flags, entries) in out.items()}


class Template(NamedTuple):
    """``"{verb} {object} with {name}"`` as ``"{} {} with {}"`` and the slots it draws, in order;
    a slot is a name of ``SLOTS`` or a ``Ranked`` of inline alternatives (``{a|b|c}``)."""

    format: str
    slots: tuple


def compile_template(text: str) -> Template:
    slots: list = []

    def slot(match: re.Match) -> str:
        inner = match.group(1)
        if "|" in inner:
            slots.append(Ranked(inner.split("|")))
        elif inner in SLOTS:
            slots.append(inner)
        else:
            raise ValueError(f"unknown slot {{{inner}}} in {text!r}")
        return "{}"

    if "{{" in text or "}}" in text:
        raise ValueError(f"doubled braces in {text!r}")
    return Template(_SLOT.sub(slot, text), tuple(slots))


def _weighted(words: Words, name: str) -> list[tuple[Template, float]]:
    out = []
    for line in words(name):
        weight, sep, template = line.partition("\t")
        if not sep:
            raise ValueError(f"seeds/words/{name}.txt: {line!r} is not weight<TAB>template")
        out.append((compile_template(template), float(weight)))
    return out


def _phrase_form(template: Template, verbless: bool) -> Template | None:
    """The template for a phrase domain (objects such as "Walk the dog" or "Mom"), or None if it
    does not read right with one: it must start with "{verb} {object}" and have one object."""
    if not template.format.startswith("{} {}") or template.slots[:2] != ("verb", "object"):
        return None
    if template.slots.count("object") != 1:
        return None
    if verbless:  # the verb "-": the object is the whole phrase
        return Template(template.format[3:], template.slots[1:])
    return template


class Vocabulary:
    """The word lists, read and compiled once per run (they depend on no seed)."""

    def __init__(self, words: Words, first_names: list[str]) -> None:
        self.names = list(first_names)
        verbs, objects = sections(words, "task_verbs"), sections(words, "task_objects")
        if list(verbs) != list(objects):
            raise ValueError("task_verbs.txt and task_objects.txt must have the same [domains] in the same order")
        self.domains = Ranked(list(verbs), [section.weight for section in verbs.values()])
        self.verbs = {d: Ranked(s.entries) for d, s in verbs.items()}
        self.objects = {d: Ranked(s.entries) for d, s in objects.items()}
        self.people = Ranked(words("task_people"))
        self.contexts = Ranked(words("task_contexts"))
        templates = _weighted(words, "task_titles")
        self.titles: dict[str, Ranked] = {}
        for domain, section in verbs.items():
            if "phrase" in section.flags:
                verbless = section.entries == ("-",)
                fitting = [(_phrase_form(t, verbless), w) for t, w in templates]
                fitting = [(t, w) for t, w in fitting if t is not None]
            else:
                fitting = templates
            self.titles[domain] = Ranked([t for t, _ in fitting], [w for _, w in fitting])
        # A description's {object} comes from a domain whose objects are nouns, not phrases.
        nouns = [d for d, s in verbs.items() if "phrase" not in s.flags]
        self.noun_domains = Ranked(nouns, [verbs[d].weight for d in nouns])
        self.sentences = Ranked(compile_template(s) for s in words("descriptions"))

    def first_names(self, rng: random.Random) -> Ranked:
        """First names in an order of the seed's: which names are common differs by seed."""
        names = list(self.names)
        rng.shuffle(names)
        return Ranked(names)


class Writer:
    """Titles and descriptions from one seeded stream (deterministic: same stream, same texts)."""

    def __init__(self, rng: random.Random, vocabulary: Vocabulary) -> None:
        v = self.vocabulary = vocabulary
        self.rng = rng
        shared = {
            "person": v.people.stream(rng),
            "name": v.first_names(rng).stream(rng),
            "when": v.contexts.stream(rng),
        }
        alternatives: dict[int, Iterator[str]] = {}

        def bind(template: Template, slots: dict[str, Iterator[str]]) -> tuple[str, tuple[Iterator[str], ...]]:
            """The template with each slot resolved to its stream, so filling it is one ``map``."""
            streams = []
            for slot in template.slots:
                if isinstance(slot, str):
                    streams.append(slots[slot])
                else:
                    if id(slot) not in alternatives:
                        alternatives[id(slot)] = slot.stream(rng)
                    streams.append(alternatives[id(slot)])
            return template.format, tuple(streams)

        self._domains = v.domains.stream(rng)
        self._titles = {}
        for domain, ranked in v.titles.items():
            slots = {"verb": v.verbs[domain].stream(rng), "object": v.objects[domain].stream(rng), **shared}
            self._titles[domain] = ranked.stream(rng, [bind(t, slots) for t in ranked.entries])
        self._objects = {d: v.objects[d].stream(rng) for d in v.noun_domains.entries}
        free = {**shared, "object": self._any_object(v.noun_domains.stream(rng))}
        self._sentences = v.sentences.stream(rng, [bind(t, free) for t in v.sentences.entries])

    def _any_object(self, domains: Iterator[str]) -> Iterator[str]:
        objects = self._objects
        while True:
            yield next(objects[next(domains)])

    def titles(self, count: int) -> list[str]:
        # One domain for the whole title: "Water the roses", not "Water the quarterly report".
        titles, domains = self._titles, self._domains
        out = []
        for _ in range(count):
            format_, streams = next(titles[next(domains)])
            out.append(format_.format(*map(next, streams)))
        return out

    def descriptions(self, count: int) -> list[str]:
        sentences = self._sentences
        out = []
        for n in self.rng.choices((1, 2, 3), cum_weights=(2, 4, 5), k=count):
            chosen: list = []
            while len(chosen) < n:
                sentence = next(sentences)
                if sentence not in chosen:  # the common sentences would repeat otherwise
                    chosen.append(sentence)
            out.append(" ".join(format_.format(*map(next, streams)) for format_, streams in chosen))
        return out
