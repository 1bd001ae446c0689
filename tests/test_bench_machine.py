"""bench/machine.py: a result carries the load its run started under and the load at its end."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

from conftest import REPO


def load_machine(monkeypatch: pytest.MonkeyPatch, load: float) -> ModuleType:
    """bench/machine.py imported afresh, as a bench script does first, under `load`."""
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    spec = importlib.util.spec_from_file_location("bench_machine", REPO / "bench" / "machine.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_save_keeps_the_start_load_apart_from_the_end_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine = load_machine(monkeypatch, 1.5)
    monkeypatch.setattr(machine, "RESULTS", tmp_path)
    monkeypatch.setattr(os, "getloadavg", lambda: (7.25, 7.0, 6.0))  # the run loaded the box
    assert machine.machine()["load_1min_at_start"] == 1.5  # however late it is asked for
    machine.save("run", {"rows": [1]}, "# run")
    data = json.loads((tmp_path / "run.json").read_text())
    assert data["machine"]["load_1min_at_start"] == 1.5
    assert data["machine"]["load_1min_at_end"] == 7.25
    assert data["rows"] == [1] and (tmp_path / "run.md").read_text() == "# run\n"


def test_a_machine_without_a_load_average_says_minus_one(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_load() -> tuple[float, float, float]:
        raise OSError("no load average here")

    machine = load_machine(monkeypatch, 0.0)
    monkeypatch.setattr(os, "getloadavg", no_load)
    assert machine.load1() == -1.0


def test_peak_memory_counts_the_child_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    machine = load_machine(monkeypatch, 1.0)
    hog = (
        "x = bytearray(200 * 2**20); x[::4096] = b'x' * len(x[::4096]); import time; time.sleep(1)"
    )
    with machine.PeakMemory(every=0.1) as alone:
        pass
    with machine.PeakMemory(every=0.1) as memory:
        subprocess.run([sys.executable, "-c", hog], check=True)
    assert memory.peak_mib >= alone.peak_mib + 190  # the child's 200 MiB, seen from here
