"""Password hashes in the formats apps store (bcrypt, argon2, pbkdf2, scrypt, sha256), drawn once per run."""

from __future__ import annotations

import todoctl.core.seed.generators as g

_BCRYPT = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _bcrypt(rng) -> str:
    return "$2b$12$" + "".join(rng.choice(_BCRYPT) for _ in range(53))


def _argon2(rng) -> str:
    salt = "".join(rng.choice(_B64) for _ in range(22))
    digest = "".join(rng.choice(_B64) for _ in range(43))
    return f"$argon2id$v=19$m=65536,t=3,p=4${salt}${digest}"


def _pbkdf2(rng) -> str:
    salt = "".join(rng.choice(_B64[:62]) for _ in range(22))
    digest = "".join(rng.choice(_B64) for _ in range(43)) + "="
    return f"pbkdf2_sha256$600000${salt}${digest}"


def _scrypt(rng) -> str:
    salt = "".join(rng.choice(_B64) for _ in range(22))
    digest = "".join(rng.choice(_B64) for _ in range(43))
    return f"$scrypt$ln=16,r=8,p=1${salt}${digest}"


def _sha256(rng) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(64))


HASH_FORMATS = {"bcrypt": _bcrypt, "argon2id": _argon2, "pbkdf2_sha256": _pbkdf2, "scrypt": _scrypt, "sha256": _sha256}


def hashes(sources, fmt: str, size: int) -> list[str]:
    rng = sources.rng(f"hashes/{fmt}")
    return [HASH_FORMATS[fmt](rng) for _ in range(size)]


def hash_sample(fmt: str) -> str:
    import random

    return HASH_FORMATS[fmt](random.Random(fmt))


def is_password(name: str, words: list[str]) -> bool:
    return "password" in words or name in ("hashed_password", "password_digest", "encrypted_password", "passwd", "pwd_hash") or (
        words[-1:] == ["hash"] and bool(set(words) & {"password", "pass", "pwd", "passwd"})
    )


def password_hash(column, name: str) -> g.Gen:
    """Password hashes in a real format: bcrypt unless the name or a CHECK asks for another
    (the plan tries the formats in order until one satisfies the column's constraints)."""
    formats = list(HASH_FORMATS)
    for preferred in ("argon2", "bcrypt", "pbkdf2", "scrypt"):
        if preferred in name.lower():
            formats.sort(key=lambda f: not f.startswith(preferred))
    gen = g.Computed(column, f"password hash ({formats[0]})", lambda s: hashes(s, formats[0], 256))
    gen.formats = formats
    return gen
