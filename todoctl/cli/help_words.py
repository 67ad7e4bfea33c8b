"""`--help` names each value in words (TARGET, SECONDS, DIR), never as a Python type (`<list[str]>`).

Options name their value with a metavar, which Typer shows in place of the type; Typer always
appends the type to an argument (`target <str>`), so arguments are given a metavar here and
shown by it alone. Defaults and environment variables are Typer's own notation,
``[env var: NAME; default: VALUE]``, from ``envvar=`` and ``show_default=`` on each option.
"""

from __future__ import annotations

from typer.core import TyperArgument


class _ArgumentInWords(TyperArgument):
    def display_type_rich(self, ctx):  # the metavar says it: TARGET, REV, FILE
        return None


def in_words(root) -> None:
    """Give every argument of the command tree a metavar and drop its `<type>` (idempotent)."""
    stack = [root]
    while stack:
        command = stack.pop()
        stack.extend(getattr(command, "commands", {}).values())
        for param in command.params:
            if type(param) is TyperArgument:
                param.__class__ = _ArgumentInWords
                if param.metavar is None:
                    param.metavar = param.name.upper()


def whole_summaries(root) -> None:
    """Give every command its help's first paragraph, whole, as the line a group's command list shows.

    Click would cut it to fit about 45 characters ("exit 0 healthy, 1 a..."); the list wraps it
    instead. A command's first paragraph is its one-line summary (tests/cli/test_help.py).
    """
    stack = [root]
    while stack:
        command = stack.pop()
        stack.extend(getattr(command, "commands", {}).values())
        if not command.short_help and command.help:
            command.short_help = summary(command.help)


def summary(help_text: str) -> str:
    """The first paragraph of a help text, on one line."""
    import inspect

    return " ".join(inspect.cleandoc(help_text).split("\n\n", 1)[0].split())


def left_to_core(ctx, param, value):
    """An option whose environment variable and default todoctl's core resolves and checks itself
    (naming the variable in its errors): None unless the option was given on the command line.

    Its ``envvar=`` and default are there for --help to show them in Typer's notation; a test
    checks that the default shown is core's.
    """
    try:  # Typer >= 0.29 vendors Click
        from typer._click.core import ParameterSource
    except ImportError:  # pragma: no cover - older Typer on Click
        from click.core import ParameterSource

    if ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
        return value
    return None


def with_examples(text: str, *examples: str) -> str:
    """A group's help ending with one or two examples, in the block each command's docstring ends with.

    ``\\b`` keeps Click from re-wrapping the example lines into one paragraph.
    """
    label = "Example:" if len(examples) == 1 else "Examples:"
    lines = "\n".join(f"  {example}" for example in examples)
    return f"{text}\n\n\b\n{label}\n{lines}"
