"""`study due --json` from a regular install, against a bare ``python -c pass``.

A shell prompt may run ``study due`` on every command, so what counts is the
whole process as a user runs it: the console script of a regular (not
editable) install. This installs the project without dependencies into a
temporary venv (the fast path needs none: a missing one would fail the run)
and times both commands round-robin, so that both see the same machine load.

    python bench/due.py STORE [RUNS]
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def regular_install(where: Path) -> Path:
    """A venv in ``where`` with this project installed from a built wheel; its bin folder."""
    venv.create(where, with_pip=True)
    bin_dir = where / ("Scripts" if os.name == "nt" else "bin")
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "--no-deps",
                    "--disable-pip-version-check", str(ROOT)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return bin_dir


def round_robin(commands: dict[str, list[str]], env: dict[str, str],
                runs: int) -> dict[str, list[float]]:
    """Wall times of each command, run in turn ``runs`` times (after one warm-up round);
    also, under ``NAME cpu``, the CPU time (user + system) each run used.

    On a loaded machine the wall time includes waiting for a core; the CPU
    time does not, so its ratio is the steadier figure.
    """
    times: dict[str, list[float]] = {key: [] for name in commands
                                     for key in (name, f"{name} cpu")}
    for i in range(runs + 1):
        for name, cmd in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i:
                times[name].append(wall)
                times[f"{name} cpu"].append(after.ru_utime - before.ru_utime
                                            + after.ru_stime - before.ru_stime)
    return times


def measure(db: Path, now: str, runs: int = 30) -> dict[str, float]:
    """Median wall times (s) of ``python -c pass`` and ``study due --json``, and their ratio."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(STUDY_DB=str(db), STUDY_NOW=now)
    with tempfile.TemporaryDirectory() as tmp:
        bin_dir = regular_install(Path(tmp) / "venv")
        study = [str(bin_dir / "study"), "due", "--json"]
        out = subprocess.run(study, env=env, check=True, capture_output=True, text=True)
        json.loads(out.stdout)  # the fast path answered, without any dependency installed
        times = round_robin({"bare": [str(bin_dir / "python"), "-c", "pass"],
                             "due": study}, env, runs)
    bare, due, bare_cpu, due_cpu = (statistics.median(times[k]) for k in
                                    ("bare", "due", "bare cpu", "due cpu"))
    return {"bare": bare, "due": due, "ratio": due / bare, "bare_cpu": bare_cpu,
            "due_cpu": due_cpu, "cpu_ratio": due_cpu / bare_cpu}


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.common import NOW

    result = measure(Path(sys.argv[1]), NOW.isoformat(), int(sys.argv[2]) if len(sys.argv) > 2
                     else 30)
    print(f"study due --json {result['due'] * 1000:.1f} ms, python -c pass "
          f"{result['bare'] * 1000:.1f} ms: {result['ratio']:.2f}x; CPU time "
          f"{result['due_cpu'] * 1000:.1f} ms vs {result['bare_cpu'] * 1000:.1f} ms: "
          f"{result['cpu_ratio']:.2f}x")
