"""Baselines: record every named query's plan shape and costs, and tell how a plan got worse than its baseline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import todoctl.core.explain.plan as plan_nodes
from todoctl.core.explain.plan import PlanNode
from todoctl.db.url import DatabaseURL
from todoctl.errors import usage_error
from todoctl.files import check_writable, read_bounded, write_atomically

if TYPE_CHECKING:
    pass

from todoctl.core.explain.execute import _explain_all
from todoctl.core.explain.transaction import DEFAULT_TIMEOUT
from todoctl.results import human_only

BASELINE_FORMAT = 1


@dataclass
class BaselineSaved:
    path: str
    database: str = human_only()
    runs: int
    queries: dict[str, dict]


def _cost(root: PlanNode) -> dict:
    """What a baseline records of a plan."""
    return {
        "shape": plan_nodes.shape(root),
        "scans": plan_nodes.scans(root),
        "sorts": plan_nodes.sort_count(root),
        "rows_read": plan_nodes.rows_read(root),
        "rows_returned": plan_nodes.rows_returned(root),
        "rows_sorted": plan_nodes.rows_sorted(root),
        "buffers": plan_nodes.buffers(root),
    }






def load_baseline(path: Path | str) -> dict:
    path = Path(path)
    try:
        document = json.loads(read_bounded(path, "the baseline"))
    except FileNotFoundError:
        raise usage_error(f"no baseline file {path}", "record one with `todoctl explain baseline save FILE`") from None
    except (OSError, ValueError) as exc:
        raise usage_error(f"cannot read the baseline {path}: {exc}") from None
    if not isinstance(document, dict) or document.get("todoctl_baseline") != BASELINE_FORMAT:
        raise usage_error(f"{path} is not a todoctl explain baseline", "record one with `todoctl explain baseline save FILE`")
    return document


def save_baseline(url: DatabaseURL, path: Path | str, *, runs: int = 3, timeout: str = DEFAULT_TIMEOUT) -> BaselineSaved:
    """Record every named query's plan shape and median execution time in a JSON file."""
    check_writable(path)  # before the work, not after it
    results = _explain_all(url, None, runs=runs, timeout=timeout, what="explain baseline save")
    entries = {r.query: {"execution_ms": r.median_ms, **_cost(r.root)} for r in results}
    document = {
        "todoctl_baseline": BASELINE_FORMAT,
        "database": url.display,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": runs,
        "queries": entries,
    }
    path = Path(path)
    write_atomically(path, json.dumps(document, indent=2) + "\n")  # whole, or exit 1
    return BaselineSaved(str(path), url.display, runs, entries)
