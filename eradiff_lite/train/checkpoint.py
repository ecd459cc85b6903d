"""Training checkpoints as safetensors plus JSON: weights, optimizer, lr scheduler, EMA and RNG states.

A checkpoint folder ``checkpoints/step_NNNNNN/`` holds

- ``model.safetensors``: the UNet's float32 training weights;
- ``ema.safetensors``: the EMA's shadow weights (same names);
- ``optimizer.safetensors``: every optimizer state tensor, named ``state.<param index>.<key>``;
- ``state.json``: step, optimizer param groups, lr scheduler, EMA counters, and the RNG states
  (python ``random``, numpy, torch global, and the training generator; the data sampler's position is
  the step, see `train.data`).

Everything is plain tensors or JSON, so loading runs no pickle. A folder is written under a temporary
name and renamed when complete: an interrupted save never looks like a checkpoint.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

STEP_PREFIX = "step_"


def rng_states(generator: torch.Generator) -> tuple[dict, dict[str, torch.Tensor]]:
    """(JSON part, tensor part) of every random state a run depends on."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    json_part = {"numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
                 "python": [py_state[0], list(py_state[1]), py_state[2]]}
    tensors = {"rng.torch": torch.get_rng_state(), "rng.generator": generator.get_state()}
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    return json_part, tensors


def restore_rng_states(json_part: dict, tensors: dict[str, torch.Tensor], generator: torch.Generator) -> None:
    kind, keys, *rest = json_part["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), *rest))
    version, internal, gauss = json_part["python"]
    random.setstate((version, tuple(internal), gauss))
    torch.set_rng_state(tensors["rng.torch"])
    generator.set_state(tensors["rng.generator"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])


def _optimizer_parts(optimizer: torch.optim.Optimizer) -> tuple[list, dict[str, torch.Tensor]]:
    state = optimizer.state_dict()
    tensors = {f"state.{index}.{key}": value.detach().cpu().contiguous()
               for index, slots in state["state"].items() for key, value in slots.items()}
    return state["param_groups"], tensors


def _optimizer_state(param_groups: list, tensors: dict[str, torch.Tensor]) -> dict:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        _, index, key = name.split(".", 2)
        state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": param_groups}


def save_checkpoint(folder: Path, step: int, unet, optimizer, lr_scheduler, ema, generator) -> Path:
    """Write ``folder/step_NNNNNN`` (see the module docstring); returns it."""
    target = Path(folder) / f"{STEP_PREFIX}{step:06d}"
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in unet.state_dict().items()}
    save_file(weights, tmp / "model.safetensors")
    names = [name for name, _ in unet.named_parameters()]
    ema_state = ema.state_dict()
    save_file({n: p.detach().cpu().contiguous() for n, p in zip(names, ema_state.pop("shadow_params"))},
              tmp / "ema.safetensors")
    param_groups, opt_tensors = _optimizer_parts(optimizer)
    rng_json, rng_tensors = rng_states(generator)
    save_file({**opt_tensors, **rng_tensors}, tmp / "optimizer.safetensors")
    state = {"step": step, "param_groups": param_groups, "lr_scheduler": lr_scheduler.state_dict(),
             "ema": ema_state, "rng": rng_json}
    (tmp / "state.json").write_text(json.dumps(state))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def load_checkpoint(path: Path, unet, optimizer, lr_scheduler, ema, generator) -> int:
    """Restore everything `save_checkpoint` wrote into the given objects; returns the step."""
    path = Path(path)
    state = json.loads((path / "state.json").read_text())
    unet.load_state_dict(load_file(path / "model.safetensors"))
    ema_shadow = load_file(path / "ema.safetensors")
    names = [name for name, _ in unet.named_parameters()]
    ema.load_state_dict({**state["ema"], "shadow_params": [ema_shadow[n] for n in names]})
    tensors = load_file(path / "optimizer.safetensors")
    optimizer.load_state_dict(_optimizer_state(state["param_groups"],
                                               {k: v for k, v in tensors.items() if k.startswith("state.")}))
    lr_scheduler.load_state_dict(state["lr_scheduler"])
    restore_rng_states(state["rng"], {k: v for k, v in tensors.items() if k.startswith("rng.")}, generator)
    return int(state["step"])


def list_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints under ``folder``, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and p.name.startswith(STEP_PREFIX)
                  and not p.name.endswith(".partial") and (p / "state.json").is_file())


def prune_checkpoints(folder: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` checkpoints."""
    for old in list_checkpoints(folder)[:-keep] if keep > 0 else []:
        shutil.rmtree(old)


def load_ema_weights(path: Path) -> dict[str, torch.Tensor]:
    """The EMA weights of a checkpoint, by parameter name (what gets exported)."""
    return load_file(Path(path) / "ema.safetensors")
