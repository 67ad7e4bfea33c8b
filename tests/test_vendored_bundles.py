"""The JavaScript the HTML pages carry: pinned, checksummed, shipped with its licences, and inline-safe."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import REPO
from todoctl.render.html import page

MANIFEST = json.loads((page.VENDOR / "MANIFEST.json").read_text())


def test_the_committed_bundles_match_their_pins():
    done = subprocess.run([sys.executable, str(REPO / ".ci" / "vendor-js"), "--verify"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_package_ships_its_licence_beside_its_bundles():
    for package in MANIFEST["packages"]:
        names = [f["name"] for f in package["files"]]
        assert f"{package['name']}.LICENSE" in names, package["name"]
        assert package["version"] and package["integrity"].startswith("sha512-")
    assert (page.VENDOR / MANIFEST["third_party"]["name"]).stat().st_size > 10_000  # what pev2 inlines


def test_every_bundle_can_sit_inline():
    for package in MANIFEST["packages"]:
        for entry in package["files"]:
            if entry["name"].endswith((".js", ".css")):
                text = page.vendored(entry["name"])
                assert "</script" not in text.lower() and "</style" not in text.lower()


def test_a_bundle_that_would_break_its_script_element_is_refused():
    import pytest

    with pytest.raises(ValueError, match="<!--"):
        page._inline_safe("var s = '<!-- <script>';", "bad.js")
    assert page._inline_safe("var s = '</script>';", "ok.js") == "var s = '<\\/script>';"
    assert page._inline_safe("var r = /<!--(?:-?>|[\\s\\S]*?(?:-->|$))/;", "ok.js")  # mermaid's own: harmless


def test_page_data_cannot_end_its_script_element():
    text = page.script_json({"sql": "</script><!-- \u2028 & >"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"sql": "</script><!-- \u2028 & >"}
