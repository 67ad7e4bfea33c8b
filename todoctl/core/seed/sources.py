"""Where a run's values come from, drawn into pools once per run: Faker's providers (in the run's
locale), the word lists of the app's seed directory (``words/NAME.txt``), and text models (the
built-in Zipf sentences over Faker's vocabulary, or the app's own, registered by its hooks).

Each pool draws from its own stream, seeded from (seed, pool name): the pools do not depend on
each other or on the order they are composed in. Faker is seeded the same way; its output for a
seed is stable within a major version, which pyproject.toml pins.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import todoctl.core.seed.encode as e
import todoctl.core.seed.streams as streams
from todoctl.errors import usage_error

# Pools of person names hold every name of Faker's lists; these are built from single calls.
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved: never a real inbox
ZIPF_S = 1.0


def locales() -> list[str]:
    import faker.config

    return list(faker.config.AVAILABLE_LOCALES)


def check_locale(locale: str) -> str:
    """``locale`` if Faker has it (exit 2 otherwise, with the close ones)."""
    import difflib

    known = locales()
    if locale in known:
        return locale
    close = difflib.get_close_matches(locale, known, n=3)
    raise usage_error(
        f"unknown locale {locale!r}",
        f"did you mean {', '.join(close)}?" if close else f"Faker's locales: {', '.join(known[:12])}, ...",
    )


def ascii_word(text: str) -> str:
    """Lower-case ASCII letters of ``text`` (accents dropped): ``Zoë O'Neil`` -> ``zoeoneil``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if "a" <= ch <= "z")


@dataclass
class People:
    """Names of the locale: pools of first and last names (and their ASCII forms for emails and
    usernames, index for index), with Faker's frequencies as weights."""

    first: object
    last: object
    first_ascii: object
    last_ascii: object
    domains: object
    first_weights: object
    last_weights: object
    last_first: bool  # "Sato Akira": the family name first


class TextContext:
    """What a text model gets: its own seeded ``rng``, the app's word lists, the locale's names."""

    def __init__(self, sources: "Sources", model: str) -> None:
        self.rng = sources.rng(f"text/{model}")
        self._sources = sources
        self.locale = sources.locale
        self.shared = sources.shared  # kept across a run's text models (a compiled vocabulary)

    def words(self, name: str) -> tuple[str, ...]:
        return self._sources.words(name)

    def first_names(self) -> list[str]:
        return list(self._sources.people().first.values)

    def vocabulary(self) -> list[str]:
        return list(self._sources.vocabulary())


class Sources:
    def __init__(self, seed: int, locale: str, base: Path | None, text_models: dict | None = None,
                 app_seeds: Path | None = None) -> None:  # fmt: skip
        self.seed = seed
        self.locale = locale
        self.base = base
        self.app_seeds = app_seeds
        self.text_models = text_models or {}
        self._words: dict[str, tuple[str, ...]] = {}
        self.shared: dict = {}

    def rng(self, name: str) -> random.Random:
        return random.Random(f"todoctl-seed/{self.seed}/pool/{name}")

    @cached_property
    def _faker(self):
        from faker import Faker

        return Faker(self.locale)

    def load_faker(self) -> None:
        """Faker and its providers for the locale, imported now (on the caller's thread)."""
        self._faker  # noqa: B018  (a cached property: made once)

    def faker(self, name: str):
        """The run's Faker, seeded for the pool ``name``."""
        fake = self._faker
        fake.seed_instance(streams.key_of(f"todoctl-seed/{self.seed}/faker/{name}"))
        return fake

    def faker_values(self, method: str, count: int) -> list:
        fake = self.faker(method)
        call = getattr(fake, method)
        return [call() for _ in range(count)]

    def has_faker(self, method: str) -> bool:
        return callable(getattr(self._faker, method, None))

    # ------------------------------------------------------------ word lists

    def words_path(self, name: str) -> Path | None:
        """``words/NAME.txt`` beside the profile, else in the app's seed directory."""
        for folder in (self.base, self.app_seeds):
            if folder is not None and (folder / "words" / f"{name}.txt").is_file():
                return folder / "words" / f"{name}.txt"
        return None

    def words(self, name: str) -> tuple[str, ...]:
        """A word list: one entry a line, ``#`` comments skipped."""
        if name not in self._words:
            path = self.words_path(name)
            if path is None:
                raise usage_error(f"no word list {name!r} (words/{name}.txt beside the profile or in the app's seed directory)",
                                  "word lists are words/NAME.txt beside the seed profiles")  # fmt: skip
            lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
            self._words[name] = tuple(line for line in lines if line and not line.startswith("#"))
        return self._words[name]

    # ------------------------------------------------------------ names and words of the locale

    def people(self) -> People:
        if not hasattr(self, "_people"):
            from todoctl.core.seed.values import ValuePool

            provider = self._faker.provider("faker.providers.person")
            firsts, first_weights = _weighted(provider.first_names)
            lasts, last_weights = _weighted(provider.last_names)
            romanized = getattr(provider, "first_romanized_names", None), getattr(provider, "last_romanized_names", None)
            first_ascii = _ascii(firsts, romanized[0])
            last_ascii = _ascii(lasts, romanized[1])
            formats = list(getattr(provider, "formats", ()) or ())
            last_first = bool(formats) and str(formats[0]).strip().startswith("{{last_name")

            def text(v):
                return e.text(v)

            self._people = People(
                first=ValuePool(firsts, text), last=ValuePool(lasts, text),
                first_ascii=ValuePool(first_ascii, text), last_ascii=ValuePool(last_ascii, text),
                domains=ValuePool(list(EMAIL_DOMAINS), text),
                first_weights=first_weights, last_weights=last_weights, last_first=last_first,
            )  # fmt: skip
        return self._people

    def vocabulary(self) -> list[str]:
        """Faker's word list for the locale, in an order of the seed's (which words are common
        differs by seed; Zipf by rank over it)."""
        if not hasattr(self, "_vocabulary"):
            words = list(self._faker.provider("faker.providers.lorem").word_list)
            self.rng("vocabulary").shuffle(words)
            self._vocabulary = words
        return self._vocabulary

    @cached_property
    def _lorem(self):
        provider = self._faker.provider("faker.providers.lorem")
        return provider.word_connector, provider.sentence_punctuation

    # ------------------------------------------------------------ text models

    def texts(self, model: str, count: int, column=None) -> list[str]:
        if model in self.text_models:
            fn = self.text_models[model]
            where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__name__', model)}"
            try:
                made = list(fn(TextContext(self, model), count))
            except Exception as exc:
                raise usage_error(f"text model {model!r} ({where}) failed: {type(exc).__name__}: {exc}", "fix the seed hook") from exc
            if not made or not all(isinstance(t, str) for t in made):
                raise usage_error(f"text model {model!r} ({where}) must return a list of strings", "fix the seed hook")
            return made
        if model in BUILTIN_TEXT:
            return BUILTIN_TEXT[model](self, model, count, column)
        known = ", ".join(sorted({*BUILTIN_TEXT, *self.text_models}))
        raise usage_error(f"unknown text model {model!r}", f"text models: {known} (an app adds its own with @hooks.text)")

    def _sentences(self, model: str, count: int, low: int, high: int, *, end: bool, title: bool = False) -> list[str]:
        rng = self.rng(f"text/{model}")
        words = self.vocabulary()
        cumulative = _cumulative([1.0 / rank**ZIPF_S for rank in range(1, len(words) + 1)])
        connector, punctuation = self._lorem
        out = []
        for _ in range(count):
            chosen = rng.choices(words, cum_weights=cumulative, k=rng.randint(low, high))
            if title:
                chosen = [w[:1].upper() + w[1:] for w in chosen]
            sentence = connector.join(chosen)
            sentence = sentence[:1].upper() + sentence[1:]
            out.append(sentence + (punctuation if end else ""))
        return out


def _cumulative(weights: list[float]) -> list[float]:
    from itertools import accumulate

    return list(accumulate(weights))


def _weighted(names) -> tuple[list[str], object]:
    import numpy as np

    if isinstance(names, dict):
        return list(names), np.array([float(w) for w in names.values()], dtype=np.float64)
    return list(names), None


def _ascii(names: list[str], romanized) -> list[str]:
    if romanized is not None and len(romanized) == len(names):
        names = list(romanized)
    return [ascii_word(n) or "user" for n in names]


def _text_sentence(sources: Sources, model: str, count: int, column) -> list[str]:
    return sources._sentences(model, count, 4, 12, end=True)


def _text_paragraph(sources: Sources, model: str, count: int, column) -> list[str]:
    sentences = sources._sentences(model + "/s", count * 3, 4, 14, end=True)
    rng = sources.rng(f"text/{model}")
    connector = sources._lorem[0] or ""
    out, i = [], 0
    for _ in range(count):
        k = rng.randint(1, 3)
        out.append(connector.join(sentences[i : i + k]) if connector else "".join(sentences[i : i + k]))
        i += k
    return out


def _text_title(sources: Sources, model: str, count: int, column) -> list[str]:
    return sources._sentences(model, count, 2, 6, end=False)


def _text_words(sources: Sources, model: str, count: int, column) -> list[str]:
    return sources._sentences(model, count, 1, 3, end=False, title=True)


def _text_word(sources: Sources, model: str, count: int, column) -> list[str]:
    words = sources.vocabulary()
    return [w for w in words[: max(count, 1)]]


BUILTIN_TEXT = {
    "sentence": _text_sentence,
    "paragraph": _text_paragraph,
    "title": _text_title,
    "words": _text_words,
    "word": _text_word,
}
