"""`schema erd --format svg`: the diagram as an SVG file, drawn by Graphviz's ``dot`` (no browser).

Mermaid lays out and measures text in a browser; drawing its diagram without one means a JavaScript
engine plus a fake DOM plus font metrics (projects that do so took minutes for forty tables when
measured for this command). Graphviz is the long-standing layout engine for exactly this picture:
tables as HTML-like labels, one row a column, edges from a foreign key's column to the key it
references, crow's-foot ends for the cardinality. It is an operating-system package (``graphviz``
in Debian and Homebrew), found on PATH or through ``TODOCTL_DOT``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html import escape

from todoctl.core.schema.mermaid import ErDiagram
from todoctl.errors import TodoctlError

FONT = "Helvetica,Arial,sans-serif"
# Graphviz arrow shapes for each end of a relation: read from the line outwards.
PARENT_END = {"exactly one": "teetee", "zero or one": "teeodot"}
CHILD_END = {"zero or more": "crowodot", "zero or one": "teeodot"}


def dot_source(diagram: ErDiagram) -> str:
    """The diagram in Graphviz's DOT language: one node a table, one edge a foreign key."""
    lines = [
        "digraph erd {",
        f'  graph [rankdir=LR, fontname="{FONT}", nodesep=0.35, ranksep=0.9, pad=0.3];',
        f'  node [shape=plain, fontname="{FONT}", fontsize=11];',
        f'  edge [fontname="{FONT}", fontsize=9, color="#555555", fontcolor="#333333"];',
    ]
    ports: dict[str, dict[str, str]] = {}
    for entity in diagram.entities:
        ports[entity.name] = {a.name: str(i) for i, a in enumerate(entity.attributes)}
        rows = [f'<tr><td colspan="3" bgcolor="#ECECFF"><b>{escape(entity.name)}</b></td></tr>']
        for i, attribute in enumerate(entity.attributes):
            # Graphviz refuses an empty <b></b>.
            keys = f"<b>{escape(', '.join(attribute.keys))}</b>" if attribute.keys else ""
            rows.append(
                f'<tr><td port="w{i}" align="left">{escape(attribute.name)}</td>'
                f'<td align="left"><font color="#555555">{escape(attribute.type)}</font></td>'
                f'<td port="e{i}" align="left">{keys}</td></tr>'
            )
        table = '<table border="0" cellborder="1" cellspacing="0" cellpadding="3" color="#9370DB">' + "".join(rows) + "</table>"
        lines.append(f"  {_id(entity.name)} [label=<{table}>];")
    # Parent to child, left to right: from the referenced column's right edge to the foreign key's left.
    for relation in diagram.relations:
        parent_row = ports.get(relation.parent, {}).get(relation.references[0] if relation.references else "")
        child_row = ports.get(relation.child, {}).get(relation.columns[0])
        tail = _id(relation.parent) + (f":e{parent_row}:e" if parent_row else "")
        head = _id(relation.child) + (f":w{child_row}:w" if child_row else "")
        style = "solid" if relation.identifying else "dashed"
        label = escape(", ".join(relation.columns)) + f"<br/>ON DELETE {escape(relation.on_delete)}"
        lines.append(
            f"  {tail} -> {head} [dir=both, arrowtail={PARENT_END[relation.parent_cardinality]}, "
            f"arrowhead={CHILD_END[relation.child_cardinality]}, style={style}, label=<{label}>];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _id(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def svg(diagram: ErDiagram) -> str:
    """The diagram as SVG text, laid out by ``dot -Tsvg``."""
    dot = os.environ.get("TODOCTL_DOT") or shutil.which("dot")
    hint = "install Graphviz (apt-get install graphviz, brew install graphviz) or set TODOCTL_DOT; or draw a page with --html FILE"
    if not dot:
        raise TodoctlError("cannot draw SVG: Graphviz's dot is not installed", hint=hint)
    try:
        done = subprocess.run([dot, "-Tsvg"], input=dot_source(diagram), capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TodoctlError(f"cannot run {dot}: {getattr(exc, 'strerror', None) or exc}", hint=hint) from None
    if done.returncode != 0:
        first = (done.stderr.strip().splitlines() or ["no message"])[0]
        raise TodoctlError(f"{dot} failed: {first}", hint="report it with the output of `todoctl schema erd`")
    return done.stdout
