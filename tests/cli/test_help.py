"""Help people can read (issue 16): walked from the Typer app's command tree, not a hand list.

Every command's and every group's help ends with one or two examples; no value is shown as a Python type
(`<list[str]>`); each short flag means one thing across the whole tool; defaults and environment
variables are Typer's one notation (`[env var: NAME; default: VALUE]`), never written by hand.
"""

from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from todoctl.cli.app import app

runner = CliRunner()
ROOT = typer.main.get_command(app)


def _walk(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(ROOT))
LEAVES = [(path, command) for path, command in COMMANDS if not hasattr(command, "commands")]


def help_of(path) -> str:
    result = runner.invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_walk_finds_the_tree():
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"migrate up", "migrate reset", "db cancel", "explain baseline save", "seed", "health thresholds"} <= names


GROUPS = [path for path, command in COMMANDS if hasattr(command, "commands")]


def test_the_walk_finds_the_groups():
    assert {(), ("migrate",), ("schema",), ("db",), ("explain",), ("explain", "baseline"), ("health",)} <= set(GROUPS)


@pytest.mark.parametrize("path", GROUPS, ids=lambda p: " ".join(p) or "todoctl")
def test_command_lists_show_whole_summaries(path):
    """`todoctl --help` lists each command with its whole one-line summary, never cut with "..."."""
    from todoctl.cli.help_words import summary

    text = help_of(path).split("\nCommands:\n", 1)[1]
    flat = " ".join(text.split())
    assert "..." not in flat
    group = ROOT
    for word in path:
        group = group.commands[word]
    for name, command in group.commands.items():
        whole = summary(command.help)
        assert f"{name} {whole}" in flat, (name, whole)
        assert len(whole) <= 160 and "\n" not in whole, f"{name}: the first paragraph is its one-line summary"


# Groups too (`todoctl --help`, `todoctl migrate --help`): a group without examples fails here.
@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda p: " ".join(p) or "todoctl")
def test_help_ends_with_one_or_two_examples(path):
    text = help_of(path)
    description = text.split("\nArguments:")[0].split("\nOptions:")[0].rstrip()
    block = description.rsplit("\n\n", 1)[-1].splitlines()
    assert block[0].strip() in ("Example:", "Examples:"), description
    examples = [line.strip() for line in block[1:]]
    assert 1 <= len(examples) <= 2 and all("todoctl " in e for e in examples), block
    assert block[0].strip() == ("Example:" if len(examples) == 1 else "Examples:")


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda p: " ".join(p) or "todoctl")
def test_no_python_type_placeholder_leaks(path):
    leaked = re.findall(r"<[^<>\s]+>", help_of(path))
    assert not leaked, f"{' '.join(path)}: {leaked} (give the parameter a metavar)"


def test_each_short_flag_means_one_thing():
    meanings: dict[str, set[str]] = {}
    for _, command in COMMANDS:
        for param in command.params:
            longest = max(param.opts, key=len)
            for flag in (*param.opts, *getattr(param, "secondary_opts", ())):
                if re.fullmatch(r"-[A-Za-z]", flag):
                    meanings.setdefault(flag, set()).add(longest)
    twice = {flag: names for flag, names in meanings.items() if len(names) > 1}
    assert not twice, twice


def test_defaults_and_variables_are_never_written_by_hand():
    hand = re.compile(r"\[(env|default)\b|\bdefault:|\benv var\b", re.IGNORECASE)
    written = [
        f"{' '.join(path)} {param.name}: {param.help}"
        for path, command in COMMANDS
        for param in command.params
        if param.help and hand.search(param.help)
    ]
    assert not written, written


def test_environment_variables_are_shown_in_typers_notation():
    text = help_of(("migrate", "up"))
    flat = " ".join(text.split())
    assert "[env var: TODOCTL_LOCK_TIMEOUT; default: 5s]" in flat
    assert "[env var: TODOCTL_STATEMENT_TIMEOUT; default: 10min]" in flat
    assert "[env var: TODOCTL_LOCK_WAIT; default: 60]" in flat
    assert "[env var: DATABASE_URL;" in " ".join(help_of(()).split())


def test_the_defaults_shown_are_the_ones_core_uses():
    from todoctl.core.health.thresholds import Thresholds
    from todoctl.core.migrate.lock import DEFAULT_LOCK_WAIT
    from todoctl.core.migrate.settings import DEFAULT_LOCK_TIMEOUT, DEFAULT_STATEMENT_TIMEOUT

    up = ROOT.commands["migrate"].commands["up"]
    defaults = {p.name: p.default for p in up.params}
    assert defaults["lock_timeout"] == DEFAULT_LOCK_TIMEOUT
    assert defaults["statement_timeout"] == DEFAULT_STATEMENT_TIMEOUT
    assert float(defaults["lock_wait"]) == DEFAULT_LOCK_WAIT
    health = {p.name: p.default for p in ROOT.commands["health"].params}
    assert int(health["pings"]) == Thresholds().pings


def test_an_environment_variable_still_wins_over_the_shown_default(empty_db):
    # The default is for --help; core reads the variable (and names it when it is wrong).
    result = runner.invoke(app, ["-d", empty_db.url, "migrate", "up"], env={"TODOCTL_LOCK_TIMEOUT": "soon"})
    assert result.exit_code == 2
    assert "TODOCTL_LOCK_TIMEOUT" in result.stderr


@pytest.mark.parametrize(
    ("args", "meant"),
    [(("seed", "-t", "3"), "--rows"), (("explain", "task-list", "-p", "x=1"), "--param"),
     (("explain", "check", "-q", "task-list"), "--query")],
)
def test_a_short_flag_given_up_suggests_its_long_option(args, meant):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2
    assert f"did you mean '{meant}'?" in result.stderr
