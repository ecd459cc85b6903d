"""What a training run of the lite model records: `TrainResult` (``training.json``, one session per call of `train`,
written by the `RunRecord` hook however the session ended) and the facts a model card states (`result_card`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..paths import write_text_atomic
from ..variants import get_variant
from .hooks import Hook


@dataclass
class TrainResult:
    """What a run did (also written to ``training.json``)."""

    variant: str
    status: str  # "finished", "finished early at step k ...", "stopped at step k" (stop_at), "diverged at step k",
    #              "interrupted at step k" (Ctrl-C) or "failed at step k (error)"
    steps_done: int  # the run's step count at the end of this call
    steps_planned: int
    steps_run: int  # steps run in this call (fewer than steps_done after a resume)
    final_loss: float | None
    seconds: float  # wall time of the steps run in this call (no set-up)
    images_per_s: float
    peak_memory_mb: float
    memory_kind: str
    device: str
    seed: int
    profile: str
    torch_threads: int = 0


def write_result(out_dir: Path, result: TrainResult, resumed: bool) -> None:
    """``training.json``: the result of each session of this run (a resumed run appends a session)."""
    path = out_dir / "training.json"
    sessions = json.loads(path.read_text())["sessions"] if resumed and path.is_file() else []
    sessions.append(asdict(result))
    total = sum(s["seconds"] for s in sessions)
    write_text_atomic(path, json.dumps({"result": asdict(result), "total_seconds": round(total, 2),
                                        "sessions": sessions}, indent=1) + "\n")


class RunRecord(Hook):
    """At the end of a session (`engine.fit`'s ``after_fit``, also after an error or Ctrl-C): its `TrainResult` in
    ``result``, written to ``out_dir/training.json`` when ``write`` (the main process)."""

    def __init__(self, out_dir: Path, cfg, resumed: bool, write: bool = True):
        self.out_dir, self.cfg, self.resumed, self.write = out_dir, cfg, resumed, write
        self.result: TrainResult | None = None

    def after_fit(self, run, outcome):
        import torch

        from ..profiles import describe_device, peak_memory

        cfg, seconds, steps_run = self.cfg, outcome.seconds, outcome.steps_run
        memory, memory_kind = peak_memory(run.accelerator.device)
        self.result = TrainResult(cfg.variant, outcome.status, outcome.done, cfg.steps, steps_run, outcome.loss,
                                  round(seconds, 2), round(steps_run * cfg.batch_size / max(seconds, 1e-9), 2),
                                  round(memory, 1), memory_kind, describe_device(), cfg.seed, cfg.model_profile.name,
                                  torch.get_num_threads())
        if self.write:
            write_result(self.out_dir, self.result, resumed=self.resumed)


def result_card(out_dir: Path) -> dict:
    """The facts a model card states, from ``training.json``, ``train_config.json`` and ``unet_config.json``."""
    run = json.loads((Path(out_dir) / "training.json").read_text())
    cfg = json.loads((Path(out_dir) / "train_config.json").read_text())
    unet_config = Path(out_dir) / "unet_config.json"
    size = json.loads(unet_config.read_text()).get("sample_size") if unet_config.is_file() else None
    res = run["result"]
    spec = get_variant(res["variant"])
    return {"variant": res["variant"], "loss": spec.loss, "target": spec.target,
            "sra_in_training": spec.sra_in_training, "sra_at_inference": spec.sra_at_inference,
            "constant_lambda": spec.constant_lambda, "status": res["status"], "profile": res["profile"],
            "device": res["device"],
            "steps": res["steps_done"], "steps_planned": res["steps_planned"], "seconds": run["total_seconds"],
            "images_per_s": res["images_per_s"], "peak_memory_mb": res["peak_memory_mb"],
            "memory_kind": res["memory_kind"],
            **({"torch_threads": res["torch_threads"]} if "torch_threads" in res else {}),
            "final_loss": res["final_loss"], "seed": res["seed"],
            "batch_size": cfg["batch_size"], "learning_rate": cfg["learning_rate"],
            "train_scenes": cfg["train_scenes"], "sessions": len(run["sessions"]),
            **({"image_size": size} if size else {}), "prediction_type": cfg.get("prediction_type", "epsilon"),
            "beta_schedule": cfg.get("beta_schedule", "linear"), "notes": cfg.get("notes", {})}
