"""`todoctl version` as aligned lines (one fact per line: easy to paste into a bug report)."""

from __future__ import annotations

from todoctl.render.layout import echo


def report(result) -> None:
    rows = [("todoctl", result.todoctl), ("python", result.python)]
    rows += [(name, version or "not installed") for name, version in result.packages.items()]
    server = result.server
    if server is None:
        rows.append(("server", "not checked: nothing configured and the embedded server is stopped"))
    elif (target := result.target_database) is None:
        rows.append(("server", f"not checked: {server.error}"))
    elif server.version:
        rows.append(("server", f"PostgreSQL {server.version} ({target.url}, from {target.source})"))
    else:
        rows.append(("server", f"unreachable ({target.url}, from {target.source}): {server.error}"))
    width = max(len(name) for name, _ in rows)
    echo("\n".join(f"{name.ljust(width)}  {value}" for name, value in rows), indent=width + 2)
