"""The fill study: why do the lite models' fills speckle, and what removes it? (issue "Fills that look like the
background"). An experiment, not library code: it imports `eradiff_lite`, nothing imports it.

Choices, fixed before any arm ran:
- Every arm continues the shipped baseline (``data/checkpoints/baseline``: 6000 steps of the x0 recipe, unweighted)
  on the baseline's own task (random masks, rebuild the picture) for the same budget (``--steps``, default 600 x 32
  images), lr 3e-4 (the fine-tune rate), 50 warm-up steps, seed 0, EMA as the recipe. Arms differ in one setting.
- ``continue`` is the recipe itself (the control: training length alone); ``snr+1`` weighs the x0 error by
  SNR + 1 (the unweighted v loss); ``max(snr,1)`` by max(SNR, 1) (truncated SNR). Unweighted x0 gives a
  step at t = 20 (SNR ~ 500) the weight of one at t = 900, although all a model must learn there is to remove
  a grain of noise; both named weightings give it hundreds of times more.
- Scored on held-out scenes (``heldout`` split, seeds 0..n-1, 64 px), 25 DDIM steps, one sampling seed:
  * ``erase``: the benchmark's task (input x_obj, truth x_ori). From pure noise (strength 1) the model never
    sees the object (the hole is blanked in the condition and x_obj = x_ori outside it), so this is also "fill
    the background's hole"; the colour judge says whether the baseline still re-creates (it should);
  * ``x0_hat``: the UNet fed the truth noised to t (one fixed noise), its x0 estimate in the hole: does the
    model remove the input's noise at each t (the cause measured directly)?
  each with `metrics.texture.texture_log2` (median and share within +-1.5, smooth and textured holes apart,
  `Benchmark.buckets`), and masked PSNR. The reference fills and the non-training factors (the EMA against the
  raw weights, 100 sampling steps against 25) are rows of the same table.

    python experiments/fill_study.py run --arm snr+1 --root ~/eradiff-runs/fill-study
    python experiments/fill_study.py score --root ~/eradiff-runs/fill-study --out ~/eradiff-runs/fill-study/scored.json
    python experiments/fill_study.py curve --root ~/eradiff-runs/fill-study --arms scratch_stem scratch_nostem \
        --steps 300 500 700 --out ~/eradiff-runs/fill-study/curve.json
    python experiments/fill_study.py publish --scored ~/eradiff-runs/fill-study/scored.json \
        --curve ~/eradiff-runs/fill-study/curve.json --out data/results/fill_study.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

ARMS: dict[str, dict] = {
    "continue": {},
    "snr+1": {"loss_weighting": "snr+1"},
    "max(snr,1)": {"loss_weighting": "max(snr,1)"},
    # round 2, after round 1 showed the error's 2 x 2 blocks and a ring at the hole's edge: a full-resolution head
    "refine16": {"refine_channels": 16},
    # round 3: the same on the eraser itself (the baseline re-creates objects, which hides its fills): continue the
    # shipped `paired` fine-tune on its own task, plainly and with the refine head
    "paired_continue": {"variant": "paired", "init": "paired"},
    "paired_refine16": {"variant": "paired", "init": "paired", "refine_channels": 16},
    # the ring at the hole's edge: the baseline learned that an object-shaped hole has an object's rim at its edge;
    # holes grown by a random 1-4 px in training no longer follow the object's edge
    "paired_dilate1-4": {"variant": "paired", "init": "paired", "mask_dilate": (1, 4)},
    # round 4: the learning rate never decays (constant after the warm-up: the baseline ran 6000 steps at 1e-3, the
    # fine-tunes 1000 at 3e-4), and the EMA's warm-up averages only the last ~70 steps of a 600-step run: the grain
    # as the weights' jitter. An annealed rate (cosine to 0 after the warm-up) and a uniform average of the whole
    # run's weights (EMA power 1: decay_k = k / (k + 1), Polyak averaging), against paired_continue
    "paired_anneal": {"variant": "paired", "init": "paired", "lr_schedule": "cosine"},
    "paired_polyak": {"variant": "paired", "init": "paired", "ema_power": 1.0, "ema_max_decay": 0.9999},
    # round 5, a diagnostic rather than a candidate recipe (rounds 1-4 moved the grain by <= 0.1): can this network
    # paint a smooth fill at all? Every training scene on a smooth gradient (1 in 6 are now). If the grain stays on
    # the gradient scenes, the network's output cannot be smooth (the architecture); if it goes, the data mix sets it
    "paired_smooth_only": {"variant": "paired", "init": "paired", "backgrounds": ("gradient",)},
    # round 6, after round 5 left a floor (+1.35 on gradients with every scene smooth): the architecture, from scratch.
    # The baseline's recipe (random masks, lr 1e-3, 200 warm-up steps, seed 0: scratch_stem re-runs the shipped
    # baseline's own training) against the same UNet without the 2 x 2 space-to-depth stem (full-resolution input
    # and output; 4.6x the compute per image). Compared at equal steps from checkpoints kept every 100 steps
    # (`probe`): the x0_hat probe and the fills of the baseline's task
    "scratch_stem": {"scratch": True},
    "scratch_nostem": {"scratch": True, "space_to_depth": 1},
    # round 7, after a direct look at the x0_hat probe (experiments/grain_probe.py): the grain is not the input's
    # noise passed through - the error's Laplacian correlates 0.89-1.00 between two noise draws at t = 20-900: a
    # fixed pattern (a ghost of the object's rim and a fine mesh) that the network paints from the conditioning.
    # The plain loss weighs an error's frequencies alike and such a pattern costs little; the squared error of the
    # image gradient (the "gradient difference loss" of Mathieu et al. 2016, squared) weighs a white error 5x and a
    # period-2 one up to 9x. Its weight 1 was chosen before the run, not tuned
    "paired_gradient": {"variant": "paired", "init": "paired", "gradient_weight": 1.0},
    # round 8, after paired_gradient's probe still showed the rim ghost: the pipeline keeps the known pixels, so only
    # the hole's fill is ever used, yet the plain loss averages over the whole picture (the hole is ~6 % of it): the
    # network spends its capacity copying the known 94 %, and a ghost in the hole costs it almost nothing. The x0
    # error averaged over the hole's pixels alone
    "paired_hole": {"variant": "paired", "init": "paired", "loss_region": "hole"},
    # round 9: rounds 7 and 8 together (the hole's x0 error and its gradient, over the hole's pixels)
    "paired_hole_gradient": {"variant": "paired", "init": "paired", "loss_region": "hole", "gradient_weight": 1.0},
}


# arm settings that choose the run, not TrainConfig fields
INIT_ONLY = ("refine_channels", "variant", "init", "scratch", "space_to_depth")
T_PROBES = (20, 100, 300, 600, 900)
NOISE_SEED = 1234  # the sampling noise and the x0_hat probe's noise


def arm_folder(root: Path, arm: str) -> Path:
    return Path(root) / arm.replace("(", "_").replace(")", "").replace(",", "_").replace("+", "p")


def arm_config(arm: str, steps: int, profile: str = "cpu"):
    from eradiff_lite.train.config import make_config

    if arm not in ARMS:
        raise SystemExit(f"unknown arm {arm!r}: choose one of {', '.join(ARMS)}")
    from eradiff_lite.profiles import get_profile

    spec = ARMS[arm]
    overrides = {k: v for k, v in spec.items() if k not in INIT_ONLY}
    # arms that continue a shipped model: the fine-tune rate; arms from scratch: the profile's own (lr, warm-up),
    # every checkpoint kept so that two architectures can be compared at equal steps
    settings = ({"keep_checkpoints": 1000} if spec.get("scratch") else
                {"learning_rate": 3e-4, "warmup_steps": 50, "keep_checkpoints": 1})
    # every arm against the recipe the study started from (the loss's mean over the picture); rounds 7-9 override
    # it with the library's loss options, which the recipe of 99f208d then adopted
    settings = {"loss_region": "image", "gradient_weight": 0.0, **settings, **overrides}
    cfg = make_config(spec.get("variant", "baseline"), profile, steps=steps, checkpoint_every=100,
                      notes={"fill_study_arm": arm}, **settings)
    if "space_to_depth" in spec:  # the same profile with another stem (the UNet's widths and levels unchanged)
        stem = {"space_to_depth": spec["space_to_depth"]}
        cfg = dataclasses.replace(cfg, profile={**get_profile(profile).to_dict(), **stem})
    return cfg


def widened_init(root: Path, init: Path, channels: int) -> Path:
    """A copy of the pipeline folder ``init`` whose UNet has a zero-initialised refine head (same outputs)."""
    import shutil

    from eradiff_lite.models.lite import LiteUNet, widen_with_refine_head

    out = Path(root) / f"init-{Path(init).name}-refine{channels}"
    if not (out / "unet" / "config.json").is_file():
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(init, tmp, ignore=shutil.ignore_patterns("unet"))
        wide = widen_with_refine_head(LiteUNet.from_pretrained(Path(init) / "unet", use_safetensors=True), channels)
        wide.save_pretrained(tmp / "unet", safe_serialization=True)
        tmp.rename(out)
    return out


def run(args) -> int:
    from eradiff_lite.paths import data_dir
    from eradiff_lite.train.config import TrainConfig
    from eradiff_lite.train.loop import train

    out = arm_folder(args.root, args.arm)
    saved = out / "train_config.json"
    cfg = TrainConfig.load(saved) if args.resume and saved.is_file() else arm_config(args.arm, args.steps)
    init = None if ARMS[args.arm].get("scratch") else \
        Path(args.init or data_dir() / "checkpoints" / ARMS[args.arm].get("init", "baseline"))
    if ARMS[args.arm].get("refine_channels"):
        init = widened_init(args.root, init, ARMS[args.arm]["refine_channels"])
    result = train(cfg, out, init=init, resume=args.resume, time_budget_s=args.time_budget,
                   progress=not args.no_progress)
    print(f"{args.arm}: {result.status}, {result.steps_done} steps, {result.images_per_s} images/s")
    return 0


# ----------------------------------------------------------------------------------------------- scoring
def load_unet(folder: Path, raw: bool = False):
    """The exported EMA UNet of a run (or the shipped folder), or with ``raw`` its newest checkpoint's training
    weights (same architecture)."""
    from safetensors.torch import load_file

    from eradiff_lite.models.lite import LiteUNet
    from eradiff_lite.train.checkpoint import list_checkpoints

    unet = LiteUNet.from_pretrained(folder / "unet", use_safetensors=True).float().eval()
    if raw:
        ckpt = list_checkpoints(folder / "checkpoints")[-1]
        unet.load_state_dict(load_file(ckpt / "model.safetensors"))
    return unet


def sample(unet, scheduler, items, steps: int, batch: int = 64) -> list[np.ndarray]:
    """Erase every ``(input, mask, truth)`` of ``items`` with the lite pipeline (fixed noise per scene)."""
    from eradiff_lite.pipeline import EraseDiffusionPipeline

    pipe = EraseDiffusionPipeline(unet, scheduler)
    outs = []
    for i in range(0, len(items), batch):
        chunk = items[i:i + batch]
        g = torch.Generator().manual_seed(NOISE_SEED + i)
        outs += pipe([c[0] for c in chunk], [c[1] for c in chunk], num_inference_steps=steps, generator=g).images
    return outs


@torch.no_grad()
def x0_probe(unet, scheduler, bench, t: int) -> list[np.ndarray]:
    """The UNet's x0 estimate when fed the truth (x_ori) noised to ``t``, the hole and the condition as in erasing."""
    from eradiff_lite.models.lite import masked_image, unet_input
    from eradiff_lite.targets import to_sample

    tensors = bench.tensors()
    x0, mask = tensors["x_ori"], tensors["mask"]
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(NOISE_SEED))
    a = scheduler.alphas_cumprod[t].float()
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    out = unet(unet_input(x_t, mask, masked_image(x0, mask)), torch.full((len(x0),), t)).sample
    x0_hat = to_sample(out, x_t, a, scheduler.config.prediction_type).clamp(-1, 1)
    from eradiff_lite.data import to_image

    return [to_image(x) for x in x0_hat]


def measures(outs, items, bench, judged: bool = False) -> dict:
    """Texture (smooth and textured holes apart) and masked PSNR; with ``judged`` also the colour judge's
    elimination and near-bucket re-creation (percent)."""
    from eradiff_lite.metrics.coherence import masked_psnr
    from eradiff_lite.metrics.judge import judge
    from eradiff_lite.metrics.texture import texture_log2, texture_summary

    textured = bench.buckets()["textured"]
    tex = np.array([texture_log2(o, truth, m) for o, (_, m, truth) in zip(outs, items)])
    psnr = np.array([masked_psnr(o, truth, m) for o, (_, m, truth) in zip(outs, items)])
    kinds = np.array([surface(s) for s in bench.scenes])
    row = {"smooth": texture_summary(tex[~textured]), "textured": texture_summary(tex[textured]),
           "by_surface": {k: texture_summary(tex[kinds == k]) for k in sorted(set(kinds))},
           "masked_psnr": float(psnr.mean()), "texture_log2": tex.round(3).tolist()}
    if judged:
        verdicts = [judge(o, s) for o, s in zip(outs, bench.scenes)]
        near = bench.buckets()["near"]
        row["elimination"] = float(100 * np.mean([v["eliminated"] for v in verdicts]))
        row["recreation_near"] = float(100 * np.mean([v["recreated"] for v, n in zip(verdicts, near) if n]))
    return row


def surface(scene) -> str:
    """What the hole sits on: the carrier (pizza, pan) when the family has one, else the background kind."""
    from eradiff_lite.data.drawing import FAMILY_SPECS

    return FAMILY_SPECS[scene.family].carrier or scene.background


def tasks(bench) -> dict:
    return {"erase": [(s.triplet.x_obj, s.triplet.mask, s.triplet.x_ori) for s in bench.scenes]}


def score_model(name: str, unet, scheduler, bench, steps: int = 25, probes: bool = True) -> dict:
    row = {"name": name, "steps": steps}
    for task, items in tasks(bench).items():
        row[task] = measures(sample(unet, scheduler, items, steps), items, bench, judged=task == "erase")
    if probes:
        items = tasks(bench)["erase"]
        row["x0_hat"] = {str(t): measures(x0_probe(unet, scheduler, bench, t), items, bench) for t in T_PROBES}
    return row


def reference_rows(bench) -> list[dict]:
    from eradiff_lite.metrics.fill import REFERENCE_FILLS, shifted_truth

    rows = []
    for name in (*REFERENCE_FILLS, "truth", "truth shifted 3 px"):
        row = {"name": name, "reference": True}
        for task, items in tasks(bench).items():
            if name in REFERENCE_FILLS:
                outs = [REFERENCE_FILLS[name](inp, m) for inp, m, _ in items]
            else:
                outs = [truth if name == "truth" else shifted_truth(truth, m) for _, m, truth in items]
            row[task] = measures(outs, items, bench, judged=task == "erase")
        rows.append(row)
    return rows


def score(args) -> int:
    from eradiff_lite.metrics.benchmark import load_benchmark
    from eradiff_lite.models.lite import build_scheduler
    from eradiff_lite.paths import data_dir, write_text_atomic

    torch.set_grad_enabled(False)
    bench = load_benchmark(scenes=args.scenes, size=64)
    scheduler = build_scheduler(1000)
    path = Path(args.out)
    done = json.loads(path.read_text()) if path.is_file() else {"rows": []}
    have = {r["name"] for r in done["rows"]}
    plan = [("references", None)] if "flat" not in have else []
    shipped = data_dir() / "checkpoints" / "baseline"
    plan += [("shipped baseline (6000 steps)", (shipped, False, 25)),
             ("shipped baseline, 100 steps", (shipped, False, 100))]
    plan += [(f"shipped {v}", (data_dir() / "checkpoints" / v, False, 25)) for v in ("paired", "cro_sra")]
    for arm in ARMS:
        folder = arm_folder(args.root, arm)
        if (folder / "unet" / "config.json").is_file():
            plan += [(f"{arm} (EMA)", (folder, False, 25)), (f"{arm} (raw weights)", (folder, True, 25))]
    for name, spec in tqdm([p for p in plan if p[0] not in have], desc="fill study"):
        if spec is None:
            done["rows"] += reference_rows(bench)
        else:
            folder, raw, steps = spec
            done["rows"].append(score_model(name, load_unet(folder, raw), scheduler, bench, steps,
                                            probes=steps == 25))
        done.update({"benchmark": bench.describe(), "device": _device(), "arms": ARMS,
                     "t_probes": list(T_PROBES)})
        write_text_atomic(path, json.dumps(done, indent=1) + "\n")
    print(table(done))
    return 0


def checkpoint_unet(folder: Path, step: int, ema: bool = True):
    """A run's UNet at ``step`` from its kept checkpoint: the EMA's weights (what an export ships) or the raw ones."""
    from safetensors.torch import load_file

    from eradiff_lite.models.lite import LiteUNet

    path = Path(folder) / "checkpoints" / f"step_{step:06d}" / ("ema.safetensors" if ema else "model.safetensors")
    if not path.is_file():
        raise SystemExit(f"{Path(folder).name} has no checkpoint at step {step} ({path.name} missing)")
    unet = LiteUNet.from_config(json.loads((Path(folder) / "unet_config.json").read_text())).float().eval()
    unet.load_state_dict(load_file(path))
    return unet


def curve(args) -> int:
    """Score runs at equal steps from their kept checkpoints (round 6: the architecture from scratch)."""
    from eradiff_lite.metrics.benchmark import load_benchmark
    from eradiff_lite.models.lite import build_scheduler
    from eradiff_lite.paths import write_text_atomic

    torch.set_grad_enabled(False)
    bench = load_benchmark(scenes=args.scenes, size=64)
    scheduler = build_scheduler(1000)
    path = Path(args.out)
    done = json.loads(path.read_text()) if path.is_file() else {"rows": []}
    have = {r["name"] for r in done["rows"]}
    plan = [(arm, step) for step in args.steps for arm in args.arms if f"{arm} at {step} steps (EMA)" not in have]
    for arm, step in tqdm(plan, desc="fill study curve"):
        unet = checkpoint_unet(arm_folder(args.root, arm), step)
        row = score_model(f"{arm} at {step} steps (EMA)", unet, scheduler, bench, probes=True)
        done["rows"].append({**row, "arm": arm, "train_steps": step})
        done.update({"benchmark": bench.describe(), "device": _device(), "arms": ARMS, "t_probes": list(T_PROBES)})
        write_text_atomic(path, json.dumps(done, indent=1) + "\n")
    print(table(done))
    return 0


def _device() -> str:
    from eradiff_lite.profiles import describe_device

    return describe_device()


def table(done: dict) -> str:
    lines = ["Texture: median log2 ratio / % of holes within +-1.5, smooth and textured holes apart.", "",
             "| row | erase task: smooth | textured | masked PSNR dB | elimination % | near re-creation % | "
             "x0_hat on the noised truth, smooth median at t = " + ", ".join(map(str, T_PROBES)) + " |",
             "|---|---|---|---|---|---|---|"]
    cell = lambda s: f"{s['median']:+.2f} / {s['within']:.0f}"  # noqa: E731
    for r in done["rows"]:
        e = r["erase"]
        probe = r.get("x0_hat")
        probes = ", ".join(f"{probe[str(t)]['smooth']['median']:+.1f}" for t in T_PROBES) if probe else "-"
        lines.append(f"| {r['name']} | {cell(e['smooth'])} | {cell(e['textured'])} | {e['masked_psnr']:.2f} | "
                     f"{e['elimination']:.0f} | {e['recreation_near']:.0f} | {probes} |")
    return "\n".join(lines)


def publish(args) -> int:
    """The study's results without per-scene lists (``--out``), and its table as Markdown beside it."""
    from eradiff_lite.paths import write_text_atomic

    done = json.loads(Path(args.scored).read_text())
    if args.curve:  # round 6's rows at equal steps (the `curve` subcommand's file), after the fine-tune arms
        done["rows"] += json.loads(Path(args.curve).read_text())["rows"]
    for row in done["rows"]:
        for part in [row["erase"], *row.get("x0_hat", {}).values()]:
            part.pop("texture_log2", None)
    out = Path(args.out)
    write_text_atomic(out, json.dumps(done, indent=1) + "\n")
    write_text_atomic(out.with_suffix(".md"), f"# The fill study ({done['device']}, {done['benchmark']['scenes']} "
                      f"held-out scenes, 64 px, 25 DDIM steps, one sampling seed)\n\n{table(done)}\n\n"
                      f"{surface_table(done)}\n")
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


def surface_table(done: dict) -> str:
    """The erase task's texture per surface the hole sits on (median log2 ratio / % within the band)."""
    surfaces = sorted({k for r in done["rows"] for k in r["erase"]["by_surface"]})
    lines = ["Per surface (the pan carries only the held-out egg family: no model saw it in training):", "",
             "| row | " + " | ".join(surfaces) + " |", "|---|" + "---|" * len(surfaces)]
    for r in done["rows"]:
        cells = [r["erase"]["by_surface"].get(k) for k in surfaces]
        lines.append(f"| {r['name']} | " + " | ".join(f"{c['median']:+.2f} / {c['within']:.0f}" if c else "-"
                                                       for c in cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    from eradiff_lite.cliargs import Parser, count, duration

    p = Parser(prog="python experiments/fill_study.py", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train one arm")
    r.add_argument("--arm", required=True, choices=list(ARMS))
    r.add_argument("--root", required=True, type=Path)
    r.add_argument("--steps", type=count(1), default=600)
    r.add_argument("--init", default=None, help="the baseline to continue (default: the shipped one)")
    r.add_argument("--resume", action="store_true")
    r.add_argument("--time-budget", type=duration(), default=None)
    r.add_argument("--no-progress", action="store_true")
    s = sub.add_parser("score", help="score the shipped baseline, the references and every finished arm")
    s.add_argument("--root", required=True, type=Path)
    s.add_argument("--scenes", type=count(2), default=128)
    s.add_argument("--out", default="data/results/fill_study.json")
    c = sub.add_parser("curve", help="score runs at equal steps from their kept checkpoints (EMA weights)")
    c.add_argument("--root", required=True, type=Path)
    c.add_argument("--arms", nargs="+", required=True, choices=list(ARMS))
    c.add_argument("--steps", nargs="+", required=True, type=count(1))
    c.add_argument("--scenes", type=count(2), default=128)
    c.add_argument("--out", required=True)
    w = sub.add_parser("publish", help="write the scored study without per-scene lists, and its Markdown table")
    w.add_argument("--scored", required=True)
    w.add_argument("--out", default="data/results/fill_study.json")
    w.add_argument("--curve", default=None, help="a curve file whose rows are added (round 6)")
    args = p.parse_args(argv)
    try:
        return {"run": run, "score": score, "curve": curve, "publish": publish}[args.cmd](args)
    except KeyboardInterrupt:  # a run saves a checkpoint on Ctrl-C: one line with the command that goes on
        again = " ".join(["python experiments/fill_study.py", *(sys.argv[1:] if argv is None else argv)])
        if args.cmd == "run" and not args.resume:
            from eradiff_lite.train.checkpoint import list_checkpoints

            saved = list_checkpoints(arm_folder(args.root, args.arm) / "checkpoints")
            again += " --resume" if saved else ""
        print(f"interrupted; what finished is saved, continue with: {again}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
