"""The users table: numbered emails on reserved domains, names, password hashes, themes, sign-up times."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from todoctl.core.seed.pools import DAY, text
from todoctl.core.seed.rows.draw import USERS_PER_CHUNK, field_count

if TYPE_CHECKING:
    from todoctl.core.seed.rows.generator import Generator

EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved: never a real inbox


def users(gen: "Generator") -> Iterator[tuple[bytes, int]]:
    """The users; their ids and sign-up times are kept on ``gen`` for the later tables."""
    import numpy as np

    from todoctl.core.seed.rows import encode as e

    p, pools, enc, now = gen.profile, gen.pools, gen.encoded, gen.now
    firsts, lasts = pools.first_names, pools.last_names
    span = p.signup_days * DAY
    ids = np.empty((p.users, 20), dtype=np.uint8)
    signups = np.empty(p.users, dtype=np.int64)
    for chunk, first in enumerate(range(0, p.users, USERS_PER_CHUNK)):
        n = min(USERS_PER_CHUNK, p.users - first)
        s = gen.stream("users", chunk)
        uid = e.uuids(s, n)
        u = s.uniform(7, n)
        numbers = range(gen.first_user + first, gen.first_user + first + n)
        first_names = [firsts[i] for i in s.below(len(firsts), u[0]).tolist()]
        last_names = [lasts[i] for i in s.below(len(lasts), u[1]).tolist()]
        emails = [
            text(f"{f}.{last}.{number}@{EMAIL_DOMAINS[number % 3]}".lower())
            for f, last, number in zip(first_names, last_names, numbers)
        ]
        named = u[2] < p.name_probability
        names = [text(f"{f} {last}") for f, last in zip(first_names, last_names)]
        created = now - s.below(span, u[3]) - 1
        updated = created + s.below(now - created, u[4])
        ids[first : first + n] = uid
        signups[first : first + n] = created
        every = np.arange(n)
        data = e.assemble(n, [
            e.Fixed(e.constant(field_count("users"), n)),
            e.Fixed(uid),
            e.Pick(e.Pool(emails), every),
            e.Pick(e.Pool(names, nullable=True), np.where(named, every, n)),
            e.Pick(enc.password_hashes, s.below(enc.password_hashes.size, u[5])),
            e.Pick(enc.themes, s.below(enc.themes.size, u[6])),
            e.Fixed(e.timestamps(created)),
            e.Fixed(e.timestamps(updated)),
        ])  # fmt: skip
        yield data, n
    gen.user_ids, gen.user_created = ids, signups
