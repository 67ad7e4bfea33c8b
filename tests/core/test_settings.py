"""Numbers from TODOCTL_* variables and PostgreSQL durations: checked in one place, exit 2."""

from __future__ import annotations

import pytest

from todoctl.core.migrate.settings import Timeouts, timeout_statements
from todoctl.errors import ExitCode, TodoctlError
from todoctl.settings import check_duration, env_number


@pytest.mark.parametrize("raw", ["abc", "-1", "inf", "1e999", "", "nan", "2.5", "100000"])
def test_env_number_refuses_what_is_not_a_number_in_range(monkeypatch, raw):
    monkeypatch.setenv("TODOCTL_X", raw)
    with pytest.raises(TodoctlError) as caught:
        env_number("TODOCTL_X", 10, minimum=1, maximum=3600)
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.message.startswith(f"TODOCTL_X={raw!r} is not") or "outside" in caught.value.message
    assert "unset it for the default (10)" in caught.value.hint


def test_env_number_default_and_value(monkeypatch):
    monkeypatch.delenv("TODOCTL_X", raising=False)
    assert env_number("TODOCTL_X", 10, minimum=1, maximum=3600) == 10
    monkeypatch.setenv("TODOCTL_X", " 2.5 ")
    assert env_number("TODOCTL_X", 60.0, minimum=0.0, maximum=86400.0, kind=float) == 2.5


def test_lock_wait_message(monkeypatch):
    from todoctl.core.migrate.lock import lock_wait_seconds

    monkeypatch.setenv("TODOCTL_LOCK_WAIT", "abc")
    with pytest.raises(TodoctlError, match="TODOCTL_LOCK_WAIT='abc' is not a number"):
        lock_wait_seconds()


# Each accepted or refused by `SET lock_timeout` on PostgreSQL 18 alike (checked by hand against the server).
@pytest.mark.parametrize("value", ["5s", "5 s", " 5s ", "1.5s", "0", "10min", "2147483647", "24d", "100us", ".5s", "1h"])
def test_durations_postgresql_accepts(value):
    assert check_duration(value, "--lock-timeout") == value.strip()


@pytest.mark.parametrize("value", ["5S", "5 sec", "-1", "5 parsecs", "25d", "2147483648", "5s5", "", "banana"])
def test_durations_postgresql_refuses(value):
    with pytest.raises(TodoctlError) as caught:
        check_duration(value, "--lock-timeout")
    assert caught.value.exit_code == ExitCode.USAGE
    assert "--lock-timeout" in caught.value.message


def test_zero_is_refused_where_a_timeout_is_a_safety_rule():
    with pytest.raises(TodoctlError, match="turn the timeout off"):
        check_duration("0", "--timeout", allow_zero=False)


def test_timeouts_name_where_the_bad_value_came_from(monkeypatch):
    monkeypatch.setenv("TODOCTL_STATEMENT_TIMEOUT", "forever")
    with pytest.raises(TodoctlError, match="TODOCTL_STATEMENT_TIMEOUT 'forever'"):
        Timeouts.from_env()
    with pytest.raises(TodoctlError, match="TODOCTL_STATEMENT_TIMEOUT"):
        timeout_statements(None)  # `migrate sql` reads the same variables
    with pytest.raises(TodoctlError, match="--statement-timeout '5 parsecs'"):
        Timeouts.from_env(statement_timeout="5 parsecs")
    monkeypatch.delenv("TODOCTL_STATEMENT_TIMEOUT")
    assert Timeouts.from_env("2s", "1min") == Timeouts("2s", "1min")
