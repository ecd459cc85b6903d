"""``python -m eradiff_lite bench-sra``: forward time and peak memory of SRA vs plain attention.

Two cases, each measured plain and with SRA in the same process, interleaved, with the same weights
and inputs:

- ``lite``: the lite inpainting UNet of the ``gpu`` profile at 64 x 64 (self-attention at 32 x 32 and
  16 x 16 tokens), with `self_rectifying_attention` around the call;
- ``sd-layer``: one Stable-Diffusion-sized self-attention layer, 64 x 64 latent tokens at 320 channels with
  SD2's head layout (5 heads of 64), diffusers' ``AttnProcessor2_0`` vs `SelfRectifyingAttnProcessor`.

SRA forms no N x N mask (`sra.processor`): plain attention for the background queries and attention over the
gathered background keys for the hole queries, so its cost is the gather and a second, smaller attention
call. Targets (issue "SRA ... that costs nothing at Stable Diffusion scale"): time <= 1.15x and peak memory
<= 1.10x plain attention on the SD-sized layer. Peak memory: ``torch.cuda.max_memory_allocated`` on CUDA; on CPU
the profiler's record of every tensor allocation (exact for torch tensors, blind to other allocations).
"""

from __future__ import annotations

import argparse

import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from tqdm.auto import tqdm

from ...cliargs import Parser, count
from ...data import make_scene, mask_to_tensor
from ...models import build_lite_unet, masked_image, unet_input
from ...profiles import describe_device, get_profile
from ...sra.context import self_rectifying_attention
from ...sra.processor import SelfRectifyingAttnProcessor, SRAState
from . import seconds


def peak_bytes(fn, device: torch.device) -> int:
    """Peak memory of tensors allocated while ``fn()`` runs, above what was allocated before."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                    if e.name() == "[memory]" and e.device_type() == torch.autograd.DeviceType.CPU)
    live = peak = 0
    for _, nbytes in events:  # running sum of allocations (+) and frees (-)
        live += nbytes
        peak = max(peak, live)
    return peak


def compare(name: str, plain, sra, device: torch.device, repeats: int, warmup: int) -> dict:
    """Median time and peak memory of ``plain()`` and ``sra()``, interleaved."""
    times = {"plain": [], "sra": []}
    with torch.no_grad():
        for i in tqdm(range(warmup + repeats), desc=f"bench-sra {name}", leave=False):
            for key, fn in (("plain", plain), ("sra", sra)):
                took = seconds(fn)
                if i >= warmup:
                    times[key].append(took)
        memory = {key: peak_bytes(fn, device) for key, fn in (("plain", plain), ("sra", sra))}
    median = {key: sorted(v)[len(v) // 2] for key, v in times.items()}
    return {"case": name, "plain_s": median["plain"], "sra_s": median["sra"],
            "time_ratio": median["sra"] / median["plain"], "plain_bytes": memory["plain"], "sra_bytes": memory["sra"],
            "memory_ratio": memory["sra"] / max(memory["plain"], 1)}


def scene_masks(batch: int, size: int) -> torch.Tensor:
    """Erase masks [batch, 1, size, size] of procedural scenes (real object shapes, not boxes)."""
    return torch.stack([mask_to_tensor(make_scene(seed, size).triplet.mask) for seed in range(batch)])


def bench_lite(batch: int, device: torch.device, repeats: int, warmup: int) -> dict:
    profile = get_profile("gpu", image_size=64)
    torch.manual_seed(0)
    unet = build_lite_unet(profile).to(device).eval()
    mask = scene_masks(batch, 64).to(device)
    image = torch.randn(batch, 3, 64, 64, device=device)
    x = unet_input(torch.randn_like(image), mask, masked_image(image, mask))
    t = torch.full((batch,), 500, device=device)

    def plain():
        unet(x, t)

    def sra():
        with self_rectifying_attention(unet, mask):
            unet(x, t)

    return compare(f"lite UNet 64x64 (gpu profile), batch {batch}", plain, sra, device, repeats, warmup)


def bench_sd_layer(batch: int, device: torch.device, repeats: int, warmup: int) -> dict:
    torch.manual_seed(0)
    attn = Attention(query_dim=320, heads=5, dim_head=64, processor=AttnProcessor2_0()).to(device).eval()
    tokens = torch.randn(batch, 64 * 64, 320, device=device)
    state = SRAState(scene_masks(batch, 64).to(device))
    state.begin(torch.empty(batch, 4, 64, 64, device=device), 500)  # what the UNet's forward hook would do
    rectified = SelfRectifyingAttnProcessor(state, fallback=attn.processor)
    return compare(f"SD-sized self-attention, 4096 tokens x 320 ch, 5 heads, batch {batch}",
                   lambda: attn.processor(attn, tokens), lambda: rectified(attn, tokens), device, repeats, warmup)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m eradiff_lite bench-sra", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")
    parser.add_argument("--batch", type=count(1), default=2, help="images per forward (default 2)")
    parser.add_argument("--repeats", type=count(1), default=3, help="timed calls of each variant (default 3)")
    parser.add_argument("--warmup", type=count(0), default=1, help="untimed calls first (default 1)")
    args = parser.parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    where = describe_device() if device.type == "cuda" or not torch.cuda.is_available() else "cpu"
    print(f"device: {where}; median of {args.repeats} calls after {args.warmup} warm-up")
    for result in (bench_lite(args.batch, device, args.repeats, args.warmup),
                   bench_sd_layer(args.batch, device, args.repeats, args.warmup)):
        print(f"{result['case']}:")
        print(f"  plain {1000 * result['plain_s']:.1f} ms, SRA {1000 * result['sra_s']:.1f} ms, "
              f"time ratio SRA / plain {result['time_ratio']:.2f}")
        print(f"  peak memory plain {result['plain_bytes'] / 2**20:.1f} MiB, "
              f"SRA {result['sra_bytes'] / 2**20:.1f} MiB, memory ratio SRA / plain {result['memory_ratio']:.2f}")
    return 0
