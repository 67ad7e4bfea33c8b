"""Small contexts for review rules: a MetaData, a few named queries, a directory, an environment."""

from __future__ import annotations

import uuid
from pathlib import Path

from todoctl.core.review import ReviewContext, run
from todoctl.named_queries import NamedQuery, Param


def context(tmp_path: Path, metadata=None, queries=(), environ=None, url=None, sources=("todoctl/*.py",)) -> ReviewContext:
    from sqlalchemy import MetaData

    return ReviewContext(
        root=tmp_path,
        metadata=metadata if metadata is not None else MetaData(),
        queries={q.name: q for q in queries},
        environ=environ or {},
        url=url,
        sources=tuple(sources),
    )


def findings(ctx: ReviewContext, rule: str) -> list:
    report = run(ctx, only=[rule])
    assert rule in report.rules
    return [f.finding for f in report.findings]


def user_param() -> Param:
    return Param("the user", name="user_id", type=uuid.UUID)


def named(name: str, build, *params: Param, **kwargs) -> NamedQuery:
    return NamedQuery(name, f"test query {name}", build, params, **kwargs)
