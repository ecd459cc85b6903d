"""Where shipped data live and where runs are written.

`ERADIFF_DATA` and `ERADIFF_RUNS` override both; otherwise the repository's `data/` and `runs/`
(the package is installed editable from a checkout, locally and on Colab).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def data_dir() -> Path:
    """The shipped assets (photos, cut-outs, checkpoints, results)."""
    path = Path(os.environ.get("ERADIFF_DATA", REPO_DIR / "data"))
    if not path.is_dir():
        raise FileNotFoundError(
            f"shipped data folder {path} not found: install eradiff_lite editable from a clone of the "
            f"repository (pip install -e .) or point ERADIFF_DATA at its data/ folder"
        )
    return path


def runs_dir() -> Path:
    """Where notebooks and commands write what they make (git-ignored)."""
    return Path(os.environ.get("ERADIFF_RUNS", REPO_DIR / "runs"))


def run_dir(name: str, out_dir: str | os.PathLike | None = None) -> Path:
    """`out_dir` if given, else `runs_dir()/name`; created."""
    path = Path(out_dir) if out_dir else runs_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path`` in one step.

    A write that fails (an exception, a full disk) leaves ``path`` as it was (absent or the old file) and no
    temporary file behind; readers never see a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """``path.write_text(text)``, atomically (`atomic_write`)."""
    with atomic_write(path) as tmp:
        tmp.write_text(text)
    return Path(path)
