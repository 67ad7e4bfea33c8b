"""Generators of codes: fixed-length codes distinct per row (ISBN-13, EAN-13, SKUs) and hex strings."""

from __future__ import annotations

import numpy as np

import todoctl.core.seed.encode as e
from todoctl.core.seed.generators import Gen, coprime_steps
import todoctl.core.seed.streams as streams
from todoctl.core.seed.values import Numbers


class Code(Gen):
    """Codes of a fixed length over an alphabet (digits, or A-Z and 0-9), distinct per row: the
    last characters spell a permutation of the row numbers, the first are random. ISBN-13 and
    EAN-13 add a prefix and the EAN check digit."""

    DIGITS = "0123456789"
    ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def __init__(self, column, length: int, *, alphabet: str = DIGITS, prefix: str = "", check: bool = False,
                 label: str | None = None) -> None:  # fmt: skip
        self.column = column
        self.length = length
        self.alphabet = alphabet
        self.prefix = prefix
        self.check = check
        self.label = label

    @property
    def free(self) -> int:
        return self.length - len(self.prefix) - int(self.check)

    @property
    def counted(self) -> int:
        """How many of the free characters spell the row's number (at most 10**9 of them)."""
        base, k = len(self.alphabet), 0
        while k < self.free and base ** (k + 1) <= 10**9:
            k += 1
        return k

    @property
    def capacity(self) -> int:
        return len(self.alphabet) ** self.counted

    def describe(self) -> str:
        return self.label or f"{self.length} characters of {'digits' if self.alphabet == self.DIGITS else 'A-Z, 0-9'}, distinct"

    def draw(self, chunk):
        n, base = chunk.n, len(self.alphabet)
        size, counted = self.capacity, self.counted
        key = streams.key_of(f"{chunk.table.name}/{self.column.name}/code")
        start = int(streams.hashed_uniform(key, np.zeros(1, dtype=np.int64))[0] * size)
        step = int(coprime_steps(streams.hashed_uniform(key + 1, np.zeros(1, dtype=np.int64)), np.array([size]))[0])
        rest = (start + ((chunk.numbers - 1) % size) * step) % size
        places = np.empty((n, self.length), dtype=np.int64)
        for i, ch in enumerate(self.prefix):
            places[:, i] = self.alphabet.index(ch)
        random_part = self.free - counted
        if random_part:
            places[:, len(self.prefix) : len(self.prefix) + random_part] = np.floor(
                chunk.stream(self).uniform(n, random_part) * base
            ).astype(np.int64)
        for i in range(len(self.prefix) + self.free - 1, len(self.prefix) + random_part - 1, -1):
            places[:, i] = rest % base
            rest //= base
        if self.check:  # EAN-13: weights 1, 3, 1, 3, ... over the first 12 digits
            weights = np.array([1 if i % 2 == 0 else 3 for i in range(self.length - 1)], dtype=np.int64)
            places[:, -1] = (10 - (places[:, :-1] * weights).sum(axis=1) % 10) % 10
        letters = np.frombuffer(self.alphabet.encode(), dtype=np.uint8)
        return Numbers(e._fields(letters[places]))


class Hex(Gen):
    """Random hexadecimal of ``length`` characters (tokens, digests), one per row."""

    def __init__(self, column, length: int) -> None:
        self.column = column
        self.length = length

    def describe(self) -> str:
        return f"random hex, {self.length} characters"

    def draw(self, chunk):
        n, width = chunk.n, self.length
        words = chunk.stream(self).raw(n * ((width + 15) // 16)).reshape(n, -1)
        nibbles = np.empty((n, words.shape[1] * 16), dtype=np.uint8)
        for i in range(16):
            nibbles[:, i::16] = ((words >> np.uint64(60 - 4 * i)) & np.uint64(15)).astype(np.uint8)
        chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[nibbles[:, :width]]
        return Numbers(e._fields(chars))
