"""The frame every todoctl page shares: one self-contained HTML document.

Every script and style is inline (the vendored bundles of vendor/, read from the package), and a
Content-Security-Policy allows nothing to be fetched: a page opened from a CI artifact or an e-mail
makes no request. Data reaches the page's scripts as one JSON document in a
``<script type="application/json">`` element, escaped so that no value can close it.

A page reports its own failures: an error hook shows any script error in a box at the top and
sets ``data-todoctl-state="error"`` on ``<html>``; a page that drew everything sets ``ready``.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "vendor"

# Nothing leaves the page: no fetch, no image, font or frame from anywhere but the page itself.
# 'unsafe-inline' is what "every script inline" means; no eval is allowed.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
)

ERROR_HOOK = """
window.todoctlErrors = [];
window.todoctlReport = function (what) {
  var message = String((what && what.message) || what);
  window.todoctlErrors.push(message);
  document.documentElement.setAttribute("data-todoctl-state", "error");
  var box = document.getElementById("todoctl-errors");
  if (box) { box.hidden = false; box.textContent += message + "\\n"; }
};
window.addEventListener("error", function (event) {
  todoctlReport(event.message || ("could not load " + ((event.target && (event.target.src || event.target.href)) || "a resource")));
}, true);
window.addEventListener("unhandledrejection", function (event) { todoctlReport(event.reason); });
window.todoctlDone = function () {
  if (!window.todoctlErrors.length) document.documentElement.setAttribute("data-todoctl-state", "ready");
};
"""

STYLE = """
:root { --todoctl-muted: #6c757d; }
body { font-size: 14px; }
.todoctl-header { padding: .75rem 1rem; border-bottom: 1px solid #dee2e6; background: #f8f9fa; }
.todoctl-header h1 { font-size: 1.25rem; margin: 0 0 .25rem 0; }
.todoctl-facts { display: flex; flex-wrap: wrap; gap: .25rem 1.5rem; margin: 0; color: var(--todoctl-muted); }
.todoctl-facts dt { font-weight: normal; display: inline; }
.todoctl-facts dd { display: inline; margin: 0 0 0 .35rem; color: #212529; }
.todoctl-errors { white-space: pre-wrap; margin: .5rem 1rem; }
.todoctl-section { padding: .5rem 1rem; }
.todoctl-section h2 { font-size: 1rem; margin: .5rem 0; }
.todoctl-sql { white-space: pre-wrap; background: #f6f8fa; border: 1px solid #e1e4e8; padding: .5rem; font-size: 12px; }
.todoctl-findings li { margin-bottom: .35rem; }
.todoctl-hint { color: var(--todoctl-muted); }
.todoctl-ok { color: #198754; font-weight: 600; }
.todoctl-fail { color: #dc3545; font-weight: 600; }
.todoctl-warn { color: #b58105; font-weight: 600; }
table.todoctl-table { font-size: 13px; width: auto; }
table.todoctl-table td, table.todoctl-table th { padding: .2rem .6rem; vertical-align: top; }
"""


@lru_cache(maxsize=None)
def vendored(name: str) -> str:
    """A vendored bundle's text, ready to go inside <script> or <style> (see vendor/MANIFEST.json)."""
    text = (VENDOR / name).read_text(encoding="utf-8")
    return _inline_safe(text, name)


def _inline_safe(text: str, name: str) -> str:
    # An HTML parser ends a <script> or <style> at the first "</script" or "</style", whatever the
    # JavaScript around it means; "<\/" is the same string to JavaScript and harmless to CSS.
    for closing in ("</script", "</style", "</SCRIPT", "</STYLE"):
        text = text.replace(closing, "<\\/" + closing[2:])
    # After "<!--", a "<script" before the next "-->" would make the parser skip the closing
    # </script> (HTML's "script data double escaped" state). Bundles are checked, not rewritten.
    for opening in re.finditer("<!--", text):
        rest = text[opening.end() :]
        end = rest.find("-->")
        if re.search(r"<script[\s/>]", rest if end < 0 else rest[:end], re.IGNORECASE):
            raise ValueError(f"{name}: '<!--' then '<script' would keep a browser from ending its <script> element")
    return text


def script_json(value) -> str:
    """``value`` as JSON that can sit inside <script type="application/json"> and never end it."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def document(*, title: str, body: str, data, styles: tuple[str, ...], scripts: tuple[str, ...], boot: str) -> str:
    """One page: vendored ``styles`` and ``scripts`` inline, ``data`` as JSON, then ``boot`` runs."""
    css = "\n".join(vendored(name) for name in styles)
    js = "\n".join(f"<script>/* {esc(name)} */\n{vendored(name)}\n</script>" for name in scripts)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en" data-todoctl-state="loading">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="todoctl">\n'
        f"<title>{esc(title)}</title>\n"
        f"<script>{ERROR_HOOK}</script>\n"
        f"<style>\n{css}\n{STYLE}\n</style>\n</head>\n<body>\n"
        '<div id="todoctl-errors" class="todoctl-errors alert alert-danger" role="alert" hidden></div>\n'
        f"{body}\n"
        f'<script type="application/json" id="todoctl-data">{script_json(data)}</script>\n'
        f"{js}\n<script>\ntry {{\n{boot}\n}} catch (error) {{ todoctlReport(error); }}\n</script>\n"
        "</body>\n</html>\n"
    )
