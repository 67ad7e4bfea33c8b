"""Thresholds by their JSON names and by their old aliases: exact unit conversions, no database."""

from __future__ import annotations

import pytest

from todoctl.core.health import Thresholds
from todoctl.errors import ExitCode, TodoctlError


@pytest.fixture(autouse=True)
def no_health_variables(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("TODOCTL_HEALTH_"):
            monkeypatch.delenv(name)


def test_names_are_the_json_vocabulary_and_aliases_the_old_units():
    names = Thresholds.names()
    assert {"long_query_warn_ms", "cache_hit_warn_ratio", "replication_lag_warn_bytes", "window_max_ms", "pings"} <= set(names)
    assert not [n for n in names if n.endswith(("_s", "_pct", "_mb"))]
    aliases = Thresholds.aliases()
    assert aliases["long_query_warn_s"] == "long_query_warn_ms" and aliases["sequence_fail_pct"] == "sequence_fail_ratio"
    assert aliases["replication_slot_warn_mb"] == "replication_slot_warn_bytes"
    assert set(aliases.values()) <= set(names) and "pings" not in aliases


@pytest.mark.parametrize(
    ("new", "old", "field", "value"),
    [
        (("long_query_warn_ms", "60000"), ("long_query_warn_s", "60"), "long_query_warn_s", 60.0),
        (("cache_hit_warn_ratio", "0.99"), ("cache_hit_warn_pct", "99"), "cache_hit_warn_pct", 99.0),
        (("sequence_warn_ratio", "0.07"), ("sequence_warn_pct", "7"), "sequence_warn_pct", 7.0),  # 0.07 * 100 is 7.000000000000001 in floats
        (("replication_lag_warn_bytes", "1048576"), ("replication_lag_warn_mb", "1"), "replication_lag_warn_mb", 1.0),
        (("blocking_fail_ms", "1"), ("blocking_fail_s", "0.001"), "blocking_fail_s", 0.001),
    ],
)
def test_a_name_and_its_alias_convert_exactly(new, old, field, value):
    by_new = Thresholds.from_env(dict([new]))
    by_old = Thresholds.from_env(dict([old]))
    assert getattr(by_new, field) == getattr(by_old, field) == value
    assert by_new == by_old and by_new.canonical() == by_old.canonical()
    assert str(by_new.canonical()[new[0]]) == new[1]  # reported as typed


def test_the_environment_in_either_spelling(monkeypatch):
    monkeypatch.setenv("TODOCTL_HEALTH_WINDOW_MAX_MS", "90000")
    monkeypatch.setenv("TODOCTL_HEALTH_DEAD_TUPLE_WARN_PCT", "12.5")
    limits = Thresholds.from_env()
    assert (limits.window_max_s, limits.dead_tuple_warn_pct) == (90.0, 12.5)
    assert (limits.canonical()["window_max_ms"], limits.canonical()["dead_tuple_warn_ratio"]) == (90000, 0.125)
    monkeypatch.setenv("TODOCTL_HEALTH_WINDOW_MAX_S", "90")
    with pytest.raises(TodoctlError) as both:
        Thresholds.from_env()
    assert both.value.exit_code is ExitCode.USAGE and "TODOCTL_HEALTH_WINDOW_MAX_MS and TODOCTL_HEALTH_WINDOW_MAX_S" in both.value.message


def test_the_defaults_in_the_json_units():
    shown = Thresholds().canonical()
    assert shown["long_query_warn_ms"] == 60000 and isinstance(shown["long_query_warn_ms"], int)
    assert shown["cache_hit_warn_ratio"] == 0.99 and shown["connections_fail_ratio"] == 0.95
    assert shown["replication_lag_warn_bytes"] == 64 * 1024 * 1024 and shown["window_max_ms"] == 3_600_000
    assert list(shown) == Thresholds.names()


def test_sizes_given_in_mb_are_reported_as_whole_bytes():
    shown = Thresholds.from_env({"replication_lag_warn_mb": "0.3"}).canonical()
    assert shown["replication_lag_warn_bytes"] == 314573 and isinstance(shown["replication_lag_warn_bytes"], int)
