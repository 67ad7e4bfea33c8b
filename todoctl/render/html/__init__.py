"""Self-contained HTML pages: plans drawn by PEV2, the schema drawn by Mermaid.

    page    the frame every page shares (inline bundles, no network, an error hook)
    plans   explain_page (one explained query), check_page (the whole `explain check` gate)
    erd     erd_page (one Mermaid diagram per cluster of connected tables)

The JavaScript bundles are vendored in vendor/ with their licences (vendor/MANIFEST.json pins
each one; .ci/vendor-js fetches and verifies them). Nothing here is imported by `todoctl --help`.
"""
