"""What only the Milvus engine has: filter expressions, URIs, collections per build, one process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import write_doc
from coverage_search import CoverageIndex, EngineError, IndexCorruptError
from coverage_search.cli import main
from coverage_search.engine.milvus import client as milvus_client
from coverage_search.engine.milvus.client import POOL, check_uri, server_version_ok
from coverage_search.engine.milvus.filters import filter_expression, own_expression
from coverage_search.records import SearchFilters


def test_filter_values_are_quoted_never_syntax() -> None:
    hostile = SearchFilters(outlets=('a" or id > 0 or "', "b\\"), language='en" or "1')
    assert own_expression(hostile) == (
        'outlet in ["a\\" or id > 0 or \\"", "b\\\\"] and language == "en\\" or \\"1"'
    )
    dates = SearchFilters(since="1963-01-04", until="1963-12-31")
    assert own_expression(dates) == (
        "published >= 19630104 and published >= 0 and published <= 19631231"
    )
    assert own_expression(SearchFilters(outlets=("x\ny",))) == 'outlet in ["x y"]'
    assert own_expression(SearchFilters(language="e\rn")) == "id < 0"  # cannot be said
    assert filter_expression(SearchFilters(language="de"), [7, 3, 7]) == (
        '(language == "de") or doc in [3, 7]'
    )
    assert filter_expression(SearchFilters(), [3]) == ""


def test_keyword_text_is_title_heading_and_passage_within_the_varchar_limit() -> None:
    import numpy as np

    from coverage_search.engine.milvus.schema import clip
    from coverage_search.engine.milvus.writer import passage_rows
    from coverage_search.records import Document, Passage

    assert clip("é" * 5, limit=5) == "éé" and clip("abc") == "abc"
    doc = Document(
        "a.md",
        "a.md",
        "Title",
        "Body text",
        "markdown",
        "h",
        outlet=" The  Wire ",
        published="1963-01-04",
        language="EN",
    )
    rows = list(
        passage_rows(
            [doc, doc],
            [[Passage("a.md", 0, "Body text", 0, 9, "Sub")], []],
            [7],
            np.ones((1, 3), dtype=np.float32),
        )
    )
    assert [{k: v for k, v in r.items() if k != "dense"} for r in rows] == [
        {
            "id": 7,
            "doc": 1,
            "keywords": "Title\nSub\nBody text",
            "outlet": "the wire",
            "published": 19630104,
            "language": "en",
        }
    ]


def test_uris_milvus_would_refuse_are_one_sentence() -> None:
    assert check_uri("http://milvus.internal:19530") == "http://milvus.internal:19530"
    assert check_uri("/data/search/milvus.db") == "/data/search/milvus.db"
    for uri, says in [
        ("http://root:secret@milvus:19530", "COVERAGE_SEARCH_ENGINE_TOKEN"),
        ("/data/my index.db", "named like milvus.db"),
        ("/data/milvus.sqlite", "named like milvus.db"),
        ("/data/" + "x" * 40 + ".db", "at most 36"),
        ("unix:/tmp/milvus.sock", "http://host:19530"),
    ]:
        with pytest.raises(EngineError, match=says):
            check_uri(uri)


def test_server_versions_before_bm25_are_refused() -> None:
    assert server_version_ok("v2.5.4") and server_version_ok("2.6.0-beta")
    assert server_version_ok("v3.0.1") and server_version_ok("unknown")
    assert not server_version_ok("v2.4.17") and not server_version_ok("v2.3.0")


def test_without_pymilvus_the_error_says_what_to_install(
    small_corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(EngineError) as caught:
        CoverageIndex.build(
            small_corpus, small_corpus.parent / "index", engine="milvus", progress=False
        )
    assert str(caught.value) == milvus_client.MISSING


def test_an_unreachable_server_is_one_sentence_and_the_old_build_stays(
    small_corpus: Path,
    build_index,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index_dir = build_index(small_corpus)
    monkeypatch.setattr(milvus_client, "CONNECT_TIMEOUT", 1.0)
    code = main(
        [
            "build",
            "--corpus",
            str(small_corpus),
            "--index",
            str(index_dir),
            "--quiet",
            "--engine",
            "milvus",
            "--engine-uri",
            "http://127.0.0.1:9",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "Cannot reach the Milvus server at http://127.0.0.1:9: start it" in err
    index = CoverageIndex.open(index_dir)
    assert index.stats().engine == "local"
    assert index.search("tomato sauce", k=1)[0].doc_id == "cooking.md"


@pytest.fixture()
def milvus_index(small_corpus: Path, embedder) -> Iterator[Path]:
    index_dir = small_corpus.parent / "index"
    CoverageIndex.build(small_corpus, index_dir, engine="milvus", progress=False)
    yield index_dir


def _collections(index_dir: Path) -> list[str]:
    uri = str(index_dir / "milvus.db")
    client = POOL.acquire(uri)
    try:
        return sorted(client.list_collections())
    finally:
        POOL.release(uri)


def test_each_build_has_a_collection_and_only_two_are_kept(
    milvus_index: Path, small_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _collections(milvus_index)
    assert len(first) == 1
    for i in range(2):
        write_doc(small_corpus, f"note-{i}.md", f"# Note {i}\n\nA short note about chips {i}.")
        assert (
            main(["build", "--corpus", str(small_corpus), "--index", str(milvus_index), "--quiet"])
            == 0
        )  # no --engine: the live build's is kept
    names = _collections(milvus_index)
    builds = sorted(p.name for p in milvus_index.glob("build-*"))
    assert len(names) == 2 and first[0] not in names
    assert [n.rsplit("_", 2)[-2] for n in names] == [b.split("-")[1] for b in builds]
    capsys.readouterr()
    assert main(["stats", "--index", str(milvus_index)]) == 0
    assert (
        f"milvus: {milvus_index / 'milvus.db'}, collection {names[-1]}" in capsys.readouterr().out
    )


def test_a_dropped_collection_says_to_rebuild(milvus_index: Path) -> None:
    index = CoverageIndex.open(milvus_index)
    try:
        uri = str(milvus_index / "milvus.db")
        POOL.acquire(uri).drop_collection(_collections(milvus_index)[0])
        POOL.release(uri)
        with pytest.raises(IndexCorruptError, match=r"has no collection .* build --force"):
            index.search("tomato", k=1)
    finally:
        index.close()


OTHER_PROCESS = """
import sys, time
from coverage_search import CoverageIndex
index = CoverageIndex.open(sys.argv[1])
index.search("tomato sauce", k=1)
print("open", flush=True)
time.sleep(float(sys.argv[2]))
index.close()
print("closed", flush=True)
"""


def test_milvus_lite_is_one_process_at_a_time_and_let_go_on_close(milvus_index: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS, str(milvus_index), "1.5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
        index = CoverageIndex.open(milvus_index)
        with pytest.raises(EngineError, match=r"open in another process.*--engine-uri http"):
            index.search("tomato sauce", k=1)
        assert proc.stdout.readline().strip() == "closed"  # close() let the file go
        deadline = time.monotonic() + 10
        while True:
            try:
                assert index.search("tomato sauce", k=1)[0].doc_id == "cooking.md"
                break
            except EngineError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        index.close()
    finally:
        proc.wait(timeout=30)


def test_a_lite_file_elsewhere_is_remembered_by_later_builds(
    small_corpus: Path, embedder, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "shared" / "search.db"
    elsewhere.parent.mkdir()
    index_dir = tmp_path / "index"
    CoverageIndex.build(
        small_corpus, index_dir, engine="milvus", engine_uri=str(elsewhere), progress=False
    )
    write_doc(small_corpus, "late.md", "# Late\n\nA late story about tomato harvests.")
    CoverageIndex.build(small_corpus, index_dir, progress=False)
    assert elsewhere.is_file() and not (index_dir / "milvus.db").exists()
    index = CoverageIndex.open(index_dir)
    try:
        assert index.stats().engine_location.startswith(f"{elsewhere}, collection cs_")
        assert index.search("tomato harvests", k=1, mode="keyword")[0].doc_id == "late.md"
    finally:
        index.close()


def _lite_servers(db: Path) -> list[int]:
    """Pids of milvus-lite servers running on `db` (a killed build's outlives it a moment)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            if str(db).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(int(pid))
    return pids


SLOW_BUILD = """
import sys, time
from pathlib import Path
from coverage_search.cli import main
from coverage_search.engine.milvus import writer

real = writer._batches

def one_row_then_wait(rows, size):  # the loop inserts each batch before asking for the next
    for batch in real(rows, 1):
        yield batch
        Path(sys.argv[1]).touch()
        time.sleep(60)

writer._batches = one_row_then_wait
main(["build", "--quiet", "--corpus", sys.argv[2], "--index", sys.argv[3]])
"""


@pytest.mark.slow
def test_killing_a_build_while_it_writes_to_milvus_keeps_the_old_index(
    milvus_index: Path, small_corpus: Path, tmp_path: Path
) -> None:
    index = CoverageIndex.open(milvus_index)
    before = [(h.doc_id, h.start) for h in index.search("Dario Amodei left OpenAI", k=5)]
    index.close()
    live, (old,) = (milvus_index / "CURRENT").read_text(), _collections(milvus_index)
    write_doc(small_corpus, "late.md", "# Late\n\nDario Amodei spoke about OpenAI again.")
    marker = tmp_path / "inserting"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_BUILD, str(marker), str(small_corpus), str(milvus_index)]
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # one passage into the new collection
    proc.wait(timeout=30)
    while _lite_servers(milvus_index / "milvus.db") and time.monotonic() < deadline:
        time.sleep(0.1)  # milvus-lite's server stops once its parent is gone
    assert (milvus_index / "CURRENT").read_text() == live
    orphan = set(_collections(milvus_index)) - {old}
    assert len(orphan) == 1
    index = CoverageIndex.open(milvus_index)
    assert [(h.doc_id, h.start) for h in index.search("Dario Amodei left OpenAI", k=5)] == before
    index.close()
    CoverageIndex.build(small_corpus, milvus_index, progress=False)
    after = _collections(milvus_index)
    assert old in after and len(after) == 2 and not orphan & set(after)


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Milvus Lite serving gRPC on a loopback port: the engine's server path (http://…)."""
    import socket

    from milvus_lite.server import Server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Server(str(tmp_path_factory.mktemp("server") / "server.db"), f"127.0.0.1:{port}")
    assert server.init() and server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_a_server_uri_stores_the_build_on_the_server(
    milvus_server: str,
    small_corpus: Path,
    embedder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COVERAGE_SEARCH_ENGINE_TOKEN", "root:Milvus")
    monkeypatch.setenv("COVERAGE_SEARCH_ENGINE_URI", milvus_server)
    index_dir = small_corpus.parent / "index"
    args = ["build", "--quiet", "--corpus", str(small_corpus), "--index", str(index_dir)]
    assert main([*args, "--engine", "milvus"]) == 0
    write_doc(small_corpus, "late.md", "# Late\n\nA late story about tomato harvests.")
    monkeypatch.delenv("COVERAGE_SEARCH_ENGINE_URI")
    assert main(args) == 0  # the live build's engine and server are kept
    assert not (index_dir / "milvus.db").exists()
    index = CoverageIndex.open(index_dir)
    try:
        assert index.search("tomato harvests", k=1, mode="keyword")[0].doc_id == "late.md"
        assert index.search("Dario Amodei", k=1, outlets=["axios"])[0].doc_id == "openai-exit.md"
        assert index.stats().engine_location.startswith(f"{milvus_server}, collection cs_")
    finally:
        index.close()
    capsys.readouterr()
    assert main(["stats", "--index", str(index_dir)]) == 0
    assert f"milvus: {milvus_server}, collection cs_" in capsys.readouterr().out


def test_a_changed_side_database_is_damage_and_build_repairs_it(milvus_index: Path) -> None:
    from coverage_search.engine.milvus.engine import DOCUMENTS

    live = milvus_index / (milvus_index / "CURRENT").read_text().strip()
    side = live / DOCUMENTS
    side.chmod(0o644)
    with open(side, "r+b") as fh:  # one byte flipped deep inside, size unchanged
        fh.seek(side.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(IndexCorruptError, match="damaged"):
        CoverageIndex.open(milvus_index)
    CoverageIndex.build(milvus_index.parent / "corpus", milvus_index, progress=False)
    index = CoverageIndex.open(milvus_index)
    try:
        assert index.search("tomato sauce", k=1)
    finally:
        index.close()


def test_a_rare_name_the_side_database_does_not_count_is_still_known(
    small_corpus: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coverage_search.engine.local import writer
    from coverage_search.query.names import unknown_names

    # The side database keeps only terms in a share of the passages (a thousandth on a large
    # corpus); here, only terms in every passage, so "Solana" (one passage) counts 0.
    monkeypatch.setattr(writer, "TERM_DF_SHARE", 1)
    index_dir = small_corpus.parent / "index"
    CoverageIndex.build(small_corpus, index_dir, engine="milvus", progress=False)
    with contextlib.closing(CoverageIndex.open(index_dir)) as index:
        assert index.engine.term_docs(["solana"])[0] == [0]
        question = "Which traders on Solana bought exposure to Oppenheimer?"
        assert unknown_names(index.engine, question) == ["Oppenheimer"]
        # every count 0: each term is asked of Milvus, in one request, and answered in order
        monkeypatch.setattr(index.engine, "term_docs", lambda ts: ([0] * len(ts), 3))
        terms = ["zqxjv", "solana", "oppenheimer", "tomato"]
        assert index.engine.held_terms(terms) == [False, True, False, True]
        assert index.engine.held_terms([]) == []
        # Milvus answering with no list at all (or too few) says nothing: every term is known
        monkeypatch.setattr(index.engine, "_search_each", lambda *args: [])
        assert index.engine.held_terms(terms) == [True] * 4
