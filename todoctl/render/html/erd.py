"""The schema as a page (`schema erd --html`): Mermaid draws each group of connected tables.

The diagrams are the Mermaid text `schema erd` prints (core/schema/mermaid.py), one per cluster of
tables that foreign keys connect (:meth:`ErDiagram.clusters`), so a schema of many tables reads as
several diagrams of natural size, each scrolling on its own, instead of one shrunk to fit.
"""

from __future__ import annotations

from datetime import datetime, timezone

from todoctl.core.schema.mermaid import ErDiagram
from todoctl.render.html.page import document, esc

STYLE = """
<style>
.todoctl-erd { overflow: auto; border: 1px solid #dee2e6; border-radius: .25rem; padding: .5rem; background: #fff; }
.todoctl-erd svg { max-width: none !important; }
.todoctl-legend { color: #6c757d; font-size: 13px; }
</style>
"""

BOOT = """
var data = JSON.parse(document.getElementById("todoctl-data").textContent);
mermaid.initialize({
  startOnLoad: false,
  securityLevel: "strict",
  theme: "default",
  er: { useMaxWidth: false },
});
(async function () {
  for (var i = 0; i < data.diagrams.length; i++) {
    var element = document.getElementById("erd-" + i);
    try {
      var drawn = await mermaid.render("erd-svg-" + i, data.diagrams[i]);
      element.innerHTML = drawn.svg;
    } catch (error) {
      todoctlReport("diagram " + (i + 1) + ": " + ((error && error.message) || error));
    }
  }
  todoctlDone();
})();
"""


def erd_page(diagram: ErDiagram) -> str:
    """One page: a contents list, then one Mermaid diagram per cluster, and the foreign keys as a table."""
    clusters = diagram.clusters()
    contents = "".join(
        f'<li><a href="#cluster-{i}">{esc(_cluster_title(c, i))}</a></li>' for i, c in enumerate(clusters)
    )
    sections = "".join(
        f'<section class="todoctl-section" id="cluster-{i}"><h2>{esc(_cluster_title(c, i))}</h2>'
        f'<div class="todoctl-erd" id="erd-{i}" data-tables="{esc(" ".join(e.name for e in c.entities))}"></div></section>'
        for i, c in enumerate(clusters)
    )
    facts = (
        f'<dl class="todoctl-facts"><div><dt>database</dt><dd>{esc(diagram.database)}</dd></div>'
        f"<div><dt>tables</dt><dd>{len(diagram.entities)}</dd></div>"
        f"<div><dt>foreign keys</dt><dd>{len(diagram.relations)}</dd></div>"
        f"<div><dt>generated</dt><dd>{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S UTC}</dd></div></dl>"
    )
    legend = (
        '<p class="todoctl-legend">PK primary key · FK foreign key · UK unique. A solid line: the foreign key is part '
        "of the child's primary key; dashed: it is not. <code>||</code> exactly one, <code>|o</code> zero or one, "
        "<code>o{</code> zero or more. Each line is labelled with its columns and what deleting the parent row does.</p>"
    )
    body = (
        f'<header class="todoctl-header"><h1>todoctl schema erd</h1>{facts}</header>{STYLE}'
        f'<nav class="todoctl-section">{legend}<ol>{contents}</ol></nav>'
        f"<main>{sections}</main>"
        f'<section class="todoctl-section"><details><summary>Foreign keys</summary>{_foreign_keys(diagram)}</details></section>'
    )
    data = {"diagrams": [c.mermaid for c in clusters]}
    return document(
        title="todoctl schema erd", body=body, data=data, styles=("bootstrap.min.css",), scripts=("mermaid.min.js",), boot=BOOT
    )


TITLE_NAMES = 8  # a heading names this many tables, then says how many more


def _cluster_title(cluster: ErDiagram, index: int) -> str:
    names = [e.name for e in cluster.entities]
    listed = ", ".join(names[:TITLE_NAMES]) + (f" and {len(names) - TITLE_NAMES} more" if len(names) > TITLE_NAMES else "")
    if not cluster.relations and len(names) > 1:
        return f"{len(names)} tables without foreign keys: {listed}"
    return f"{len(names)} table{'s' if len(names) != 1 else ''}: {listed}"


def _foreign_keys(diagram: ErDiagram) -> str:
    if not diagram.relations:
        return "<p>No foreign keys.</p>"
    rows = "".join(
        f"<tr><td>{esc(r.child)} ({esc(', '.join(r.columns))})</td>"
        f"<td>{esc(r.parent)} ({esc(', '.join(r.references))})</td><td>ON DELETE {esc(r.on_delete)}</td></tr>"
        for r in diagram.relations
    )
    return (
        '<table class="table table-sm todoctl-table"><thead><tr><th>from</th><th>to</th><th>on delete</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )
