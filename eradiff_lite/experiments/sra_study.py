"""Where does Self-Rectifying Attention matter? SRA on vs off in each setting, paired on the same scenes.

The paper's premise (Sec. 4.2): the hole's self-attention copies what is left of the object back into the
hole, so blocking hole-to-hole attention should stop the object coming back. Each `SETTINGS` entry erases the
held-out benchmark twice with the same weights and the same starting noise, SRA off and on, and reports the
per-scene differences (on - off) with paired 95 % bootstrap intervals (`metrics.results.paired_stats`):

- ``all``: SRA in every self-attention layer at every step, erasing from noise (the course's default);
- ``strength 0.6`` / ``0.8``: erasing from the noised input, where ``x_t`` still carries the object;
- ``early steps`` / ``late steps``: SRA only at t >= 500, or only at t < 500;
- ``finest level`` / ``coarsest level``: SRA only in the attention layers of the largest / smallest token grid;
- ``larger holes``: every object's mask grown by 4 px.

    python -m eradiff_lite sra-study --model data/checkpoints/baseline --out data/results/sra_study.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from tqdm.auto import tqdm

SETTINGS: dict[str, dict] = {
    "all": {},
    "strength 0.6": {"strength": 0.6},
    "strength 0.8": {"strength": 0.8},
    "early steps (t >= 500)": {"sra_timesteps": (500, 999)},
    "late steps (t < 500)": {"sra_timesteps": (0, 499)},
    "finest level only": {"level": "finest"},
    "coarsest level only": {"level": "coarsest"},
    "larger holes (+4 px)": {"dilate": 5},
}


def attention_grids(unet) -> dict[str, int]:
    """``{self-attention layer name: tokens}`` of ``unet`` at its sample size, from one dry forward pass."""
    from ..models import masked_image, unet_input
    from ..sra.context import self_attention_layers

    side = unet.config.sample_size
    tokens, hooks = {}, []
    for name, module in self_attention_layers(unet).items():
        hooks.append(module.register_forward_pre_hook(
            lambda m, args, kw, name=name: tokens.__setitem__(name, _tokens(args, kw)), with_kwargs=True))
    x = torch.zeros(1, 3, side, side, dtype=unet.dtype)
    mask = torch.zeros(1, 1, side, side, dtype=unet.dtype)
    try:
        with torch.no_grad():
            unet(unet_input(x, mask, masked_image(x, mask)), 500)
    finally:
        for h in hooks:
            h.remove()
    return tokens


def _tokens(args, kwargs) -> int:
    hidden = args[0] if args else kwargs["hidden_states"]
    return int(hidden.shape[-2] * hidden.shape[-1]) if hidden.ndim == 4 else int(hidden.shape[1])


def level_layers(unet, level: str) -> list[str]:
    """The self-attention layers on the ``finest`` (most tokens) or ``coarsest`` grid."""
    grids = attention_grids(unet)
    target = max(grids.values()) if level == "finest" else min(grids.values())
    return [name for name, n in grids.items() if n == target]


def sra_effect(pipe, kit, scenes: int, seed: int, steps: int, setting: dict, size: int) -> dict:
    """SRA on minus off in one setting: paired statistics over the scenes, plus both rows' means."""
    from ..metrics.benchmark import load_benchmark
    from ..metrics.results import paired_stats
    from ..metrics.scoring import score_outputs
    from .evaluate import erase_benchmark, table_row

    setting = dict(setting)
    bench = load_benchmark(scenes=scenes, size=size, dilate=setting.pop("dilate", 1))
    if "level" in setting:
        setting["sra_layers"] = level_layers(pipe.unet, setting.pop("level"))
    strength = setting.pop("strength", 1.0)
    tensors = bench.tensors()
    rows = []
    for name, sra in (("off", False), ("on", True)):
        erased = erase_benchmark(pipe, bench, steps, seed, sra=sra, strength=strength, **(setting if sra else {}))
        rows.append(table_row(name, [score_outputs(bench, erased, kit, tensors)], None, [seed], steps))
    results = {"benchmark": bench.describe(), "rows": rows}
    stats = paired_stats(results, "on", "off")
    keep = ("elimination", "recreation", "recreation_near", "masked_psnr", "masked_ssim", "erase_ratio_share")
    return {"sra_layers": setting.get("sra_layers", "all"), "sra_timesteps": setting.get("sra_timesteps", "all"),
            "strength": strength, "dilate": bench.dilate, "paired": stats,
            "means": {r["variant"]: {k: r.get(k) for k in keep} for r in rows}}


def run_study(model: str | Path, scenes: int = 128, seed: int = 0, steps: int = 25,
              settings: dict[str, dict] = SETTINGS) -> dict:
    from ..metrics.scoring import load_metric_kit
    from ..profiles import describe_device
    from .evaluate import load_pipeline, weights_digest

    pipe, kit = load_pipeline(model), load_metric_kit()
    size = pipe.unet.config.sample_size
    out = {"model": Path(model).name, "weights_sha256": weights_digest(model), "scenes": scenes, "seed": seed,
           "steps": steps, "image_size": size, "device": describe_device(), "grids": attention_grids(pipe.unet),
           "settings": {}}
    for name, setting in tqdm(settings.items(), desc="sra settings"):
        out["settings"][name] = sra_effect(pipe, kit, scenes, seed, steps, setting, size)
    return out


def markdown_table(study: dict) -> str:
    """One row per setting: SRA on - off, with the paired 95 % intervals."""
    lines = [f"SRA on - off, model `{study['model']}`, {study['scenes']} held-out scenes, seed {study['seed']}, "
             f"{study['steps']} DDIM steps, {study['device']}", "",
             "| setting | elimination (points) | re-creation (points) | masked PSNR (dB) | McNemar p |",
             "|---|---|---|---|---|"]

    def cell(s, d=1):
        return f"{s['mean']:+.{d}f} [{s['low']:+.{d}f}, {s['high']:+.{d}f}]"

    for name, row in study["settings"].items():
        p = row["paired"]
        lines.append(f"| {name} | {cell(p['elimination'])} | {cell(p['recreation'])} | {cell(p['masked_psnr'], 2)} | "
                     f"{p['mcnemar']['p_value']:.2g} |")
    return "\n".join(lines) + "\n"


def verdicts(study: dict) -> dict[str, str]:
    """Per setting, what the paired elimination difference (SRA on - off) says, by the course's one rule
    (`metrics.paired.difference_shown`: 95 % interval excluding 0 and McNemar's p < 0.05): ``more erased with SRA``,
    ``fewer erased with SRA`` or ``no difference shown``."""
    from ..metrics.paired import difference_shown

    words = {1: "more erased with SRA", -1: "fewer erased with SRA", 0: "no difference shown"}
    out = {}
    for name, row in study["settings"].items():
        e, p = row["paired"]["elimination"], row["paired"].get("mcnemar", {}).get("p_value")  # None: no test
        out[name] = words[difference_shown(e["low"], e["high"], p)]
    return out


def conclusion(study: dict) -> str:
    """The verdicts in sentences, computed from the study (notebook 04 prints it): elimination by the one rule
    (interval and McNemar), the settings whose interval alone excludes 0 named apart; re-creation and masked PSNR
    (no McNemar test) by their interval."""
    from ..metrics.paired import difference_shown

    found = verdicts(study)
    lines = [f"SRA on vs off on `{study['model']}` ({study['scenes']} held-out scenes; a difference is shown when its "
             f"95 % interval excludes 0 and, for elimination, McNemar's p < 0.05):"]
    for verdict in ("more erased with SRA", "fewer erased with SRA", "no difference shown"):
        names = [k for k, v in found.items() if v == verdict]
        if names:
            lines.append(f"- elimination, {verdict}: {', '.join(names)}")
    unconfirmed = []
    for name, row in study["settings"].items():
        e, mc = row["paired"]["elimination"], row["paired"].get("mcnemar")
        if mc and found[name] == "no difference shown" and difference_shown(e["low"], e["high"]):
            unconfirmed.append(f"{name} ({e['mean']:+.1f} points, McNemar p = {mc['p_value']:.2g})")
    if unconfirmed:
        lines.append(f"- elimination interval excludes 0 but McNemar's p >= 0.05, so not shown: "
                     f"{', '.join(unconfirmed)}")
    for key, what, unit in (("recreation", "re-creation (a new object painted into the hole)", "points"),
                            ("masked_psnr", "masked PSNR (fidelity to the true background)", "dB")):
        for sign, word in ((1, "higher"), (-1, "lower")):
            named = [f"{name} ({r['mean']:+.{1 if unit == 'points' else 2}f} {unit})" for name, r in
                     ((k, row["paired"].get(key)) for k, row in study["settings"].items())
                     if r is not None and difference_shown(r["low"], r["high"]) == sign]
            if named:
                lines.append(f"- {what} shown {word} with SRA: {', '.join(named)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from ..cliargs import Parser, count, seed
    from ..paths import write_text_atomic

    p = Parser(prog="python -m eradiff_lite sra-study", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a saved pipeline folder")
    p.add_argument("--out", required=True, help="JSON file to write (a Markdown twin is written beside it)")
    p.add_argument("--scenes", type=count(2), default=128)
    p.add_argument("--seed", type=seed(), default=0)
    p.add_argument("--steps", type=count(1), default=25)
    p.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS), metavar="SETTING",
                   help=f"which settings (default all): {', '.join(SETTINGS)}")
    args = p.parse_args(argv)
    from ..paths import check_separate

    check_separate({"--model": args.model}, {"--out": args.out})  # never written into the model it reads
    study = run_study(args.model, args.scenes, args.seed, args.steps, {k: SETTINGS[k] for k in args.settings})
    out = Path(args.out)
    write_text_atomic(out, json.dumps(study, indent=1) + "\n")
    write_text_atomic(out.with_suffix(".md"), markdown_table(study))
    print(markdown_table(study))
    return 0
