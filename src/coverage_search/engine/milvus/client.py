"""pymilvus, imported lazily: one shared client per URI per process, failures as one sentence."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from coverage_search.errors import EngineError, IndexCorruptError

MISSING = "The Milvus engine needs pymilvus and milvus-lite: pip install 'coverage-search[milvus]'"
# The token is a secret: read where the connection is made (the app and scripts open indexes
# too, not only the CLI) and never written to the manifest with the URI.
TOKEN_ENV = "COVERAGE_SEARCH_ENGINE_TOKEN"
SERVER_SCHEMES = ("http", "https", "tcp", "grpc")
CONNECT_TIMEOUT = 20.0  # seconds; a Milvus Lite server starts in about one
CALL_TIMEOUT = 30.0  # every search and small call (2.5.1 retries some failures for minutes)
WRITE_TIMEOUT = 600.0  # create, insert, flush, load
SQLITE_HEADER = b"SQLite format 3\x00"  # a Milvus Lite 2.5 database is one SQLite file
_LITE_NAME = re.compile(r"^[A-Za-z0-9.\-_]{1,36}$")  # what milvus-lite accepts as a file name


def pymilvus() -> Any:
    """The pymilvus module, with its loggers quietened (its import configures them)."""
    try:
        with warnings.catch_warnings():  # milvus-lite 2.5 imports pkg_resources and says so
            warnings.simplefilter("ignore", UserWarning)
            import milvus_lite  # noqa: F401
            import pymilvus as module
    except ImportError as exc:
        raise EngineError(MISSING) from exc
    for name in ("pymilvus", "pymilvus.milvus_client", "pymilvus.bulk_writer"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # failures reach the user as EngineError
    return module


class _QuietLite(logging.Filter):
    """milvus-lite logs its failures on the root logger; they reach the user as EngineError."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "milvus_lite" not in record.pathname


def is_lite(uri: str) -> bool:
    """True for a Milvus Lite database file, False for a server URI."""
    return urlparse(uri).scheme.lower() not in (*SERVER_SCHEMES, "unix")


def display(uri: str) -> str:
    """The Lite file, or the server's scheme, host and port (no credentials)."""
    if is_lite(uri):
        return uri
    parts = urlparse(uri)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 19530}"


def where(uri: str) -> str:
    """How messages name the storage ("Milvus Lite database …", "Milvus server at …")."""
    kind = "Milvus Lite database" if is_lite(uri) else "Milvus server at"
    return f"{kind} {display(uri)}"


def check_uri(uri: str) -> str:
    """The URI as given, or EngineError saying what Milvus would refuse about it."""
    parts = urlparse(uri)
    if parts.scheme.lower() == "unix":
        raise EngineError(f"Give Milvus as http://host:19530 or a file.db path, not {uri}.")
    if not is_lite(uri):
        if parts.password:
            raise EngineError(
                f"Leave the password out of --engine-uri (it would be written to the manifest): "
                f"set ${TOKEN_ENV} to user:password or an API token instead."
            )
        return uri
    if not _LITE_NAME.match(Path(uri).name) or not uri.endswith(".db"):
        raise EngineError(
            f"A Milvus Lite database must be a file named like milvus.db (letters, digits, . - _, "
            f"at most 36 characters), not {Path(uri).name!r}."
        )
    return uri


def lite_is_damaged(path: Path) -> bool:
    """True when the file is there but not an SQLite database (milvus-lite 2.5 cannot open it)."""
    if path.is_dir():
        return True  # milvus-lite 3.x keeps a folder; 2.5 cannot read it
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return False
    return bool(head) and head != SQLITE_HEADER  # an empty file opens as a new database


def _held_elsewhere(path: Path) -> bool:
    """True when another process holds milvus-lite's lock on `path`.

    Closing the probe drops every POSIX lock this process holds on the file, so it is asked
    only when this process has no server on it (the pool is the only one that starts them).
    """
    lock = path.parent / f".{path.name}.lock"
    try:
        with open(lock, "a") as fh:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fh, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


@contextlib.contextmanager
def failures(uri: str, action: str) -> Iterator[None]:
    """Turn a pymilvus failure inside the block into one EngineError sentence."""
    import grpc  # pymilvus' own dependency: some failures come through as raw RPC errors

    try:
        yield
    except (pymilvus().exceptions.MilvusException, grpc.RpcError) as exc:
        raise EngineError(f"Milvus could not {action} (the {where(uri)}): {reason(exc)}") from exc


def reason(exc: BaseException) -> str:
    """One line of what pymilvus or gRPC said."""
    code, details = getattr(exc, "code", None), getattr(exc, "details", None)
    if callable(code):  # a grpc.RpcError
        text = f"{code().name} {details() if callable(details) else ''}"
    else:
        text = str(getattr(exc, "message", "") or exc)
    return " ".join(text.split())[:300]


class _Shared:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.users = 1


class ClientPool:
    """One MilvusClient per URI per process, counted: the last user to let go closes it.

    milvus-lite 2.5 lets one process open a database file, and closing one of two clients on
    the same file breaks the other, so every engine and writer in the process shares one, and
    the Lite server is released when the last one closes (so another process may open it).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, _Shared] = {}

    def acquire(self, uri: str) -> Any:
        key = self._key(uri)
        with self._lock:
            shared = self._clients.get(key)
            if shared is not None:
                shared.users += 1
                return shared.client
            client = self._connect(key)
            self._clients[key] = _Shared(client)
            return client

    def release(self, uri: str) -> None:
        key = self._key(uri)
        with self._lock:
            shared = self._clients.get(key)
            if shared is None:
                return
            shared.users -= 1
            if shared.users > 0:
                return
            del self._clients[key]
            with contextlib.suppress(Exception):  # a dead connection is as good as closed
                shared.client.close()
            if is_lite(key):
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(key)

    @staticmethod
    def _key(uri: str) -> str:
        return str(Path(uri).resolve()) if is_lite(uri) else uri

    @staticmethod
    def _connect(uri: str) -> Any:
        module = pymilvus()
        if not is_lite(uri):
            import grpc

            token = os.environ.get(TOKEN_ENV, "")
            try:
                client = module.MilvusClient(uri=uri, token=token, timeout=CONNECT_TIMEOUT)
            except (module.exceptions.MilvusException, grpc.RpcError) as exc:
                raise EngineError(
                    f"Cannot reach the {where(uri)}: start it, or check --engine-uri and "
                    f"${TOKEN_ENV}."
                ) from exc
            check_server_version(uri, client)
            return client
        path = Path(uri)
        if lite_is_damaged(path):
            raise IndexCorruptError(
                f"The {where(uri)} is damaged (not a milvus-lite 2.5 file). "
                "Run: coverage-search build --force"
            )
        # Asked before milvus-lite tries: when it fails to get the lock, milvus-lite 2.5.1
        # deletes the lock file of the process that holds it, and a third one would get in.
        if _held_elsewhere(path):
            raise EngineError(
                f"The {where(uri)} is open in another process (the app, or another build); "
                "Milvus Lite allows one. Close it and try again, or use a Milvus server: "
                "--engine-uri http://host:19530"
            )
        logging.getLogger().addFilter(_LITE_FILTER)
        try:
            return module.MilvusClient(uri=uri, timeout=CONNECT_TIMEOUT)
        except module.exceptions.MilvusException as exc:
            raise IndexCorruptError(
                f"The {where(uri)} cannot be opened (damaged?). Run: coverage-search build --force"
            ) from exc


def check_server_version(uri: str, client: Any) -> None:
    """EngineError unless the server is Milvus 2.5 or newer (BM25 functions came in 2.5)."""
    import grpc

    try:
        with failures(uri, "say its version"):
            version = str(client.get_server_version(timeout=CALL_TIMEOUT))
    except EngineError as exc:
        cause = exc.__cause__
        if isinstance(cause, grpc.RpcError) and cause.code() == grpc.StatusCode.UNIMPLEMENTED:
            return  # Milvus Lite serving over TCP does not say; it is 2.5
        raise
    if not server_version_ok(version):
        raise EngineError(
            f"The {where(uri)} runs Milvus {version}; the Milvus engine needs 2.5 or newer "
            "(BM25 full-text search)."
        )


def server_version_ok(version: str) -> bool:
    """True for "v2.5.4", "2.6.0-beta" and later; unknown strings pass (the server will tell)."""
    found = re.match(r"v?(\d+)\.(\d+)", version.strip())
    return found is None or (int(found.group(1)), int(found.group(2))) >= (2, 5)


_LITE_FILTER = _QuietLite()
POOL = ClientPool()
