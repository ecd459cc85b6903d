"""What every notebook shares (its header and its summary file), and the runner behind ``make course`` (a progress
bar per notebook, and each notebook's headline figures in the run's ``SUMMARY.md``)."""

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


def headline(facts: dict, limit: int = 6) -> str:
    """The first ``limit`` facts of a notebook's summary that read as plain values (numbers, yes/no, short words, or
    a small table of them), as one line for ``SUMMARY.md``; nested lists and long tables are left to summary.json."""
    def plain(value):
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value) if isinstance(value, int) or (isinstance(value, str) and len(value) <= 40) else None

    parts = []
    for key, value in facts.items():
        inner = [(k, plain(v)) for k, v in value.items()] if isinstance(value, dict) and len(value) <= 4 else []
        text = ", ".join(f"{k} {v}" for k, v in inner) if inner and all(v for _, v in inner) else plain(value)
        if text is not None and len(parts) < limit:
            parts.append(f"{key.replace('_', ' ')}: {text}")
    return "; ".join(parts).replace("|", "\\|")


def run_course(profile: str | None = None, only: list[str] | None = None) -> Path:
    """Run every notebook in order with papermill into ``runs/<timestamp>/`` (a progress bar over each notebook's
    cells) and write a summary page: status, time and the headline figures of each notebook's summary file."""
    import papermill as pm

    profile_obj = get_profile(profile)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    root = runs_dir() / stamp
    root.mkdir(parents=True, exist_ok=True)
    notebooks = [p for p in list_notebooks() if not only or any(p.name.startswith(o) for o in only)]
    rows, failed = [], None
    for i, nb in enumerate(notebooks, 1):
        print(f"[{i}/{len(notebooks)}] running {nb.name} (profile {profile_obj.name}) ...", flush=True)
        start = time.perf_counter()
        status = "ok"
        try:
            pm.execute_notebook(str(nb), str(root / nb.name), cwd=str(nb.parent), progress_bar=True,
                                parameters={"profile_name": profile_obj.name, "out_dir": str(root / nb.stem)})
        except Exception as err:  # noqa: BLE001 - record, write the summary, then stop
            status, failed = f"failed: {type(err).__name__}", err
        summary = root / nb.stem / "summary.json"
        facts = json.loads(summary.read_text()).get("facts", {}) if summary.is_file() else {}
        rows.append((nb.name, status, time.perf_counter() - start, facts))
        print(f"  {status} in {rows[-1][2]:.1f} s", flush=True)
        if failed:
            break
    device = describe_device()
    lines = [f"# EraDiff-lite course run {stamp}", "", f"- profile: `{profile_obj.name}`", f"- device: {device}",
             f"- total time: {sum(r[2] for r in rows):.1f} s", "",
             "| notebook | status | time (s) | headline figures |", "|---|---|---|---|"]
    lines += [f"| [{n}]({n}) | {s} | {t:.1f} | {headline(f)} |" for n, s, t, f in rows]
    write_text_atomic(root / "SUMMARY.md", "\n".join(lines) + "\n")
    write_text_atomic(root / "summary.json", json.dumps({"profile": profile_obj.name, "device": device, "notebooks": [
        {"notebook": n, "status": s, "seconds": round(t, 2), "facts": f} for n, s, t, f in rows]}, indent=1,
        default=str) + "\n")
    print(f"executed notebooks and SUMMARY.md are in {root}")
    if failed:
        raise SystemExit(f"{rows[-1][0]} failed; see {root / rows[-1][0]}")
    return root


if __name__ == "__main__":  # pragma: no cover
    run_course(os.environ.get("ERADIFF_PROFILE"))
