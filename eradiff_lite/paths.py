"""Where shipped data live and where runs are written; how an error reads on one line.

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


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_separate(reads: dict[str, str | os.PathLike], writes: dict[str, str | os.PathLike], *,
                   nested: bool = True) -> None:
    """Refuse, before anything is touched, a command that would write into what it reads.

    ``reads`` and ``writes`` map an option's name (``"--runs"``) to its path. A write path equal to a read path
    is refused; with ``nested`` (the default) so is one inside the other, since a command that replaces its
    output folder would delete the input inside it, or copy into the folder it is copying from. One
    `ValueError` line names both options and what to do.
    """
    for w_name, w_path in writes.items():
        w = Path(w_path).expanduser().resolve()
        for r_name, r_path in reads.items():
            r = Path(r_path).expanduser().resolve()
            if w == r:
                raise ValueError(f"{w_name} {w_path} is the folder {r_name} reads from: a command never writes "
                                 f"into what it reads (it would replace or mix with its input); choose another "
                                 f"{w_name}")
            if nested and (_inside(w, r) or _inside(r, w)):
                inner, outer = (w_name, r_name) if _inside(w, r) else (r_name, w_name)
                raise ValueError(f"{w_name} {w_path} and {r_name} {r_path} overlap ({inner} lies inside {outer}): a "
                                 f"command never writes where it reads; choose a {w_name} beside {r_name}, not in it")


def one_line_error(err: BaseException) -> str:
    """``error: <what> (<file>): <what to do>`` on one line: the message our errors carry, the file an OS error
    names (the CLI's last line, and each failure a command reports while it goes on)."""
    if isinstance(err, OSError) and err.filename and not str(err).startswith("error"):
        return f"error: {err.strerror or type(err).__name__} ({err.filename}): check the path, the free disk " \
               f"space and the permissions"
    text = " ".join(str(err).split()) or type(err).__name__
    return text if text.startswith("error:") else f"error: {text}"
