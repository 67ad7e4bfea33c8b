"""Run one review rule over a small model, file tree, setting or database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData

from todoctl.core.review import ReviewContext, run


def context(root: Path, metadata: MetaData | None = None, *, url=None, environ: dict | None = None,
            sources: tuple[str, ...] = ("**/*.py",)) -> ReviewContext:
    return ReviewContext(root=root, metadata=metadata if metadata is not None else MetaData(), queries={},
                         environ=environ or {}, url=url, sources=sources)


def findings(rule: str, root: Path, metadata: MetaData | None = None, *, url=None, environ: dict | None = None,
             sources: tuple[str, ...] = ("**/*.py",)):
    report = run(context(root, metadata, url=url, environ=environ, sources=sources), only=[rule])
    assert report.rules == [rule]
    return [f.finding for f in report.findings]


def locations(found) -> set[str]:
    return {f.location for f in found}
