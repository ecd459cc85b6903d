"""Build ``.venv-colab``: Colab's GPU runtime package set (googlecolab/backend-info, the 2026-08 freeze) on this
machine's Python, for the CI job that checks the course installs and runs there without changing anything.

``.ci/colab-2026-08-py313.txt`` is the course-relevant part of Colab's ``pip freeze`` (Python 3.13). Here it is
rebuilt on Python 3.11 with three documented departures, nothing else:

- torch: 2.13.0 CPU (the build this machine has; Colab has 2.11.0+cu128); torchvision/torchaudio are left out;
- setuptools: unpinned (Colab's 75.2.0 is older than torch 2.13.0 accepts, >= 77.0.3);
- tifffile: 2026.3.3, the newest release for Python 3.11 (Colab's 2026.8.16 needs 3.12).

The course's own dependencies are NOT installed: the notebooks' Colab cell must add them, as on Colab.
Usage: ``python .ci/colab_env.py [--venv .venv-colab] [--torch torch==2.11.0]`` (idempotent: a stamp file records
the pins). Run with Python 3.12 or 3.13 and ``--torch torch==2.11.0`` (Colab's own, a CUDA build from PyPI: several
GB) for the by-hand check on Colab's Pythons; tifffile is replaced on 3.11 only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PINS = HERE / "colab-2026-08-py313.txt"
DROP = ("torch", "torchvision", "torchaudio", "setuptools")
REPLACE = {"tifffile": "2026.3.3"}
TORCH = "torch==2.13.0"


def adapted_pins() -> list[str]:
    """Colab's pins with the departures above applied."""
    out = []
    for line in PINS.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name = line.split("==")[0].strip()
        if name.lower() in DROP:
            continue
        replace = name.lower() in REPLACE and sys.version_info < (3, 12)
        out.append(f"{name}=={REPLACE[name.lower()]}" if replace else line)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", default=str(HERE.parent / ".venv-colab"))
    parser.add_argument("--torch", default=TORCH, help=f"the torch requirement (default {TORCH})")
    args = parser.parse_args(argv)
    torch_spec = args.torch
    venv = Path(args.venv)
    pins = adapted_pins()
    digest = hashlib.sha256("\n".join([torch_spec, *pins]).encode()).hexdigest()[:16]
    stamp = venv / ".colab-pins"
    if stamp.is_file() and stamp.read_text().strip() == digest:
        print(f"{venv}: Colab's package set already installed ({len(pins)} pins + {torch_spec})")
        return 0
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"colab env 1/3: creating {venv}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    print(f"colab env 2/3: installing {torch_spec} (the largest download, a few minutes the first time)", flush=True)
    subprocess.run([*pip, torch_spec], check=True)
    pin_file = venv / "colab-pins.txt"
    pin_file.write_text("\n".join(pins) + "\n")
    print(f"colab env 3/3: installing Colab's {len(pins)} pinned packages (about two minutes the first time)",
          flush=True)
    subprocess.run([*pip, "-r", str(pin_file), "-c", str(_torch_constraint(venv, torch_spec))], check=True)
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                            check=True, capture_output=True, text=True).stdout
    baseline = {d["name"].lower().replace("_", "-"): d["version"] for d in json.loads(listed)}
    (venv / "baseline.json").write_text(json.dumps(baseline, indent=1) + "\n")  # what the runtime has
    stamp.write_text(digest + "\n")
    print(f"{venv}: installed Colab's package set ({len(pins)} pins + {torch_spec})")
    return 0


def _torch_constraint(venv: Path, torch_spec: str) -> Path:
    path = venv / "torch-constraint.txt"
    path.write_text(torch_spec + "\n")
    return path


if __name__ == "__main__":
    sys.exit(main())
