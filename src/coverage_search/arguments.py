"""What callers hand the public API, checked: each wrong value is one QueryError sentence."""

from __future__ import annotations

import errno
import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from coverage_search.errors import QueryError

T = TypeVar("T")


def folder_path(value: object, name: str, *, kind: str = "folder") -> Path:
    """A folder argument of the API as a Path; QueryError for anything that is not one."""
    if not isinstance(value, (str, os.PathLike)) or isinstance(value, bytes):
        raise QueryError(f"{name} must be a {kind} path, not {type(value).__name__}.")
    text = os.fspath(value)
    if not isinstance(text, str):  # a PathLike of bytes
        raise QueryError(f"{name} must be a {kind} path as text, not bytes.")
    if not text.strip():
        raise QueryError(f"{name} must be a {kind} path, not empty text.")
    try:
        text.encode("utf-8", "surrogateescape")  # a file name's undecodable bytes are fine
    except UnicodeEncodeError:
        text = "\x00"  # a lone surrogate no file name can hold
    if "\x00" in text:
        raise QueryError(f"{name} must be a {kind} path, not text with a NUL or lone surrogate.")
    if kind == "folder":  # a file's reader says it cannot read a loop, in its own error
        try:
            os.stat(text)
        except OSError as exc:  # missing is fine (a new index); a loop breaks every resolve()
            if exc.errno == errno.ELOOP:
                raise QueryError(
                    f"{name} {text!r:.200} passes through a link that leads back to itself: "
                    f"give a real {kind}."
                ) from None
    return Path(text)


def file_path(value: object, name: str) -> Path:
    """A file argument of the API as a Path (the checks of folder_path)."""
    return folder_path(value, name, kind="file")


def text_list(value: object, name: str) -> list[str]:
    """A list of texts (URLs, paths, doc ids). One bare string is refused rather than read
    letter by letter, which gave one failure per character."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise QueryError(
            f"{name} must be a list of texts, not {type(value).__name__} (wrap one in [ ])."
        )
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise QueryError(f"Every item of {name} must be text, not {type(item).__name__}.")
    return items


def whole_number(value: object, name: str, *, least: int = 0) -> int:
    """An int of at least `least` (True and 1.0 are not numbers of characters or bytes)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        try:
            shown = f"{value!r:.40}"
        except ValueError:  # an int of more digits than Python prints
            shown = "a number too long to print"
        raise QueryError(f"{name} must be a whole number of at least {least}, not {shown}.")
    return value


def true_or_false(value: object, name: str) -> bool:
    """A flag of the API: True or False only ("no" is truthy: force="no" forced)."""
    if not isinstance(value, bool):
        raise QueryError(f"{name} must be True or False, not {type(value).__name__}.")
    return value


def of_type(value: T, name: str, kind: type, what: str) -> T:
    """An argument that is None or a `kind` (`what` says which); QueryError naming it otherwise."""
    if value is not None and not isinstance(value, kind):
        raise QueryError(f"{name} must be {what}, not {type(value).__name__}.")
    return value


def function_or_none(value: T, name: str, takes: str) -> T:
    """A callback argument (None, or something callable with `takes`); QueryError otherwise,
    before the work whose first progress report would have raised TypeError halfway."""
    if value is not None and not callable(value):
        raise QueryError(f"{name} must be a function of {takes}, not {type(value).__name__}.")
    return value


def keyword_names(function: Callable[..., Any], *, but: Iterable[str] = ()) -> set[str]:
    """The keyword-only parameters of `function`, less those its caller sets itself (`but`)."""
    parameters = inspect.signature(function).parameters.values()
    return {p.name for p in parameters if p.kind is p.KEYWORD_ONLY} - set(but)


def keyword_options(
    value: object, name: str, accepted: Iterable[str], *, own: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Options passed on as keywords (build_options, search_options) as a dict; QueryError for
    anything else or a name not `accepted`, before a build that may take an hour, not after.
    `own` maps an option to the caller's own argument for it (k, modes), which the message names."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise QueryError(f"{name} must map option names to values, not {type(value).__name__}.")
    allowed = sorted(accepted)
    for key in value:
        if own and key in own:
            raise QueryError(f"{name} has no option {key!r}: give {own[key]}= on its own.")
        if key not in allowed:
            raise QueryError(f"{name} has no option {key!r:.40}: use {', '.join(allowed)}.")
    return dict(value)
