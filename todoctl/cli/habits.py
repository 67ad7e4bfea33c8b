"""What users of other tools type: their commands mapped to todoctl's, global options after the
subcommand, a short help for a bare group, and the option they most likely meant (used by
TodoctlGroup in cli/app.py).

:data:`HABITS` is the one table of other tools' commands: the docs' "Coming from Alembic, Django,
Prisma or dbmate" page is generated from it (docs/hooks/reference.py), and ``todoctl
showmigrations``, ``todoctl migrate deploy`` or ``todoctl db:migrate`` are answered from it
(:func:`pointer`): exit 2, ``Did you mean: todoctl migrate status?``.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    name: str
    program: str  # what its users type first
    depth: int  # how many words name one of its commands: 2 for `prisma migrate deploy`


TOOLS = {
    tool.name: tool
    for tool in (
        Tool("Alembic", "alembic", 1),
        Tool("Django", "manage.py", 1),
        Tool("Prisma", "prisma", 2),
        Tool("dbmate", "dbmate", 1),
    )
}


@dataclass(frozen=True)
class Habit:
    """One command of another tool and todoctl's for it.

    Words in capitals are placeholders (REV, MSG, APP): a value typed in the other tool's place is
    carried into todoctl's (``todoctl sqlmigrate 0007`` -> ``todoctl migrate sql 0007``). ``todoctl``
    runs as written on the bundled app once its placeholders are filled (tests/test_coming_from.py).
    """

    tool: str
    typed: str  # what its users type: "manage.py showmigrations"
    todoctl: str  # "todoctl migrate status"
    note: str = ""  # Markdown, after the command in the docs' table; "exit N when behind" is tested


HABITS: tuple[Habit, ...] = (
    Habit("Alembic", "alembic upgrade head", "todoctl migrate up", "`migrate upgrade` is the same command"),
    Habit("Alembic", "alembic upgrade +2", "todoctl migrate up +2"),
    Habit("Alembic", "alembic upgrade REV", "todoctl migrate up REV"),
    Habit("Alembic", "alembic downgrade -1", "todoctl migrate down", "`migrate downgrade` is the same command"),
    Habit("Alembic", "alembic downgrade base", "todoctl migrate down base"),
    Habit("Alembic", "alembic downgrade REV", "todoctl migrate down REV"),
    Habit("Alembic", "alembic current", "todoctl migrate current", "exit 0 even when behind"),
    Habit("Alembic", "alembic heads", "todoctl migrate heads"),
    Habit("Alembic", "alembic history", "todoctl migrate history"),
    Habit("Alembic", "alembic upgrade head --sql", "todoctl migrate up --sql", "or `migrate sql`"),
    Habit("Alembic", "alembic downgrade 0007:0005 --sql", "todoctl migrate down --sql 0007:0005"),
    Habit(
        "Alembic", "alembic downgrade 0007:0006 --sql", "todoctl migrate sql 0007:0006",
        "a range from newer to older is the downgrade SQL",
    ),
    Habit("Alembic", "alembic stamp REV", "todoctl migrate stamp REV"),
    Habit("Alembic", "alembic revision --autogenerate -m MSG", "todoctl migrate new -m MSG"),
    Habit("Alembic", "alembic revision -m MSG", "todoctl migrate new --empty -m MSG"),
    Habit("Alembic", "alembic merge -m MSG", "todoctl migrate merge -m MSG"),
    Habit("Alembic", "alembic check", "todoctl migrate check"),
    Habit("Django", "manage.py migrate", "todoctl migrate up", "to an older revision: `migrate down REV`"),
    Habit("Django", "manage.py showmigrations", "todoctl migrate status", "every revision, [X] applied or [ ] pending"),
    Habit("Django", "manage.py sqlmigrate APP REV", "todoctl migrate sql REV"),
    Habit("Django", "manage.py sqlmigrate APP REV --backwards", "todoctl migrate sql REV --down"),
    Habit("Django", "manage.py makemigrations", "todoctl migrate new -m MSG"),
    Habit("Django", "manage.py makemigrations --check", "todoctl migrate check"),
    Habit("Django", "manage.py dbshell", "todoctl db shell"),
    Habit("Prisma", "prisma migrate deploy", "todoctl migrate up"),
    Habit(
        "Prisma", "prisma migrate dev", "todoctl migrate new -m MSG",
        "then `migrate up`; a database with hand changes is reported by `schema diff --against history`, never reset",
    ),
    Habit("Prisma", "prisma migrate status", "todoctl migrate status", "exit 1 when not at head, like Prisma's"),
    Habit("Prisma", "prisma migrate resolve --applied REV", "todoctl migrate stamp REV"),
    Habit("Prisma", "prisma migrate diff", "todoctl schema diff"),
    Habit(
        "Prisma", "prisma migrate reset", "todoctl migrate reset",
        "asks first; `--yes` without a terminal; refused on a protected database",
    ),
    Habit("Prisma", "prisma db seed", "todoctl seed"),
    Habit("dbmate", "dbmate up", "todoctl migrate up"),
    Habit("dbmate", "dbmate migrate", "todoctl migrate up"),
    Habit("dbmate", "dbmate rollback", "todoctl migrate down"),
    Habit("dbmate", "dbmate down", "todoctl migrate down"),
    Habit("dbmate", "dbmate new NAME", "todoctl migrate new -m NAME"),
    Habit(
        "dbmate", "dbmate status --exit-code", "todoctl migrate status --exit-code",
        "exit 1 when not at head; it is the default",
    ),
    Habit("dbmate", "dbmate status", "todoctl migrate status --no-exit-code", "exit 0"),
    Habit("dbmate", "dbmate wait", "todoctl db wait"),
    Habit("dbmate", "dbmate dump", "todoctl schema dump"),
)

_PLACEHOLDER = re.compile(r"[A-Z][A-Z_]*")
_STEP = re.compile(r"[-+]\d+")  # `downgrade -1`, `up +2`: arguments, not options


def _is_option(word: str) -> bool:
    return word.startswith("-") and not _STEP.fullmatch(word)


@dataclass(frozen=True)
class _Form:
    """A command line read as words: the positional words, and each option with its value (or None)."""

    positional: tuple[str, ...]
    options: dict


def _read(words: list[str], takes_value: set[str]) -> _Form:
    positional, options = [], {}
    i = 0
    while i < len(words):
        word = words[i]
        if _is_option(word):
            name, sep, value = word.partition("=")
            if sep:
                options[name] = value
            elif name in takes_value and i + 1 < len(words):
                options[name] = words[i + 1]
                i += 1
            else:
                options[name] = None
        else:
            positional.append(word)
        i += 1
    return _Form(tuple(positional), options)


def _typed_form(habit: Habit) -> tuple[tuple[str, ...], _Form]:
    """The habit's command words (``("migrate", "deploy")``) and the rest of what its users type."""
    words = shlex.split(habit.typed)[1:]
    depth = TOOLS[habit.tool].depth
    command, rest = tuple(words[:depth]), words[depth:]
    takes_value = {w for w, after in zip(rest, rest[1:]) if _is_option(w) and _PLACEHOLDER.fullmatch(after)}
    return command, _read(rest, takes_value)


@dataclass(frozen=True)
class Pointer:
    word: str  # the word todoctl has no command for
    habit: Habit
    suggestion: str  # todoctl's command, with the values the user typed filled in
    command_path: str  # "todoctl migrate sql": whose --help to read

    @property
    def hint(self) -> str:
        return f"{self.habit.tool}'s `{self.habit.typed}` is `{self.habit.todoctl}` here; run '{self.command_path} --help' for usage"


def pointer(root, args: list[str]) -> Pointer | None:
    """todoctl's command for what ``args`` would mean to another tool, when ``args`` names no
    command of todoctl's (``showmigrations``, ``migrate deploy``, ``db:migrate``); else None."""
    unknown = _unknown_command(root, args)
    if unknown is None:
        return None
    path, word, rest = unknown
    said = (*path, *[w for w in word.split(":") if w])
    best, best_key = None, None
    for index, habit in enumerate(HABITS):
        command, form = _typed_form(habit)
        if said[-len(command) :] != command and command[-len(said) :] != said:
            continue
        user = _read(rest, {name for name, placeholder in form.options.items() if placeholder})
        key, values = _score(form, user)
        key = (*key, len(shlex.split(habit.todoctl)), index)
        if best_key is None or key < best_key:
            best, best_key, best_values = habit, key, values
    if best is None:
        return None
    words = shlex.split(best.todoctl)
    filled = [best_values.get(w, w) if _PLACEHOLDER.fullmatch(w) else w for w in words]
    return Pointer(word, best, shlex.join(filled), " ".join(words[: 1 + len(command_path(root, words[1:]))]))


def command_path(root, words: list[str]) -> tuple[str, ...]:
    """The leading ``words`` that name a group or command of the tree: ``("migrate", "sql")``."""
    command, path = root, []
    for word in words:
        command = getattr(command, "commands", {}).get(word)
        if command is None:
            break
        path.append(word)
    return tuple(path)


def _score(form: _Form, user: _Form) -> tuple[tuple[int, int, int], dict[str, str]]:
    """How well what the user typed fits a habit's form (smaller is better), and the values it gives
    the placeholders. Positional words are aligned from the right: ``sqlmigrate 0007`` is REV."""
    matched = conflicts = missing = 0
    values: dict[str, str] = {}
    for name, placeholder in form.options.items():
        if name in user.options:
            matched += 1
            if placeholder and user.options[name]:
                values[placeholder] = user.options[name]
        else:
            missing += 1
    shift = len(user.positional) - len(form.positional)
    for i, word in enumerate(form.positional):
        j = i + shift
        given = user.positional[j] if 0 <= j < len(user.positional) else None
        if _PLACEHOLDER.fullmatch(word):
            if given is None:
                missing += 1
            else:
                values[word] = given
        elif given is None:
            missing += 1
        elif given == word:
            matched += 1
        else:
            conflicts += 1
    return (-matched, conflicts, missing), values


def _unknown_command(root, args: list[str]) -> tuple[tuple[str, ...], str, list[str]] | None:
    """Where ``args`` name a command that a group does not have: (the group's path, the word, what follows)."""
    command, path = root, []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            return None
        own = _options_of(command)
        if token.startswith("-"):
            i += 2 if ("=" not in token and own.get(token)) else 1
            continue
        commands = getattr(command, "commands", None)
        if commands is None:
            return None  # a command's argument
        if token not in commands:
            return tuple(path), token, args[i + 1 :]
        command = commands[token]
        path.append(token)
        i += 1
    return None


# The root options that take a value, and the flags; they may also follow the subcommand.
GLOBAL_WITH_VALUE = ("--database-url", "-d", "--project")
GLOBAL_FLAGS = ("--verbose", "-v", "--wide")

# Words other tools use for an option todoctl names differently (no spelling is close to them).
# Also the short flags todoctl gave up so that each means one thing everywhere (-p is --profile,
# -q is --quiet, -t is --threshold): their old long option is suggested.
FAMILIAR_OPTIONS = {
    "todoctl seed": {
        "-n": "--users", "--count": "--users", "--number": "--users", "-t": "--rows", "--tasks-per-user": "--rows",
    },
    "todoctl explain run": {"-p": "--param"},
    "todoctl explain check": {"-q": "--query"},
}
_SHORT_FLAG = re.compile(r"-[A-Za-z0-9]")


def option_hint(ctx, option_name: str) -> str | None:
    """What to say about an option the command does not take: the options most likely meant, best
    first (``--user`` -> ``--users``), or for a short flag, the long options it could stand for."""
    if ctx is None:
        return None
    meant = option_suggestions(ctx.command, ctx.command_path, option_name)
    if meant:
        return "did you mean " + ", ".join(repr(name) for name in meant) + "?"
    if _SHORT_FLAG.fullmatch(option_name):
        elsewhere = _short_flag_elsewhere(ctx.find_root().command, option_name)
        if elsewhere:
            long_name, where = elsewhere
            return f"{option_name} is {long_name} in '{where}', and '{ctx.command_path}' has no {long_name};"
    return None


def no_such_option(option_name: str):
    """Click's error for an option the current command does not take (reported with :func:`option_hint`)."""
    try:  # Typer >= 0.29 vendors Click
        from typer._click.globals import get_current_context
        from typer._click.exceptions import NoSuchOption
    except ImportError:  # pragma: no cover - older Typer on Click
        from click import get_current_context
        from click.exceptions import NoSuchOption

    return NoSuchOption(option_name, ctx=get_current_context())


def option_suggestions(command, command_path: str, option_name: str) -> list[str]:
    """The options of ``command`` most likely meant by ``option_name``, best first.

    A familiar word from another tool first (to difflib, --count is close to --json); for a short
    flag the command lacks, its long options starting with that letter (then those with a word
    starting with it: -t -> --lock-timeout); else the long options by similarity, the closest
    and any nearly as close.
    """
    familiar = FAMILIAR_OPTIONS.get(command_path, {}).get(option_name)
    if familiar:
        return [familiar]
    longs = [name for name in _options_of(command) if name.startswith("--") and name != "--help"]
    if _SHORT_FLAG.fullmatch(option_name):
        letter = option_name[1].lower()
        first = [name for name in longs if name[2:3].lower() == letter]
        inner = [name for name in longs if name not in first and any(w[:1].lower() == letter for w in name[2:].split("-"))]
        return first + inner
    ranked = sorted((-difflib.SequenceMatcher(None, option_name, name).ratio(), name) for name in longs)
    if not ranked or -ranked[0][0] < 0.6:
        return []
    best = -ranked[0][0]
    return [name for score, name in ranked if -score >= max(0.6, best - 0.15)][:3]


def _short_flag_elsewhere(root, flag: str) -> tuple[str, str] | None:
    """The long option ``flag`` stands for in another command (short flags mean one thing everywhere)."""
    stack = [(root, "todoctl")]
    while stack:
        command, path = stack.pop(0)
        for param in getattr(command, "params", ()):
            if flag in (*param.opts, *getattr(param, "secondary_opts", ())):
                return max(param.opts, key=len), path
        stack.extend((sub, f"{path} {name}") for name, sub in getattr(command, "commands", {}).items())
    return None


def _options_of(command) -> dict[str, bool]:
    """Every option name of a Click command -> whether it takes a value."""
    names: dict[str, bool] = {}
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") != "option":
            continue
        takes_value = not (param.is_flag or param.count)
        for name in (*param.opts, *param.secondary_opts):
            names[name] = takes_value
    return names


def _global_at(args: list[str], i: int, own: dict[str, bool]) -> int:
    """How many tokens from args[i] form a global option (0: none). The command's own options win."""
    token = args[i]
    name = token.split("=", 1)[0] if token.startswith("--") else token[:2]
    if name in own:
        return 0
    if token in GLOBAL_FLAGS:
        return 1
    if token in GLOBAL_WITH_VALUE:
        return 2 if i + 1 < len(args) else 1
    if token.startswith(("--database-url=", "--project=")) or (token.startswith("-d") and len(token) > 2 and not token.startswith("--")):
        return 1
    return 0


def hoist_global_options(root, args: list[str]) -> list[str]:
    """Move root options written after the subcommand (``migrate status -d URL``) to the front.

    The command tree is walked so that an option value (``-m -d``) or anything after ``--`` is
    never taken for a global option.
    """
    command, front, rest = root, [], []
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            rest.extend(args[i:])
            break
        own = _options_of(command)
        if command is not root and token.startswith("-"):
            width = _global_at(args, i, own)
            if width:
                front.extend(args[i : i + width])
                i += width
                continue
        if token.startswith("-") and "=" not in token and own.get(token):
            rest.extend(args[i : i + 2])  # the option and its value, whatever the value looks like
            i += 2
            continue
        sub = getattr(command, "commands", {}).get(token) if not token.startswith("-") else None
        if sub is not None:
            command = sub
        rest.append(token)
        i += 1
    hoisted = front + rest
    _refuse_repeated_globals(hoisted)
    return hoisted


_GLOBAL_NAMES = {"-d": "--database-url", "--database-url": "--database-url", "--project": "--project"}


def _refuse_repeated_globals(args: list[str]) -> None:
    """``todoctl -d A migrate reset -d B``: two databases named, one command. Whichever one won,
    a script meaning the other would act on the wrong database: exit 2 instead (values unshown:
    a URL may hold a password)."""
    from todoctl.errors import usage_error

    seen: dict[str, str] = {}
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        token = args[i]
        if token in GLOBAL_FLAGS:
            i += 1
            continue
        if token in _GLOBAL_NAMES:
            name, value, i = _GLOBAL_NAMES[token], (args[i + 1] if i + 1 < len(args) else ""), i + 2
        elif token.startswith(("--database-url=", "--project=")):
            key, _, value = token.partition("=")
            name, i = _GLOBAL_NAMES[key], i + 1
        elif token.startswith("-d") and not token.startswith("--"):
            name, value, i = "--database-url", token[2:], i + 1
        else:
            return
        if name in seen and seen[name] != value:
            raise usage_error(
                f"{name} is given twice with different values: todoctl will not guess which one is meant",
                f"give {name} once (before or after the command, not both)",
            )
        seen[name] = value


def short_help(ctx) -> str:
    """The usage line and the command list: what a bare group (``todoctl migrate``) prints."""
    formatter = ctx.make_formatter()
    ctx.command.format_usage(ctx, formatter)
    ctx.command.format_commands(ctx, formatter)
    formatter.write_paragraph()
    formatter.write_text(f"Run '{ctx.command_path} COMMAND --help' for a command's options.")
    return formatter.getvalue()


