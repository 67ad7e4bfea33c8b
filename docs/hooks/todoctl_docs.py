"""The docs site's generated parts: a mkdocs hook that expands ``<!-- todoctl:WHAT ARGS -->``
markers from the code itself, so the reference cannot drift from the program.

    commands GROUP     the `| command | what it does |` table of a group (or a command), from the
                       Typer app's command tree; tests/test_command_reference.py runs every row
    reference GROUP    each command of it: usage, the docstring, every argument and option with
                       its environment variable and default, and the examples
    options            the root's global options
    coming-from        other tools' commands and todoctl's (todoctl/cli/habits.py HABITS)
    health-checks      the health check registry (todoctl/core/health), with each check's thresholds
    thresholds         every health threshold: unit, default, variable, old name
    review-rules       the review rule registry (todoctl/core/review)
    lint-rules         `schema lint`'s rules (todoctl/core/review/lint_rules.py)
    exit-codes         todoctl.errors.ExitCode with each code's meaning
    json-schemas       every command's --json keys, from todoctl/json_schemas/*.schema.json
    include PATTERN    the Markdown files of docs/ matching PATTERN, in name order (guarantees-*.md)

:func:`expand` is what the hook runs on each page; tests call it to read a page as the site shows it.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

MARKER = re.compile(r"^<!-- todoctl:(?P<what>[a-z-]+)(?: (?P<args>[^>]*?))? -->[ \t]*$", re.MULTILINE)
DOCS = Path(__file__).resolve().parent.parent


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:  # mkdocs hook
    return expand(markdown, Path(config["docs_dir"]))


def expand(markdown: str, docs_dir: Path = DOCS) -> str:
    """``markdown`` with every marker replaced by what it stands for."""

    def replace(match: re.Match) -> str:
        what, args = match.group("what"), (match.group("args") or "").split()
        if what not in GENERATORS:
            raise ValueError(f"unknown docs marker todoctl:{what} (known: {', '.join(sorted(GENERATORS))})")
        if what == "include":
            return include(docs_dir, *args)
        return GENERATORS[what](*args)

    return MARKER.sub(replace, markdown)


def page(relative: str) -> str:
    """A page of docs/ as the site shows it (markers expanded)."""
    return expand((DOCS / relative).read_text(), DOCS)


# ---------------------------------------------------------------- the command tree


def _root():
    import typer.main

    from todoctl.cli.app import app
    from todoctl.cli.help_words import in_words, whole_summaries

    root = typer.main.get_command(app)
    in_words(root)  # as `todoctl` itself shows them (TodoctlGroup.main)
    whole_summaries(root)
    return root


def _context(command, path: tuple[str, ...]):
    """A Click context for ``command`` at ``path`` (for usage lines and help records)."""
    root = _root_cache()
    ctx = root.context_class(root, info_name="todoctl")
    node = root
    for word in path:
        node = node.commands[word]
        ctx = node.context_class(node, info_name=word, parent=ctx)
    return ctx


_ROOT = None


def _root_cache():
    global _ROOT
    if _ROOT is None:
        _ROOT = _root()
    return _ROOT


def _find(path: tuple[str, ...]):
    node = _root_cache()
    for word in path:
        node = node.commands[word]
    return node


def _is_group(command) -> bool:
    return hasattr(command, "commands")


def _runnable(path: tuple[str, ...]):
    """Every command under ``path`` that runs (a group that runs without a subcommand, too), in
    the order --help lists them: (path, command)."""
    command = _find(path)
    if not _is_group(command):
        return [(path, command)]
    found = [(path, command)] if command.invoke_without_command else []
    for name, sub in command.commands.items():
        if not sub.hidden:
            found.extend(_runnable((*path, name)))
    return found


def _words(path) -> str:
    return " ".join(("todoctl", *path))


def _arguments(command) -> list:
    return [p for p in command.params if getattr(p, "param_type_name", "") == "argument"]


def _options(command) -> list:
    return [p for p in command.params if getattr(p, "param_type_name", "") == "option" and not p.hidden]


def _argument_forms(param) -> list[str]:
    """How a summary writes an argument: ``TARGET``, ``[TABLE...]``; one form per alternative
    (``REV|FROM:TO`` is ``[REV]`` and ``[FROM:TO]``)."""
    names = (param.metavar or param.name.upper()).strip("[]").split("|")
    forms = []
    for name in names:
        name = name + ("..." if param.nargs == -1 else "")
        forms.append(name if param.required else f"[{name}]")
    return forms


def _summary_forms(path, command) -> list[str]:
    forms = [" ".join(path)]
    for param in _arguments(command):
        forms = [f"{form} {alternative}" for form in forms for alternative in _argument_forms(param)]
    return forms


def _summary(command) -> str:
    from todoctl.cli.help_words import summary

    return summary(command.help or "")


def commands(*group: str) -> str:
    """The `| command | what it does |` table of ``group``: every command, its arguments, its summary."""
    rows = ["| command | what it does |", "|---|---|"]
    for path, command in _runnable(tuple(group)):
        spans = " / ".join(f"`{form}`" for form in _summary_forms(path, command))
        rows.append(f"| {spans} | {_cell(_summary(command))} |")
    return "\n".join(rows)


def _help_body(command) -> tuple[str, list[str]]:
    """The docstring after its summary, as Markdown paragraphs, and its examples."""
    text = inspect.cleandoc(command.help or "").replace("\b", "")  # Click's no-rewrap mark
    paragraphs = text.split("\n\n")
    examples: list[str] = []
    last = paragraphs[-1].strip().splitlines() if paragraphs else []
    if last and last[0].strip() in ("Example:", "Examples:"):
        paragraphs.pop()
        examples = [line.strip() for line in last[1:] if line.strip()]
    body = [" ".join(p.split()) for p in paragraphs[1:]]
    return "\n\n".join(p for p in body if p), examples


def _default(param) -> str:
    shown = param.show_default
    if isinstance(shown, str):
        return shown
    if shown is False:
        return ""
    value = param.default
    if getattr(param, "is_flag", False):
        if param.secondary_opts and isinstance(value, bool):
            return (param.opts if value else param.secondary_opts)[0]
        return ""
    if value is None or value == () or value == []:
        return ""
    return str(value)


def _range(param) -> str:
    low, high = getattr(param, "min", None), getattr(param, "max", None)
    if low is not None and high is not None:
        return f" ({low} to {high})"
    if low is not None:
        return f" (at least {low})"
    return ""


def _envvar(param) -> str:
    names = param.envvar if isinstance(param.envvar, (list, tuple)) else [param.envvar] if param.envvar else []
    return ", ".join(f"`{name}`" for name in names)


def _cell(text: str) -> str:
    """Text in a table cell: one line, its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    """Text as code in a table cell. A pipe cannot be inside a code span there (Python-Markdown,
    which builds the site, and markdown-it, which the tests read with, disagree on escaping it), so
    ``tree|table`` is written as two spans with an escaped pipe between them."""
    return " \\| ".join(f"`{part}`" for part in str(text).split("|"))


def reference(*group: str) -> str:
    """Each command of ``group`` as --help gives it, in Markdown."""
    out = []
    for path, command in _runnable(tuple(group)):
        ctx = _context(command, path)
        body, examples = _help_body(command)
        usage = " ".join([_words(path), *command.collect_usage_pieces(ctx)])
        if _is_group(command):  # runs alone too (`todoctl health`): its subcommands are listed above
            usage = " ".join([_words(path), "[OPTIONS]"])
        part = [f"### `{_words(path)}`", "", _summary(command), "", "```text", usage, "```"]
        if body:
            part += ["", body]
        arguments = _arguments(command)
        if arguments:
            part += ["", "| argument | default | meaning |", "|---|---|---|"]
            for param in arguments:
                name = (param.metavar or param.name.upper()).strip("[]")
                default = "" if param.required else _default(param)
                part.append(f"| {_code(name)} | {_code(default) if default else ''} | {_cell(param.help or '')} |")
        options = [p for p in _options(command) if p.name != "help"]
        if options:
            part += ["", "| option | environment | default | meaning |", "|---|---|---|---|"]
            for param in options:
                names = param.get_help_record(ctx)[0]
                default = _default(param)
                meaning = _cell((param.help or "") + _range(param))
                part.append(f"| {_code(names)} | {_envvar(param)} | {_code(default) if default else ''} | {meaning} |")
        if examples:
            part += ["", "Example:" if len(examples) == 1 else "Examples:", "", "```sh", *examples, "```"]
        out.append("\n".join(part))
    return "\n\n".join(out)


def options() -> str:
    """The root's options: they may also follow the subcommand (`todoctl migrate status -d URL`)."""
    root = _root_cache()
    ctx = root.context_class(root, info_name="todoctl")
    rows = ["| option | environment | default | meaning |", "|---|---|---|---|"]
    for param in _options(root):
        if param.name == "help":
            continue
        default = _default(param)
        rows.append(
            f"| {_code(param.get_help_record(ctx)[0])} | {_envvar(param)} | {_code(default) if default else ''} | {_cell(param.help or '')} |"
        )
    return "\n".join(rows)


# ---------------------------------------------------------------- registries


def coming_from() -> str:
    from todoctl.cli.habits import HABITS, TOOLS

    out = []
    for tool in TOOLS.values():
        rows = [f"## {tool.name}", "", "| you type | in todoctl |", "|---|---|"]
        for habit in HABITS:
            if habit.tool == tool.name:
                note = f" ({_cell(habit.note)})" if habit.note else ""
                rows.append(f"| {_code(habit.typed)} | {_code(habit.todoctl)}{note} |")
        out.append("\n".join(rows))
    return "\n\n".join(out)


def health_checks() -> str:
    from todoctl.core.health.registry import REGISTRY
    from todoctl.core.health.report import CHECK_NAMES  # noqa: F401  (imports every check module)
    from todoctl.core.health.thresholds import listing

    by_check: dict[str, list[str]] = {}
    for row in listing():
        for check in row.check.split(", "):
            by_check.setdefault(check.split(" ")[0], []).append(f"`{row.name}` {_number(row.default)}")
    rows = ["| check | what it checks | thresholds (default) |", "|---|---|---|"]
    for name, spec in REGISTRY.items():
        rows.append(f"| `{name}` | {_cell(spec.description)} | {', '.join(by_check.get(name, []))} |")
    return "\n".join(rows)


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def thresholds() -> str:
    from todoctl.core.health.thresholds import listing

    rows = ["| name | unit | default | check | environment variable | old name |", "|---|---|---|---|---|---|"]
    for row in listing():
        old = f"`{row.old_name}`" if row.old_name else ""
        rows.append(f"| `{row.name}` | {row.unit} | {_number(row.default)} | {row.check} | `{row.env_var}` | {old} |")
    return "\n".join(rows)


def review_rules() -> str:
    import todoctl.core.review.rules  # noqa: F401  (registers every rule)
    from todoctl.core.review.engine import RULES, TIERS

    rows = ["| rule | tier | checks | why | needs the database |", "|---|---|---|---|---|"]
    for rule in sorted(RULES.values(), key=lambda r: TIERS.index(r.tier)):
        live = "yes" if rule.live else (f"partly: {rule.live_part}" if rule.live_part else "no")
        rows.append(f"| `{rule.id}` | {rule.tier} | {_cell(rule.title)} | {_cell(rule.why)} | {_cell(live)} |")
    return "\n".join(rows)


def lint_rules() -> str:
    from todoctl.core.review.lint_rules import RULES

    rows = ["| rule | finds |", "|---|---|"]
    rows += [f"| `{rule}` | {_cell(finds)} |" for rule, finds in RULES.items()]
    return "\n".join(rows)


def exit_codes() -> str:
    from todoctl.errors import MEANINGS, ExitCode

    rows = ["| code | name | meaning |", "|---|---|---|"]
    rows += [f"| {int(code)} | `{code.name.lower()}` | {_cell(MEANINGS[code])} |" for code in ExitCode]
    return "\n".join(rows)


ENVELOPE = ("schema_version", "command", "ok", "status", "target_database")


def json_schemas() -> str:
    from todoctl import json_schemas as schemas

    out = []
    for path in sorted(schemas.directory().glob("*.schema.json")):
        schema = json.loads(path.read_text())
        name = path.name.removesuffix(".schema.json")
        title = "error (any command)" if name == "error" else f"`todoctl {schemas.command_of(name)} --json`"
        rows = [f"### {title}", "", f"Schema: `todoctl/json_schemas/{path.name}`.", ""]
        keys = list(_keys(_top(schema), "", schema))
        if keys:
            rows += ["| key | type | meaning |", "|---|---|---|"]
            rows += [f"| `{key}` | {kind} | {_cell(meaning)} |" for key, kind, meaning in keys]
        else:
            rows.append("The envelope only.")
        out.append("\n".join(rows))
    return "\n\n".join(out)


def _resolve(spec: dict, root: dict) -> dict:
    """``spec`` with a ``$ref`` (``#/$defs/Name``, as the generated schemas write them) followed."""
    while isinstance(spec, dict) and "$ref" in spec:
        ref = spec["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"a JSON Schema reference outside the schema: {ref}")
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        spec = {**target, **{k: v for k, v in spec.items() if k != "$ref"}}
    return spec


def _top(schema: dict) -> dict:
    """The document's object: one, or the alternatives of an ``anyOf`` (a command whose document is
    one of several results, such as a ``--dry-run``) as one object; a key not in every alternative
    is optional."""
    alternatives = [_resolve(s, schema) for s in schema.get("anyOf", [])] or [schema]
    properties: dict = {}
    for alternative in alternatives:
        for key, spec in alternative.get("properties", {}).items():
            properties.setdefault(key, spec)
    required = set.intersection(*(set(a.get("required", ())) for a in alternatives))
    return {"properties": properties, "required": sorted(required)}


def _object_of(spec: dict, root: dict) -> dict | None:
    """The object ``spec`` describes (itself, a reference, or the non-null alternative of an
    ``anyOf``), or None when it is not one."""
    spec = _resolve(spec, root)
    if spec.get("type") == "object" or "properties" in spec:
        return spec
    alternatives = [_resolve(s, root) for s in spec.get("anyOf", [])]
    objects = [s for s in alternatives if s.get("type") == "object" or "properties" in s]
    if len(objects) == 1 and all(s in objects or s.get("type") == "null" for s in alternatives):
        return objects[0]
    return None


def _items_of(spec: dict, root: dict) -> dict | None:
    """The object each item of the list ``spec`` describes (a nullable list, too), or None."""
    spec = _resolve(spec, root)
    lists = [spec] if spec.get("type") == "array" else [_resolve(s, root) for s in spec.get("anyOf", []) if _resolve(s, root).get("type") == "array"]
    if len(lists) != 1 or not isinstance(lists[0].get("items"), dict):
        return None
    return _object_of(lists[0]["items"], root)


def _keys(schema: dict, prefix: str, root: dict, depth: int = 0):
    """(dotted key, type, meaning) of every property, objects and lists of objects opened up to two
    levels (references to ``$defs`` followed)."""
    required = set(schema.get("required", ()))
    for key, spec in schema.get("properties", {}).items():
        if not prefix and key in ENVELOPE:
            continue
        dotted = f"{prefix}{key}"
        kind = _kind(spec, root)
        if key not in required and prefix == "" and "null" not in kind:
            kind += ", optional"
        yield dotted, kind, _resolve(spec, root).get("description", "")
        if depth >= 2:
            continue
        inner = _object_of(spec, root)
        if inner is not None:
            yield from _keys(inner, dotted + ".", root, depth + 1)
        items = _items_of(spec, root)
        if items is not None:
            yield from _keys(items, dotted + "[].", root, depth + 1)


def _kind(spec: dict, root: dict | None = None) -> str:
    spec = _resolve(spec, root or {})
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    if "enum" in spec:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in spec["enum"])
    kind = spec.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        items = _resolve(spec.get("items", {}), root or {}) if isinstance(spec.get("items"), dict) else {}
        inner = items.get("type") if isinstance(items, dict) else None
        return f"array of {inner}s" if isinstance(inner, str) else "array"
    if kind:
        return kind
    if "anyOf" in spec or "oneOf" in spec:
        return " or ".join(dict.fromkeys(_kind(s, root) for s in spec.get("anyOf", spec.get("oneOf", []))))
    return "any"


def include(docs_dir: Path, pattern: str) -> str:
    """The pages of docs/ matching ``pattern`` (name order), one after another."""
    parts = [path.read_text().strip() for path in sorted(Path(docs_dir).glob(pattern))]
    return "\n\n".join(parts)


GENERATORS = {
    "commands": commands,
    "reference": reference,
    "options": options,
    "coming-from": coming_from,
    "health-checks": health_checks,
    "thresholds": thresholds,
    "review-rules": review_rules,
    "lint-rules": lint_rules,
    "exit-codes": exit_codes,
    "json-schemas": json_schemas,
    "include": include,
}
