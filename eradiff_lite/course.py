"""What every notebook shares (its header and its summary file), and the runner behind ``make course``."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .paths import REPO_DIR, run_dir, runs_dir, write_text_atomic
from .profiles import Profile, describe_device, get_profile


@dataclass
class NotebookRun:
    """A notebook's profile, output folder and device, from its ``parameters`` cell."""

    name: str
    profile: Profile
    out_dir: Path
    device: str
    seed: int

    def save_figure(self, fig, name: str, dpi: int = 72) -> None:
        """``fig`` saved as ``out_dir/name`` (format from the suffix), atomically: a figure is whole or absent.
        Returns nothing, so a notebook cell that ends with it shows no path."""
        from .paths import atomic_write

        path = self.out_dir / name
        with atomic_write(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png", bbox_inches="tight")

    def save_json(self, data, name: str) -> None:
        """``data`` as indented JSON in ``out_dir/name``, atomically (numpy and torch numbers as floats). Returns
        nothing, so a notebook cell that ends with it shows no path."""
        write_text_atomic(self.out_dir / name, json.dumps(data, indent=1, default=float) + "\n")

    def write_summary(self, facts: dict, artifacts: list[str] | None = None) -> Path:
        """Write ``summary.json`` (profile, device, facts, artifacts) to the output folder.

        A summary states what the notebook found (``facts``, not empty), and every artifact it lists exists
        and is not empty: otherwise an error, so that a notebook run under test fails there.
        """
        if not facts:
            raise ValueError(f"{self.name}: the summary must state what the notebook found (facts is empty)")
        artifacts = [str(a) for a in (artifacts or [])]
        missing = [a for a in artifacts if not (self.out_dir / a).exists()]
        if missing:
            raise FileNotFoundError(f"summary lists artifacts that were not written: {missing}")
        empty = [a for a in artifacts if (self.out_dir / a).is_file() and (self.out_dir / a).stat().st_size == 0]
        if empty:
            raise ValueError(f"summary lists empty artifacts: {empty}")
        path = self.out_dir / "summary.json"
        write_text_atomic(path, json.dumps({"notebook": self.name, "profile": self.profile.name,
                                            "device": self.device, "seed": self.seed, "facts": facts,
                                            "artifacts": artifacts}, indent=1, default=float) + "\n")
        return path


def start_notebook(name: str, profile_name: str | None = None, out_dir: str | None = None,
                   seed: int = 0, **overrides) -> NotebookRun:
    """Resolve the profile and output folder of a notebook and print one header line."""
    import torch

    profile = get_profile(profile_name, **overrides)
    torch.manual_seed(seed)
    run = NotebookRun(name=name, profile=profile, out_dir=run_dir(name, out_dir), device=describe_device(),
                      seed=seed)
    print(f"{name}: profile {profile.name!r}, image size {profile.image_size}, device {run.device}")
    return run


def notebooks_dir() -> Path:
    return REPO_DIR / "notebooks"


def list_notebooks() -> list[Path]:
    return sorted(notebooks_dir().glob("[0-9][0-9]_*.ipynb"))


def run_course(profile: str | None = None, only: list[str] | None = None) -> Path:
    """Run every notebook in order with papermill into ``runs/<timestamp>/`` and write a summary page."""
    import papermill as pm

    profile_obj = get_profile(profile)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    root = runs_dir() / stamp
    root.mkdir(parents=True, exist_ok=True)
    notebooks = [p for p in list_notebooks() if not only or any(p.name.startswith(o) for o in only)]
    rows, failed = [], None
    for nb in notebooks:
        print(f"running {nb.name} (profile {profile_obj.name}) ...", flush=True)
        start = time.perf_counter()
        status = "ok"
        try:
            pm.execute_notebook(str(nb), str(root / nb.name), cwd=str(nb.parent), progress_bar=False,
                                parameters={"profile_name": profile_obj.name, "out_dir": str(root / nb.stem)})
        except Exception as err:  # noqa: BLE001 - record, write the summary, then stop
            status, failed = f"failed: {type(err).__name__}", err
        rows.append((nb.name, status, time.perf_counter() - start))
        print(f"  {status} in {rows[-1][2]:.1f} s", flush=True)
        if failed:
            break
    device = describe_device()
    lines = [f"# EraDiff-lite course run {stamp}", "", f"- profile: `{profile_obj.name}`", f"- device: {device}",
             f"- total time: {sum(r[2] for r in rows):.1f} s", "", "| notebook | status | time (s) |",
             "|---|---|---|"]
    lines += [f"| [{n}]({n}) | {s} | {t:.1f} |" for n, s, t in rows]
    write_text_atomic(root / "SUMMARY.md", "\n".join(lines) + "\n")
    write_text_atomic(root / "summary.json", json.dumps({"profile": profile_obj.name, "device": device, "notebooks": [
        {"notebook": n, "status": s, "seconds": round(t, 2)} for n, s, t in rows]}, indent=1) + "\n")
    print(f"executed notebooks and SUMMARY.md are in {root}")
    if failed:
        raise SystemExit(f"{rows[-1][0]} failed; see {root / rows[-1][0]}")
    return root


if __name__ == "__main__":  # pragma: no cover
    run_course(os.environ.get("ERADIFF_PROFILE"))
