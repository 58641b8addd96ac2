"""Every bench, one after another (`make bench`): each prints its figures and ratios.

Run: .venv/bin/python bench/run_all.py [name ...]   (names: engine conversion latency batch mixed
downloads zips uploads polling history; default all). Not part of `make test`: tests never assert timings.
"""

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# The engine first: it needs no server. History last: its first run fills 100,000 rows.
ORDER = ["engine", "conversion", "latency", "batch", "mixed", "downloads", "zips", "uploads", "polling",
         "history"]


def main() -> int:
    names = sys.argv[1:] or ORDER
    unknown = set(names) - set(ORDER)
    if unknown:
        sys.exit(f"unknown bench: {', '.join(sorted(unknown))} (known: {' '.join(ORDER)})")
    failed = []
    for name in names:
        start = time.monotonic()
        if subprocess.run([sys.executable, str(BENCH / f"{name}.py")], check=False).returncode:
            failed.append(name)
        print(f"-- {name}: {time.monotonic() - start:.0f} s", flush=True)
    if failed:
        print(f"benches that crashed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
