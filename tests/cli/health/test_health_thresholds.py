"""Threshold names in the JSON vocabulary (issue 16): `--threshold` and `TODOCTL_HEALTH_*` take the
names `health --json` reports (`long_query_warn_ms`, `cache_hit_warn_ratio`, `*_bytes`); the old
names in seconds, percent and MB stay aliases in their old units."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.helpers import unfolded
from todoctl.cli.app import app
from todoctl.core.health import Thresholds

runner = CliRunner()
REFUSED = "postgresql://health@127.0.0.1:1/nothing"  # never reached: bad names and values are refused first

# The same limits, spelled by the JSON names and by the old ones (in their old units).
NEW = {
    "long_query_warn_ms": "45000",
    "idle_in_transaction_fail_ms": "1500",
    "cache_hit_warn_ratio": "0.97",
    "dead_tuple_fail_ratio": "0.333",
    "replication_lag_warn_bytes": "134217728",
    "replication_slot_fail_bytes": "524288",
    "window_max_ms": "120000",
}
OLD = {
    "long_query_warn_s": "45",
    "idle_in_transaction_fail_s": "1.5",
    "cache_hit_warn_pct": "97",
    "dead_tuple_fail_pct": "33.3",
    "replication_lag_warn_mb": "128",
    "replication_slot_fail_mb": "0.5",
    "window_max_s": "120",
}
EXPECTED = {
    "long_query_warn_ms": 45000,
    "idle_in_transaction_fail_ms": 1500,
    "cache_hit_warn_ratio": 0.97,
    "dead_tuple_fail_ratio": 0.333,
    "replication_lag_warn_bytes": 134217728,
    "replication_slot_fail_bytes": 524288,
    "window_max_ms": 120000,
}


def health(url: str, *args: str, env: dict | None = None):
    return runner.invoke(app, ["-d", url, "health", *args], env={"COLUMNS": "200", **(env or {})})


def options(pairs: dict[str, str]) -> list[str]:
    return [arg for name, value in pairs.items() for arg in ("-t", f"{name}={value}")]


def variables(pairs: dict[str, str]) -> dict[str, str]:
    return {Thresholds.env_name(name): value for name, value in pairs.items()}


def thresholds_of(result) -> dict:
    assert result.exit_code in (0, 1), result.output  # `version` may warn on a newer server
    document = json.loads(result.stdout)
    assert "error" not in document, document
    return document["thresholds"]


def test_old_and_new_names_give_the_same_json_thresholds_by_option_and_environment(migrated_db):
    url = migrated_db.url
    by_new = thresholds_of(health(url, "-c", "version", "--json", *options(NEW)))
    by_old = thresholds_of(health(url, "-c", "version", "--json", *options(OLD)))
    env_new = thresholds_of(health(url, "-c", "version", "--json", env=variables(NEW)))
    env_old = thresholds_of(health(url, "-c", "version", "--json", env=variables(OLD)))
    assert by_new == by_old == env_new == env_old
    assert {name: by_new[name] for name in EXPECTED} == EXPECTED  # exactly what was typed, in the JSON's units
    assert list(by_new) == Thresholds.names()  # the JSON shows the names --threshold takes
    untouched = Thresholds().canonical()
    assert {k: v for k, v in by_new.items() if k not in EXPECTED} == {k: v for k, v in untouched.items() if k not in EXPECTED}


def test_an_old_name_in_the_environment_and_a_new_one_as_option_is_no_conflict(migrated_db):
    result = health(
        migrated_db.url, "-c", "version", "--json", "-t", "long_query_warn_ms=2500",
        env={"TODOCTL_HEALTH_LONG_QUERY_WARN_S": "7", "TODOCTL_HEALTH_CACHE_HIT_FAIL_PCT": "80"},
    )
    limits = thresholds_of(result)
    assert limits["long_query_warn_ms"] == 2500  # the option wins over the environment, in either spelling
    assert limits["cache_hit_fail_ratio"] == 0.8


def usage_error(result) -> tuple[str, str]:
    assert result.exit_code == 2, result.output
    lines = unfolded(result.stderr)  # each message folded at words to COLUMNS, one line again
    assert len(lines) == 2 and lines[0].startswith("Error: ") and lines[1].startswith("Hint: "), lines
    assert result.stdout == ""
    return lines[0], lines[1]


def test_a_name_and_its_alias_in_one_source_is_exit_2():
    error, hint = usage_error(health(REFUSED, "-t", "long_query_warn_ms=1000", "-t", "long_query_warn_s=1"))
    assert "long_query_warn_ms and long_query_warn_s in --threshold set the same threshold" in error
    assert "keep only long_query_warn_ms" in hint
    error, hint = usage_error(
        health(REFUSED, env={"TODOCTL_HEALTH_CACHE_HIT_WARN_RATIO": "0.9", "TODOCTL_HEALTH_CACHE_HIT_WARN_PCT": "90"})
    )
    assert "TODOCTL_HEALTH_CACHE_HIT_WARN_RATIO and TODOCTL_HEALTH_CACHE_HIT_WARN_PCT" in error
    assert "keep only TODOCTL_HEALTH_CACHE_HIT_WARN_RATIO" in hint


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("-t", "cache_hit_warn_ratio=1.5"), {}, "cache_hit_warn_ratio must be 0 to 1, not '1.5' (from --threshold)"),
        (("-t", "cache_hit_warn_ratio=99"), {}, "cache_hit_warn_ratio must be 0 to 1"),  # a percentage by habit
        ((), {"TODOCTL_HEALTH_SEQUENCE_FAIL_RATIO": "-0.1"}, "(from TODOCTL_HEALTH_SEQUENCE_FAIL_RATIO)"),
        (("-t", "long_query_warn_ms=-1"), {}, "long_query_warn_ms must be 0 or more"),
        (("-t", "window_max_ms=soon"), {}, "window_max_ms must be a number"),
        (("-t", "replication_slot_warn_bytes=1.5"), {}, "replication_slot_warn_bytes must be a whole number"),
        (("-t", "connections_warn_pct=101"), {}, "connections_warn_pct must be 0 to 100"),  # the alias, its unit
    ],
)
def test_out_of_range_in_the_new_units_exits_2_naming_the_source(args, env, message):
    error, hint = usage_error(health(REFUSED, *args, env=env))
    assert message in error
    assert hint.startswith("Hint: e.g. --threshold ")


def test_a_misspelled_name_suggests_the_closest_and_lists_the_json_names():
    error, hint = usage_error(health(REFUSED, "-t", "long_query_wrn_ms=1000"))
    assert error == "Error: unknown threshold long_query_wrn_ms"
    assert hint.startswith("Hint: did you mean long_query_warn_ms? thresholds are: connect_warn_ms, ")
    listed = hint.split("thresholds are: ", 1)[1].split(", ")
    assert listed == Thresholds.names() and not set(listed) & set(Thresholds.aliases())
    # Close to an old name: the value was likely written in its unit, so both spellings are offered.
    _, hint = usage_error(health(REFUSED, "-t", "cache_hit_warn_pc=95"))
    assert "did you mean cache_hit_warn_pct (in percent; or cache_hit_warn_ratio, as a ratio 0-1)?" in hint


def test_thresholds_lists_every_name_unit_default_and_variable():
    result = runner.invoke(app, ["health", "thresholds", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["thresholds"]
    assert [row["name"] for row in listed] == Thresholds.names()
    defaults = Thresholds().canonical()
    for row in listed:
        assert row["default"] == defaults[row["name"]]
        assert row["env_var"] == "TODOCTL_HEALTH_" + row["name"].upper()
        assert row["unit"] and row["check"]
        suffix = row["name"].rsplit("_", 1)[-1]
        assert row["unit"] == {"ms": "ms", "ratio": "ratio 0-1", "bytes": "bytes"}.get(suffix, row["unit"])
    assert {row["old_name"] for row in listed} - {None} == set(Thresholds.aliases())
    # Every check named is one health has (or health's own queries, or the probe).
    from todoctl.core.health import CHECK_NAMES

    named = {part.strip().split(" ")[0] for row in listed for part in row["check"].split(",")}
    assert named - set(CHECK_NAMES) <= {"health's", "pool-probe"}


def test_thresholds_as_a_table_names_every_one():
    result = runner.invoke(app, ["health", "thresholds"], terminal_width=80)
    assert result.exit_code == 0, result.output
    for name in Thresholds.names():
        assert f" {name} " in result.stdout, name
    assert "TODOCTL_HEALTH_" in result.stdout


def test_health_help_no_longer_lists_every_name():
    result = runner.invoke(app, ["health", "--help"], terminal_width=100)
    assert result.exit_code == 0
    flat = " ".join(result.stdout.split())
    import re

    listed = [name for name in Thresholds.names() if re.search(rf"(?<![-\w]){name}(?!\w)", flat)]
    assert listed == ["long_query_warn_ms"], listed  # the one example (--pings is an option of its own)
    assert "todoctl health thresholds" in flat


