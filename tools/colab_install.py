"""Install the course into a running notebook kernel (Colab) without changing anything it already has.

Colab's kernel has numpy, PIL and ipywidgets imported before the first cell runs; a pip install that
upgrades one of them leaves the kernel broken until a restart. So this script

1. pins every distribution already installed (``pip list --format=freeze``) in a constraints file,
2. runs ``pip install -e <course>[extras] -c <constraints>``: pip may only ADD what is missing and picks
   versions of the new packages that fit the pinned ones,
3. compares the installed versions before and after, and exits with status 3 naming each change if
   anything that was there changed (then: Runtime -> Restart session, and run the cell again).

Standard library only (it runs before the course is importable):
``python tools/colab_install.py [--extras colab-metrics] [--course PATH]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def installed() -> dict[str, str]:
    """``{normalised name: version}`` of every distribution in this interpreter's environment."""
    out = subprocess.run([sys.executable, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                         check=True, capture_output=True, text=True).stdout
    return {d["name"].lower().replace("_", "-"): d["version"] for d in json.loads(out)}


def constraints(versions: dict[str, str], skip: str) -> str:
    """A pip constraints file pinning ``versions`` (the course itself, ``skip``, left free)."""
    return "".join(f"{name}=={version}\n" for name, version in sorted(versions.items()) if name != skip)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", default=str(Path(__file__).resolve().parent.parent), help="the course checkout")
    parser.add_argument("--extras", default="", help="optional dependency groups, e.g. colab-metrics")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    before = installed()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(constraints(before, "eradiff-lite"))
    target = args.course + (f"[{args.extras}]" if args.extras else "")
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-e", target, "-c", f.name]
    result = subprocess.run(cmd + (["-q"] if args.quiet else []), capture_output=True, text=True)
    if result.returncode:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-6:])
        print(f"error: the course cannot be installed without changing packages this runtime already has:\n{tail}\n"
              f"Nothing was changed. Report it with the lines above.", file=sys.stderr)
        return 2
    after = installed()
    changed = {n: (v, after.get(n)) for n, v in before.items() if after.get(n) != v and n != "eradiff-lite"}
    added = sorted(set(after) - set(before) - {"eradiff-lite"})
    if changed:
        print("error: these packages changed version: " + ", ".join(f"{n} {a} -> {b}" for n, (a, b) in changed.items())
              + ". Restart the runtime (Runtime -> Restart session) and run this cell again.", file=sys.stderr)
        return 3
    print(f"eradiff-lite installed; added {len(added)} package(s): {', '.join(added) or 'none'}; nothing that was "
          f"installed changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
