"""Shared helpers for bench scripts: the machine they ran on, and where results go."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]
SHARED_EVAL = REPO.parent / "shared" / "eval"
WORK = Path(os.environ.get("COVERAGE_BENCH_WORK", "/tmp/coverage-search-bench"))


def load1() -> float:
    """The 1-minute load average now (the machine is shared: every figure carries it)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


# Taken when a script imports this module, before it does any work: a result's "at start"
# load is the load it started under, however late machine() or save() is called.
_START_LOAD = load1()
_START_DATE = time.strftime("%Y-%m-%d %H:%M")


def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM, software versions and the load the run started under."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(ram_gib, 1),
        "python": platform.python_version(),
        "load_1min_at_start": _START_LOAD,
        "date": _START_DATE,
    }


def print_machine() -> dict[str, Any]:
    info = machine()
    print(
        f"machine: {info['nproc']} cores, {info['cpu']}, {info['ram_gib']} GiB RAM, "
        f"Python {info['python']}, load {info['load_1min_at_start']} ({info['date']})",
        flush=True,
    )
    return info


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Current resident memory of this process, in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _tree_rss_mib(root: int) -> float:
    """Resident memory of process `root` and all its descendants (the build's workers), in MiB."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{name}/statm") as f:
                rss[int(name)] = int(f.read().split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        parents[int(name)] = ppid
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0) for pid in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakMemory:
    """The highest resident memory of this process and its children while the block runs,
    sampled every `every` seconds from /proc (a build's worker processes count too)."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.peak_mib = max(self.peak_mib, _tree_rss_mib(os.getpid()))
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mib = max(self.peak_mib, _tree_rss_mib(os.getpid()))


def save(name: str, data: dict[str, Any], markdown: str | None = None) -> None:
    """Write bench/results/<name>.json (and .md when given) with the machine attached: the
    load the run started under (`load_1min_at_start`) and the load now, at its end."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {
        "machine": {**machine(), "load_1min_at_end": load1()},
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        **data,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    if markdown is not None:
        (RESULTS / f"{name}.md").write_text(markdown.rstrip() + "\n")
    print(f"wrote {RESULTS / name}.json" + (" and .md" if markdown else ""), flush=True)


def heading(title: str, info: dict[str, Any], load: str, doc: str | None) -> str:
    """A results file's title, machine line (`load` as the run gives it) and the paragraph of
    the script's docstring that says what was measured (its third)."""
    about = (doc or "").split("\n\n")[2].replace("\n", " ")
    return (
        f"# {title}\n\nMachine: {info['nproc']} cores, {info['cpu']}, load {load} "
        f"({info['date']}), shared.\n\n{about}\n\n"
    )


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""

    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
