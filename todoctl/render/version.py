"""`todoctl version` as aligned lines (one fact per line: easy to paste into a bug report)."""

from __future__ import annotations

import sys


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
    sys.stdout.write("".join(f"{name.ljust(width)}  {value}\n" for name, value in rows))
