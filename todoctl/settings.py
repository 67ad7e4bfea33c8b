"""Numbers read from ``TODOCTL_*`` environment variables, and PostgreSQL durations, checked in one place.

A variable that is set but is not a number in its range is a usage error (exit 2) naming the
variable and its value, found before anything connects: ``TODOCTL_LOCK_WAIT=abc`` must not
surface later as an "unexpected ValueError" (exit 1), nor ``1e999`` as an endless wait.
"""

from __future__ import annotations

import math
import os
import re
from typing import TypeVar

from todoctl.errors import usage_error

Number = TypeVar("Number", int, float)


def env_number(
    name: str,
    default: Number,
    *,
    minimum: Number,
    maximum: Number,
    kind: type[Number] = int,
) -> Number:
    """``name`` from the environment as ``kind`` within ``minimum..maximum``; ``default`` when unset.

    An empty value is an error too, not the default: ``VAR=`` is a mistake more often than a wish.
    """
    raw = os.environ.get(name)
    if raw is None:
        return default
    hint = f"set {name} to {_what(kind)} between {minimum:g} and {maximum:g}, or unset it for the default ({default:g})"
    return number(raw, f"{name}={raw!r}", hint, minimum=minimum, maximum=maximum, kind=kind)


def number(raw: str, what: str, hint: str, *, minimum: Number, maximum: Number, kind: type[Number] = int) -> Number:
    """``raw`` as ``kind`` within ``minimum..maximum``, else a usage error about ``what`` (the
    variable or the option as the user wrote it): one check for a variable and its option."""
    try:
        value = kind(raw.strip())
    except (ValueError, OverflowError):
        raise usage_error(f"{what} is not {_what(kind)}", hint) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise usage_error(f"{what} is not a finite number", hint)
    if not minimum <= value <= maximum:
        raise usage_error(f"{what} is outside {minimum:g}..{maximum:g}", hint)
    return value


def _what(kind: type) -> str:
    return "a whole number" if kind is int else "a number"


# What `SET lock_timeout` / `SET statement_timeout` accept (PostgreSQL 12+, "Parameter Names and
# Values"): a number, optionally fractional, optionally followed by one of these case-sensitive
# units; without a unit, milliseconds. Checked here so a typo is exit 2 before connecting, not a
# failed revision. (The server also takes hex and exponents; nobody means those for a timeout.)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60_000.0, "h": 3_600_000.0, "d": 86_400_000.0}
_DURATION = re.compile(r"^\s*(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>us|ms|s|min|h|d)?\s*$")
MAX_TIMEOUT_MS = 2_147_483_647  # INT_MAX milliseconds (about 24.8 days), the server's limit; 0 disables


def duration_ms(value: str) -> float:
    """Milliseconds in a duration :func:`check_duration` accepted (no unit: milliseconds)."""
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"not a PostgreSQL duration: {value!r}")
    return float(match["number"]) * _UNIT_MS[match["unit"] or "ms"]


def check_duration(value: str, what: str, *, allow_zero: bool = True) -> str:
    """``value`` if PostgreSQL accepts it for a timeout setting, else a usage error naming ``what``.

    ``allow_zero=False`` where a timeout is a safety rule (explain): 0 would disable it.
    """
    match = _DURATION.match(value)
    units = "units us, ms, s, min, h, d" + ("; 0 disables" if allow_zero else "")
    hint = f"a PostgreSQL duration such as 5s, 500ms, 10min or 1h ({units})"
    if match is None:
        raise usage_error(f"{what} {value!r} is not a PostgreSQL duration", hint)
    ms = float(match["number"]) * _UNIT_MS[match["unit"] or "ms"]
    if not allow_zero and ms < 1:
        raise usage_error(f"{what} {value!r} would turn the timeout off", hint)
    if ms > MAX_TIMEOUT_MS:
        raise usage_error(f"{what} {value!r} is longer than PostgreSQL allows ({MAX_TIMEOUT_MS} ms, about 24 days)", hint)
    return value.strip()
