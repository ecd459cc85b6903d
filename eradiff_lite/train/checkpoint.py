"""Training checkpoints as safetensors plus JSON: weights, optimizer, lr scheduler, EMA and RNG states.

Every run of the training engine (`train.engine`: the lite UNet, the Stable Diffusion LoRA, the presence net)
writes this one format. A checkpoint folder ``checkpoints/step_NNNNNN/`` holds

- ``model.safetensors``: the model's float32 training weights (its whole ``state_dict``; with
  ``trainable_only``, only the parameters that train, e.g. a LoRA adapter on a frozen UNet);
- ``ema.safetensors``: the EMA's shadow weights (same names), for a run that keeps an EMA;
- ``optimizer.safetensors``: every optimizer state tensor, named ``state.<param index>.<key>``, and the RNG
  tensors (``rng.torch``, ``rng.generator`` for a run with its own generator, ``rng.cuda``);
- ``extra.safetensors``: the tensors of the run's extra states (``<name>.<key>``; e.g. the presence net's
  epoch order), only for a run that has some;
- ``state.json``: step, optimizer param groups, lr scheduler, EMA counters, the extra states' other values
  (e.g. accelerate's fp16 gradient scaler) and the RNG states (python ``random``, numpy, torch global, and the
  training generator; the data sampler's position is the step, see `train.data`).

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


def rng_states(generator: torch.Generator | None) -> tuple[dict, dict[str, torch.Tensor]]:
    """(JSON part, tensor part) of every random state a run depends on (``generator``: the run's own, if any)."""
    np_state = np.random.get_state()
    py_state = random.getstate()
    json_part = {"numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
                 "python": [py_state[0], list(py_state[1]), py_state[2]]}
    tensors = {"rng.torch": torch.get_rng_state()}
    if generator is not None:
        tensors["rng.generator"] = generator.get_state()
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    return json_part, tensors


def restore_rng_states(json_part: dict, tensors: dict[str, torch.Tensor], generator: torch.Generator | None) -> None:
    kind, keys, *rest = json_part["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), *rest))
    version, internal, gauss = json_part["python"]
    random.setstate((version, tuple(internal), gauss))
    torch.set_rng_state(tensors["rng.torch"])
    if generator is not None:
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


def model_weights(model: torch.nn.Module, trainable_only: bool = False) -> dict[str, torch.Tensor]:
    """The weights a checkpoint stores: the whole ``state_dict``, or only the parameters with ``requires_grad``."""
    if trainable_only:
        return {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def _extra_parts(extras: dict[str, object]) -> tuple[dict, dict[str, torch.Tensor]]:
    """(JSON part, tensor part) of the ``state_dict()`` of each extra state, by its name."""
    plain, tensors = {}, {}
    for name, obj in extras.items():
        for key, value in obj.state_dict().items():
            if isinstance(value, torch.Tensor):
                tensors[f"{name}.{key}"] = value.detach().cpu().contiguous()
            else:
                plain.setdefault(name, {})[key] = value
    return plain, tensors


def save_checkpoint(folder: Path, step: int, unet, optimizer, lr_scheduler=None, ema=None, generator=None, *,
                    trainable_only: bool = False, extras: dict[str, object] | None = None) -> Path:
    """Write ``folder/step_NNNNNN`` (see the module docstring) for the model ``unet``; returns it. ``extras``: more
    states to keep, by name, each with ``state_dict()`` / ``load_state_dict()``."""
    target = Path(folder) / f"{STEP_PREFIX}{step:06d}"
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(model_weights(unet, trainable_only), tmp / "model.safetensors")
    state: dict = {"step": step}
    if ema is not None:
        names = [name for name, _ in unet.named_parameters()]
        ema_state = ema.state_dict()
        save_file({n: p.detach().cpu().contiguous() for n, p in zip(names, ema_state.pop("shadow_params"))},
                  tmp / "ema.safetensors")
    param_groups, opt_tensors = _optimizer_parts(optimizer)
    rng_json, rng_tensors = rng_states(generator)
    save_file({**opt_tensors, **rng_tensors}, tmp / "optimizer.safetensors")
    state["param_groups"] = param_groups
    if lr_scheduler is not None:
        state["lr_scheduler"] = lr_scheduler.state_dict()
    if ema is not None:
        state["ema"] = ema_state
    if extras:
        state["extra"], extra_tensors = _extra_parts(extras)
        save_file(extra_tensors, tmp / "extra.safetensors")
    state["rng"] = rng_json
    (tmp / "state.json").write_text(json.dumps(state))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def load_checkpoint(path: Path, unet, optimizer, lr_scheduler=None, ema=None, generator=None, *,
                    trainable_only: bool = False, extras: dict[str, object] | None = None) -> int:
    """Restore everything `save_checkpoint` wrote into the given objects; returns the step."""
    path = Path(path)
    state = json.loads((path / "state.json").read_text())
    weights = load_file(path / "model.safetensors")
    if trainable_only:
        wanted = {n for n, p in unet.named_parameters() if p.requires_grad}
        if set(weights) != wanted:
            raise ValueError(f"{path} holds other trainable weights than this model has "
                             f"({len(set(weights) ^ wanted)} names differ): another adapter or rank?")
        unet.load_state_dict(weights, strict=False)
    else:
        unet.load_state_dict(weights)
    if ema is not None:
        ema_shadow = load_file(path / "ema.safetensors")
        names = [name for name, _ in unet.named_parameters()]
        ema.load_state_dict({**state["ema"], "shadow_params": [ema_shadow[n] for n in names]})
    tensors = load_file(path / "optimizer.safetensors")
    optimizer.load_state_dict(_optimizer_state(state["param_groups"],
                                               {k: v for k, v in tensors.items() if k.startswith("state.")}))
    if lr_scheduler is not None:
        lr_scheduler.load_state_dict(state["lr_scheduler"])
    if extras:
        extra_tensors = load_file(path / "extra.safetensors")
        for name, obj in extras.items():
            tensors_of = {k.split(".", 1)[1]: v for k, v in extra_tensors.items() if k.split(".", 1)[0] == name}
            obj.load_state_dict({**state["extra"].get(name, {}), **tensors_of})
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
