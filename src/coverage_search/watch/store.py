"""corpus/.watches.json: the saved searches and the passages each has already reported.

Like corpus/.feeds.json it is hidden (the corpus scanner skips it), travels with the corpus, so
a rebuild keeps it, and is replaced atomically; changes hold corpus/.watches.lock, so two
commands saving at once both land.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coverage_search.errors import CorpusError
from coverage_search.ingest.catalog import replace_file
from coverage_search.sources.files import open_lock, read_state_file, valid_data

STATE_FILE = ".watches.json"
LOCK_FILE = ".watches.lock"
# Version 2 adds `literal`; a file is written as version 1 while no search uses it, so an older
# release keeps reading it, and refuses (rather than silently drops) a search saved as typed.
STATE_VERSION = 2
MAX_SEEN = 5000  # passages remembered per saved search; the oldest are forgotten first


@dataclass(frozen=True, slots=True)
class Watch:
    """A saved search as `watch list` shows it: its number, question and filters."""

    number: int  # 1-based, in the order they were added
    question: str
    mode: str = "hybrid"
    outlets: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    language: str | None = None
    added_at: str | None = None
    last_run: str | None = None
    seen: int = 0  # passages reported (or present when it was added) so far
    literal: bool = False  # searched as typed: descriptions are not replaced with names


@dataclass
class _State:
    question: str
    mode: str = "hybrid"
    outlets: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    language: str | None = None
    added_at: str | None = None
    last_run: str | None = None
    seen: list[str] = field(default_factory=list)
    literal: bool = False


def _same_search(a: _State, b: _State) -> bool:
    """The same question (spacing and case aside) with the same mode and filters."""

    def key(s: _State) -> tuple[object, ...]:
        words = " ".join(s.question.split()).casefold()
        return words, s.mode, sorted(s.outlets), s.since, s.until, s.language, s.literal

    return key(a) == key(b)


def _fits(name: str, value: object) -> bool:
    if name in ("outlets", "seen"):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if name in ("question", "mode"):
        return isinstance(value, str)
    if name == "literal":
        return isinstance(value, bool)
    return value is None or isinstance(value, str)


class WatchStore:
    """The saved searches of one corpus folder."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = Path(corpus_dir)
        if self.corpus_dir.exists() and not self.corpus_dir.is_dir():
            raise CorpusError(f"{self.corpus_dir} is not a folder: check --corpus.")
        self.path = self.corpus_dir / STATE_FILE
        self._unread: list[Any] = []  # entries this version cannot read, kept as they are
        self._states = self._load()

    def watches(self) -> list[Watch]:
        return [_public(i, s) for i, s in enumerate(self._states, start=1)]

    def current(self, watch: Watch) -> Watch:
        """`watch` as it is saved now (its count and number), or as given when it is gone."""
        number = self._find(watch)
        return watch if number is None else _public(number, self._states[number - 1])

    def seen(self, watch: Watch) -> set[str]:
        """The passages reported for `watch` so far, wherever another command has moved it."""
        number = self._find(watch)
        return set(self._states[number - 1].seen) if number is not None else set()

    def add(self, state: _State) -> tuple[Watch, bool]:
        """Save `state`: (the watch, True), or (the same search saved before, False)."""
        with self._locked():
            for number, old in enumerate(self._states, start=1):
                if _same_search(old, state):
                    return _public(number, old), False
            self._states.append(state)
            self._save()
            return _public(len(self._states), state), True

    def remove(self, which: int | str | Watch) -> Watch:
        """Forget a saved search by its number, its question (exact, case aside), or as listed
        (a `Watch`: the same search saved at the same time, wherever it has moved since)."""
        with self._locked():
            if isinstance(which, Watch):
                number = self._number_of_watch(which)
            else:
                number = which if isinstance(which, int) else self._number_of(which)
            gone = _public(number, self._state(number))
            del self._states[number - 1]
            self._save()
            return gone

    def _find(self, watch: Watch) -> int | None:
        """The number `watch` has now: the same search saved at the same time."""
        for number, state in enumerate(self._states, start=1):
            listed = _public(number, state)
            if (listed.question, listed.mode, listed.outlets, listed.since, listed.until,
                    listed.language, listed.added_at, listed.literal) == (
                    watch.question, watch.mode, watch.outlets, watch.since, watch.until,
                    watch.language, watch.added_at, watch.literal):  # fmt: skip
                return number
        return None

    def _number_of_watch(self, watch: Watch) -> int:
        number = self._find(watch)
        if number is not None:
            return number
        raise CorpusError(
            f"The saved search {watch.question[:80]!r} is no longer there (removed elsewhere)."
        )

    def _number_of(self, question: str) -> int:
        wanted = " ".join(str(question).split()).casefold()
        for number, state in enumerate(self._states, start=1):
            if " ".join(state.question.split()).casefold() == wanted:
                return number
        raise CorpusError(
            f"No saved search asks {question[:80]!r}. List them: coverage-search watch list"
        )

    def record(self, watch: Watch, keys: list[str]) -> None:
        """Remember `keys` as reported for `watch`, wherever another command has moved it (one
        removed while this run searched is left gone)."""
        with self._locked():
            number = self._find(watch)
            if number is None:
                return
            state = self._states[number - 1]
            state.seen = (state.seen + [k for k in keys if k not in set(state.seen)])[-MAX_SEEN:]
            state.last_run = now()
            self._save()

    def _state(self, number: int) -> _State:
        if (
            isinstance(number, bool)
            or not isinstance(number, int)
            or not (1 <= number <= len(self._states))
        ):
            count = len(self._states)
            have = f"numbers 1 to {count}" if count else "none yet"
            raise CorpusError(
                f"There is no saved search {number} ({have}). List them: coverage-search watch list"
            )
        return self._states[number - 1]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the lock and work on the file as it is now (another command may have saved)."""
        # Never made here: a mistyped --corpus must not leave a new folder holding one file.
        if not self.corpus_dir.is_dir():
            raise CorpusError(
                f"No corpus folder at {self.corpus_dir}: saved searches are kept in the corpus "
                "folder, so check --corpus (or build the corpus first)."
            )
        try:
            lock = open_lock(self.corpus_dir / LOCK_FILE)
        except OSError as exc:
            raise CorpusError(f"Cannot lock the saved searches: {exc}.") from None
        with lock as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                self._states = self._load()
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _load(self) -> list[_State]:
        try:
            raw = read_state_file(self.path)
            if raw is None:
                return []
            # A \ud800 escape (a hand edit) is a lone surrogate, which saving it would refuse.
            data: Any = valid_data(json.loads(raw.decode("utf-8")))
        except (OSError, ValueError, RecursionError) as exc:
            raise CorpusError(
                f"{self.path} is unreadable ({exc}). Fix or delete it (saved searches are lost)."
            ) from None
        items = data.get("watches") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise CorpusError(
                f"{self.path} is not a saved-searches file (no watches list). "
                "Fix or delete it (saved searches are lost)."
            )
        version = data.get("version")
        if isinstance(version, int) and version > STATE_VERSION:
            raise CorpusError(  # rewriting it would drop what the newer version keeps
                f"{self.path} was written by a newer coverage-search (version {version}): "
                "upgrade to use it; nothing was changed."
            )
        states = []
        self._unread = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("question"), str):
                self._unread.append(item)  # not shown, but written back as it was
                continue
            known = {
                k: v for k, v in item.items() if k in _State.__dataclass_fields__ and _fits(k, v)
            }
            states.append(_State(**known))
        return states

    def _save(self) -> None:
        data: dict[str, Any] = {
            "version": STATE_VERSION if any(st.literal for st in self._states) else 1,
            "watches": [*(vars(s) for s in self._states), *self._unread],
        }
        text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
        replace_file(self.path, text.encode("utf-8"))


def new_state(question: str, **fields: Any) -> _State:
    return _State(question=question, added_at=now(), **fields)


def _public(number: int, s: _State) -> Watch:
    return Watch(
        number, s.question, s.mode, tuple(s.outlets), s.since, s.until, s.language,
        s.added_at, s.last_run, len(s.seen), s.literal,
    )  # fmt: skip


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
