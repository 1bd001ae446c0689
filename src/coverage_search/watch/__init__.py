"""Saved searches: questions kept beside the feeds in corpus/, run again to report what is new."""

from coverage_search.watch.run import (
    WATCH_K,
    WatchReport,
    add_watch,
    list_watches,
    remove_watch,
    run_watches,
)
from coverage_search.watch.store import Watch

__all__ = [
    "WATCH_K",
    "Watch",
    "WatchReport",
    "add_watch",
    "list_watches",
    "remove_watch",
    "run_watches",
]
