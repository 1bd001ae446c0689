"""A build never reads anything outside the corpus folder, whatever links the corpus holds.

One corpus holds every kind of link, each to its own secret file in a folder next to the corpus
(`out/`). Every secret says OUTSIDE-SECRET (as a title, an outlet and in the text), and none of
it may reach a search result, the stats or a stored document. A second build of the same corpus
runs in a subprocess with an audit hook that records every file opened under `out/`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hostile_support import cli, make_corpus, run_module, subprocess_env

from pdfutil import write_minimal_pdf

SECRET = "OUTSIDE-SECRET"


def _secret_yaml(tag: str) -> str:
    return f"title: {SECRET} {tag}\noutlet: {SECRET}\nauthor: {SECRET}\n"


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("links")
    corpus, out = root / "c", root / "out"
    make_corpus(corpus)
    out.mkdir()
    # 1. A PDF inside the corpus whose sidecar is a link to a file outside (the audit's case).
    write_minimal_pdf(corpus / "doc.pdf", ["Quarterly report on model evaluations and audits."])
    (out / "s.yml").write_text(_secret_yaml("pdfsidecar"), encoding="utf-8")
    (corpus / "doc.pdf.yml").symlink_to("../out/s.yml")
    # 2. The same with the .yaml suffix, through a link inside the corpus that points outside.
    write_minimal_pdf(corpus / "memo.pdf", ["Internal memo about compute budgets and chips."])
    (out / "t.yaml").write_text(_secret_yaml("chainsidecar"), encoding="utf-8")
    (corpus / ".hop.yaml").symlink_to("../out/t.yaml")
    (corpus / "memo.pdf.yaml").symlink_to(".hop.yaml")
    # 3. A Markdown file that is a link to a document outside.
    (out / "secret.md").write_text(
        f"---\ntitle: {SECRET} markdown\noutlet: {SECRET}\n---\n\n{SECRET} leaked markdown body "
        "about quarterly earnings.\n",
        encoding="utf-8",
    )
    (corpus / "leak.md").symlink_to("../out/secret.md")
    # 4. A folder inside the corpus that is a link to a folder outside.
    (out / "folder").mkdir()
    (out / "folder" / "inner.md").write_text(
        f"# {SECRET} folder\n\n{SECRET} text from a linked folder.\n", encoding="utf-8"
    )
    (corpus / "linked-dir").symlink_to("../out/folder", target_is_directory=True)
    # 5. "Sidecars" of .txt and .html documents that are links outside (only PDFs have them;
    #    these must not be read either way).
    (corpus / "note.txt").write_text("A plain note about datacenter power.\n", encoding="utf-8")
    (corpus / "page.html").write_text(
        "<html><head><title>Page</title></head><body><p>A page about chip exports and "
        "regulation in several countries.</p></body></html>",
        encoding="utf-8",
    )
    (out / "u.yml").write_text(_secret_yaml("txtsidecar"), encoding="utf-8")
    (corpus / "note.txt.yml").symlink_to("../out/u.yml")
    (corpus / "page.html.yml").symlink_to("../out/u.yml")
    # 6. A chain: a link to a link inside the corpus that points outside.
    (corpus / ".hidden-hop.md").symlink_to("../out/secret.md")
    (corpus / "chain.md").symlink_to(".hidden-hop.md")

    index = root / "index"
    code, out_text, err = cli("build", "--corpus", corpus, "--index", index, "--quiet")
    assert code == 0, (out_text, err)
    return {"root": root, "corpus": corpus, "out": out, "index": index}


def _open(index: Path):  # type: ignore[no-untyped-def]
    from coverage_search import CoverageIndex

    return CoverageIndex.open(index)


def test_pdf_sidecar_link_to_outside_is_never_read(linked: dict[str, Path]) -> None:
    """doc.pdf.yml -> ../out/s.yml: the PDF's metadata must not come from outside the corpus."""
    index = _open(linked["index"])
    doc = index.document("doc.pdf")
    if doc is not None:
        shown = json.dumps([doc.title, doc.outlet, doc.author, doc.text])
        assert SECRET not in shown, f"doc.pdf carries metadata read from outside: {shown}"
    for hit in index.search("Quarterly report on model evaluations", k=10):
        assert SECRET not in json.dumps(hit.to_dict()), hit.to_dict()


def test_pdf_yaml_sidecar_through_an_inner_link_is_never_read(linked: dict[str, Path]) -> None:
    """memo.pdf.yaml -> .hop.yaml -> ../out/t.yaml: a link chain leaving the corpus is not read."""
    index = _open(linked["index"])
    doc = index.document("memo.pdf")
    if doc is not None:
        shown = json.dumps([doc.title, doc.outlet, doc.author, doc.text])
        assert SECRET not in shown, f"memo.pdf carries metadata read from outside: {shown}"


def test_linked_markdown_file_outside_is_not_indexed(linked: dict[str, Path]) -> None:
    """leak.md and chain.md (links to ../out/secret.md) are not documents of the index."""
    index = _open(linked["index"])
    assert index.document("leak.md") is None
    assert index.document("chain.md") is None


def test_linked_folder_outside_is_not_indexed(linked: dict[str, Path]) -> None:
    """linked-dir -> ../out/folder: nothing under it is indexed."""
    index = _open(linked["index"])
    assert index.document("linked-dir/inner.md") is None
    hits = index.search("text from a linked folder", k=10)
    assert not [h.doc_id for h in hits if h.doc_id.startswith("linked-dir/")]


def test_txt_and_html_sidecar_links_are_not_read(linked: dict[str, Path]) -> None:
    """note.txt.yml / page.html.yml link outside: the documents keep their own metadata."""
    index = _open(linked["index"])
    for doc_id in ("note.txt", "page.html"):
        doc = index.document(doc_id)
        assert doc is not None, f"{doc_id} should still be indexed"
        assert SECRET not in json.dumps([doc.title, doc.outlet, doc.author, doc.text])


def test_secret_in_no_search_result_and_not_in_stats(linked: dict[str, Path]) -> None:
    """OUTSIDE-SECRET is in no hit of any mode, not among the outlets and not in stats --json."""
    index = _open(linked["index"])
    for mode in ("keyword", "semantic", "hybrid"):
        for hit in index.search(SECRET, k=20, mode=mode, per_document=0):
            assert SECRET not in json.dumps(hit.to_dict()), (mode, hit.doc_id, hit.title)
    assert SECRET not in json.dumps(index.stats().to_dict())
    code, out, _err = cli("stats", "--index", linked["index"], "--json")
    assert code == 0 and SECRET not in out, out


_AUDIT = r"""
import atexit, json, os, sys
outside = os.path.realpath(sys.argv[1])
log = sys.argv[2]
opened = []
def hook(event, args):
    if event != "open" or not args or isinstance(args[0], int) or args[0] is None:
        return
    try:
        path = os.path.realpath(os.fsdecode(args[0]))
    except Exception:
        return
    if path == outside or path.startswith(outside + os.sep):
        opened.append(path)
sys.addaudithook(hook)
def dump():
    with open(log, "w") as fh:
        json.dump(sorted(set(opened)), fh)
atexit.register(dump)
from coverage_search.cli import main
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.slow
def test_build_opens_no_file_outside_the_corpus(linked: dict[str, Path]) -> None:
    """A fresh build (audit hook on every open) opens no file under out/, linked or not."""
    import subprocess

    root = linked["root"]
    script, log = root / "audit.py", root / "opened.json"
    script.write_text(_AUDIT, encoding="utf-8")
    args = [
        sys.executable,
        str(script),
        str(linked["out"]),
        str(log),
        "build",
        "--corpus",
        str(linked["corpus"]),
        "--index",
        str(root / "index-audit"),
        "--quiet",
    ]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=120, env=subprocess_env(), check=False
    )
    assert done.returncode == 0, done.stderr
    opened = json.loads(log.read_text())
    assert opened == [], f"the build opened files outside the corpus: {opened}"
    assert os.path.isdir(root / "index-audit")


@pytest.mark.slow
def test_cli_search_shows_no_outside_secret(linked: dict[str, Path]) -> None:
    """`coverage-search search OUTSIDE-SECRET` (real process) prints nothing from outside."""
    done = run_module(["search", SECRET, "--index", str(linked["index"]), "-k", "20"])
    assert done.returncode == 0, done.stderr
    leaked = [line for line in done.stdout.decode(errors="replace").splitlines() if SECRET in line]
    assert not leaked, f"search printed text read from outside the corpus: {leaked}"
