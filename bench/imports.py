"""First import and re-imports at several sizes, with the growth exponent.

    python bench/imports.py 10000 50000 100000 200000

Each size is a file of that many tenures with their people, offices and organs
(bench/common.py); it is imported into a fresh store, imported again unchanged,
and again with one person renamed, each in a fresh process (bench/scaling.py's
import rows: wall time and the process's peak RSS).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scaling import Line, exponent, imports  # noqa: E402


def main(sizes: list[int]) -> None:
    lines: list[Line] = []
    with tempfile.TemporaryDirectory() as tmp:
        imports(Path(tmp), sizes, lines.append)
    print("| measure | unit | sizes: value | growth exponent k |")
    print("|---|---|---|---|")
    for what, unit, points in lines:
        values = ", ".join(f"{n:,}: {v:.2f}" for n, v in points.items())
        k = "" if unit == "ratio" else f"{exponent(points):.2f}"
        print(f"| {what} | {unit} | {values} | {k} |")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 50_000, 100_000, 200_000])
