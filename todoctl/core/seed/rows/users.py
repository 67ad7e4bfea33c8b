"""The users table: numbered emails on reserved domains, names, password hashes, themes, sign-up times."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from todoctl.core.seed.pools import DAY, NULL, TIMESTAMP, text, uuid_field
from todoctl.core.seed.rows.draw import CHUNK_ROWS, field_count

if TYPE_CHECKING:
    from todoctl.core.seed.rows.generator import Generator

EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # reserved: never a real inbox


def users(gen: "Generator") -> Iterator[tuple[bytes, int]]:
    """The users; their ids and sign-up times are kept on ``gen`` for the later tables."""
    rng = gen.rng("users")
    r, bits = rng.random, rng.getrandbits
    p, pools, now = gen.profile, gen.pools, gen.now
    header = field_count("users")
    firsts, lasts = pools.first_names, pools.last_names
    hashes, themes = pools.password_hashes, pools.themes
    span = p.signup_days * DAY
    out: list[bytes] = []
    for number in range(gen.first_user, gen.first_user + p.users):
        uid = uuid_field(bits)
        gen.user_ids += uid
        first = firsts[int(r() * len(firsts))]
        last = lasts[int(r() * len(lasts))]
        email = f"{first}.{last}.{number}@{EMAIL_DOMAINS[number % 3]}".lower()
        name = text(f"{first} {last}") if r() < p.name_probability else NULL
        created = now - int(r() * span) - 1
        gen.user_created.append(created)
        updated = created + int(r() * (now - created))
        out.append(
            b"".join(
                (header, uid, text(email), name, hashes[int(r() * len(hashes))], themes[int(r() * 1024)],
                 TIMESTAMP(8, created), TIMESTAMP(8, updated))
            )
        )  # fmt: skip
        if len(out) == CHUNK_ROWS:
            yield b"".join(out), len(out)
            out = []
    if out:
        yield b"".join(out), len(out)
