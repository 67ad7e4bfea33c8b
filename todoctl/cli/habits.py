"""What users of other tools type: global options after the subcommand, a short help for a bare
group, and the option they most likely meant (used by TodoctlGroup in cli/app.py)."""

from __future__ import annotations

import difflib

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
    return front + rest


def short_help(ctx) -> str:
    """The usage line and the command list: what a bare group (``todoctl migrate``) prints."""
    formatter = ctx.make_formatter()
    ctx.command.format_usage(ctx, formatter)
    ctx.command.format_commands(ctx, formatter)
    formatter.write_paragraph()
    formatter.write_text(f"Run '{ctx.command_path} COMMAND --help' for a command's options.")
    return formatter.getvalue()


def option_suggestion(ctx, option_name: str, possibilities) -> str | None:
    """The option most likely meant: Click's close spellings, else a familiar word from other tools."""
    familiar = FAMILIAR_OPTIONS.get(ctx.command_path, {}).get(option_name) if ctx is not None else None
    if familiar:  # before Click's spellings: to difflib, --count is close to --json
        return repr(familiar)
    if possibilities:
        return ", ".join(repr(p) for p in sorted(possibilities))
    if ctx is None:
        return None
    names = [n for n in _options_of(ctx.command) if n.startswith("--")]
    close = difflib.get_close_matches(option_name, names, n=1, cutoff=0.6)
    return repr(close[0]) if close else None
