"""The package's layout is its architecture: stages import only downstream, no cycles, small."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "src" / "coverage_search"
# A build walks down these stages; each imports only from stages before it (or its own).
STAGE_ORDER = {
    "errors": 0,
    "arguments": 0.5,  # checks of API arguments: errors below, every stage above
    "records": 0,
    "sources": 1,
    "passages": 2,
    "embed": 3,
    "engine": 4,
    "build": 5,
    "query": 5,
    "ingest": 5,
    "watch": 6,  # saved searches: stored by ingest's atomic files, run through query
    "export": 6,
    "api": 7,
    "evaluation": 8,
    "cli": 9,
    "__main__": 10,
    "__init__": 10,
}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(("coverage_search", *parts))] = path
    return out


def imports(path: Path, names: set[str]) -> set[str]:
    """Package modules `path` imports anywhere in it (lazy imports in functions too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in names else base)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in names}


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(p, set(mods)) - {m, "coverage_search"} for m, p in mods.items()}


def test_no_module_imports_from_a_later_stage() -> None:
    wrong = [
        f"{m} imports {dep}"
        for m, deps in graph().items()
        for dep in deps
        if STAGE_ORDER[stage(dep)] > STAGE_ORDER[stage(m)]
        or (stage(dep) != stage(m) and STAGE_ORDER[stage(dep)] == STAGE_ORDER[stage(m)])
    ]
    assert wrong == []


def test_there_are_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in sorted(edges[node]):
            if state.get(dep) == 1:
                cycles.append([*trail[trail.index(dep) :], dep] if dep in trail else [node, dep])
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_every_stage_is_a_subpackage_with_a_one_line_docstring() -> None:
    for name in (
        "sources",
        "ingest",
        "passages",
        "embed",
        "engine",
        "build",
        "query",
        "watch",
        "export",
    ):
        init = PACKAGE / name / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "\n" not in doc, name


def test_modules_stay_small() -> None:
    big = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert big == {}


def test_the_app_and_the_cli_use_only_the_public_api() -> None:
    """The CLI's modules may import one another (coverage_search.cli.*), nothing else inside."""
    cli = sorted((PACKAGE / "cli").glob("*.py"))
    assert len(cli) > 1
    for path in (REPO / "app.py", *cli):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and "coverage_search" in node.module
        } | {
            a.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for a in node.names
            if "coverage_search" in a.name
        }
        relative = [
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level > 0 and node.module
        ]
        inside = {m for m in used if m.startswith("coverage_search.cli.")}
        if path.parent.name != "cli":
            assert not inside, path.name
        assert used - inside <= {"coverage_search"} and relative == [], path.name


STORAGE_NEEDLES = (
    "import sqlite3",
    "import faiss",
    "pymilvus",
    "sqlite3.connect",
    "import tantivy",
)


def test_storage_is_opened_only_inside_the_engine_and_the_build_caches() -> None:
    owners = ("engine/", "build/cache.py", "build/embedding_cache.py")
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        text = path.read_text(encoding="utf-8")
        if rel.startswith(owners):
            continue
        for needle in STORAGE_NEEDLES:
            assert needle not in text, f"{rel}: {needle}"
