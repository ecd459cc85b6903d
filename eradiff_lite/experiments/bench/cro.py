"""``python -m eradiff_lite bench-cro``: time per training step of the CRO loss vs the epsilon loss.

Both losses run one forward and one backward pass of the same lite UNet on the same batch of procedural
scenes, interleaved in one process; CRO adds only a few elementwise operations (Eq. 6-8), so the
ratio should be close to 1.
"""

from __future__ import annotations

import torch
from diffusers import DDIMScheduler
from tqdm.auto import tqdm

from ...cliargs import Parser, count
from ...cro import cro_loss, epsilon_loss, sample_t_gamma
from ...data import SceneDataset
from ...models import build_lite_unet, masked_image, unet_input
from ...profiles import describe_device, get_profile
from . import seconds


def _step(unet, loss_fn) -> float:
    unet.zero_grad(set_to_none=True)
    return seconds(lambda: loss_fn().backward())


def benchmark_cro(profile_name: str | None = None, steps: int = 10, warmup: int = 2, seed: int = 0) -> dict:
    """Median seconds per step of each loss (forward + backward) and their ratio CRO / epsilon."""
    if steps < 1 or warmup < 0:
        raise ValueError(f"need steps >= 1 and warmup >= 0, got {steps}, {warmup}")
    profile = get_profile(profile_name)
    torch.manual_seed(seed)
    unet = build_lite_unet(profile).train()
    alphas = DDIMScheduler(num_train_timesteps=profile.num_train_timesteps, beta_schedule="scaled_linear",
                           beta_start=0.00085, beta_end=0.012).alphas_cumprod
    data = SceneDataset(profile.batch_size, profile.image_size)
    batch = {k: torch.stack([data[i][k] for i in range(len(data))]) for k in ("x_ori", "x_obj", "mask")}
    masked = masked_image(batch["x_obj"], batch["mask"])
    t, gamma = sample_t_gamma(profile.batch_size, profile.num_train_timesteps, profile.gamma_max)
    noise = torch.randn_like(batch["x_ori"])

    def eps_fn(x_t, t):
        return unet(unet_input(x_t, batch["mask"], masked), t).sample

    losses = {
        "epsilon": lambda: epsilon_loss(eps_fn, batch["x_ori"], t, alphas, noise),
        "cro": lambda: cro_loss(eps_fn, batch["x_ori"], batch["x_obj"], t, gamma, alphas, noise),
    }
    times = {name: [] for name in losses}
    for i in tqdm(range(warmup + steps), desc="bench-cro"):
        for name, fn in losses.items():
            seconds = _step(unet, fn)
            if i >= warmup:
                times[name].append(seconds)
    median = {name: sorted(v)[len(v) // 2] for name, v in times.items()}
    return {"profile": profile.name, "device": describe_device(), "batch": profile.batch_size,
            "image_size": profile.image_size, "epsilon_s": median["epsilon"], "cro_s": median["cro"],
            "ratio": median["cro"] / median["epsilon"]}


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m eradiff_lite bench-cro", description=__doc__)
    parser.add_argument("--profile", default=None, help="smoke | cpu | gpu (default: ERADIFF_PROFILE, else by device)")
    parser.add_argument("--steps", type=count(1), default=10, help="timed steps per loss (default 10)")
    parser.add_argument("--warmup", type=count(0), default=2, help="untimed steps first (default 2)")
    args = parser.parse_args(argv)
    r = benchmark_cro(args.profile, args.steps, args.warmup)
    print(f"profile {r['profile']}, batch {r['batch']} x {r['image_size']}px, {r['device']}")
    print(f"epsilon loss: {1000 * r['epsilon_s']:.1f} ms/step (forward + backward, median)")
    print(f"CRO loss:     {1000 * r['cro_s']:.1f} ms/step")
    print(f"ratio CRO / epsilon: {r['ratio']:.3f}")
    return 0
