"""Self-Rectifying Attention: the rule, the masks per resolution, the processor on real diffusers UNets."""

import pytest
import torch
from diffusers import UNet2DConditionModel, UNet2DModel
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from eradiff_lite.data.io import MaskError
from eradiff_lite.sra import (
    SelfRectifyingAttnProcessor,
    SRAState,
    capture_attention,
    flat_mask,
    layer_grid,
    mask_at,
    self_attention_layers,
    self_rectifying_attention,
    sra_allowed,
)


def tiny_unet2d(size=16):
    torch.manual_seed(0)
    return UNet2DModel(sample_size=size, in_channels=3, out_channels=3, block_out_channels=(32, 64),
                       layers_per_block=1, down_block_types=("AttnDownBlock2D", "AttnDownBlock2D"),
                       up_block_types=("AttnUpBlock2D", "AttnUpBlock2D"), norm_num_groups=8,
                       attention_head_dim=8).eval()


def tiny_cond_unet(size=16):
    torch.manual_seed(0)
    return UNet2DConditionModel(sample_size=size, in_channels=4, out_channels=4, block_out_channels=(32, 64),
                                layers_per_block=1, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
                                attention_head_dim=8, norm_num_groups=8).eval()


def box_mask(batch=1, size=16, box=(4, 10, 6, 12)):
    mask = torch.zeros(batch, 1, size, size)
    y0, y1, x0, x1 = box
    mask[:, :, y0:y1, x0:x1] = 1
    return mask


# --------------------------------------------------------------------------- the rule and the masks
def test_rules_on_hand_made_m():
    m = torch.tensor([[True, False, True, False]])
    eq10, keys = sra_allowed(m, "eq10")[0], sra_allowed(m, "keys")[0]
    hole = torch.tensor([0, 2])
    for i in range(4):
        for j in range(4):
            assert eq10[i, j] == (not (m[0, i] and m[0, j])), (i, j)  # Eq. 10: blocked iff both in the hole
            assert keys[i, j] == (not m[0, j])                       # Attentive Eraser: hole keys blocked
    assert eq10[1].all() and eq10[3].all()          # background queries read everything under eq10
    assert not eq10[hole][:, hole].any()
    assert sra_allowed(m).dtype == torch.bool and sra_allowed(m).shape == (1, 4, 4)
    with pytest.raises(ValueError, match="unknown SRA rule"):
        sra_allowed(m, "queries")


def test_max_pool_keeps_a_one_pixel_line_and_handles_non_divisible_sizes():
    mask = torch.zeros(1, 1, 32, 32)
    mask[..., 13, :] = 1  # a horizontal line one pixel thick
    for hw in [(16, 16), (8, 8), (4, 4), (5, 7), (3, 3)]:
        pooled = mask_at(mask, hw)
        assert pooled.shape == (1, 1, *hw)
        assert pooled.sum() >= hw[1], hw  # every column still sees the line
    assert flat_mask(mask, (4, 4)).shape == (1, 16)
    thin = torch.zeros(1, 1, 30, 30)
    thin[..., 29] = 1  # last column, 30 is not divisible by 4
    assert mask_at(thin, (4, 4))[..., -1].all()
    # nearest-neighbour sampling would lose it: that is why max-pooling is used
    assert torch.nn.functional.interpolate(mask, size=(4, 4), mode="nearest").sum() == 0


def test_layer_grid_walks_down_the_levels():
    assert layer_grid(256, (16, 16)) == (16, 16)
    assert layer_grid(64, (16, 16)) == (8, 8)
    assert layer_grid(15, (12, 20)) == (3, 5)
    assert layer_grid(6, (7, 11)) == (2, 3)  # ceil halving of odd sizes
    with pytest.raises(ValueError, match="tokens"):
        layer_grid(50, (16, 16))


# --------------------------------------------------------------------------- the processor on one layer
def test_empty_mask_is_bit_for_bit_plain_attention():
    unet = tiny_unet2d()
    name, attn = next(iter(self_attention_layers(unet).items()))
    x = torch.randn(2, 32, 8, 8)
    with torch.no_grad():
        plain = AttnProcessor2_0()(attn, x)
        state = SRAState(torch.zeros(2, 1, 16, 16))
        rectified = SelfRectifyingAttnProcessor(state, fallback=AttnProcessor2_0())(attn, x)
    assert torch.equal(plain, rectified)
    sample = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        ref = unet(sample, 500).sample
        with self_rectifying_attention(unet, torch.zeros(2, 1, 16, 16)):
            out = unet(sample, 500).sample
    assert torch.equal(ref, out)


def test_hole_queries_ignore_hole_keys_and_background_is_unchanged():
    unet = tiny_unet2d()
    mask = box_mask()
    sample = torch.randn(1, 3, 16, 16)
    hole_point, background_point = (6, 8), (14, 1)
    with torch.no_grad(), capture_attention(unet, points=[hole_point, background_point]) as plain:
        unet(sample, 300)
    with torch.no_grad(), self_rectifying_attention(unet, mask), capture_attention(
            unet, points=[hole_point, background_point]) as sra:
        unet(sample, 300)
    first = "down_blocks.0.attentions.0"  # 16 x 16: the first layer sees the same input with and without SRA
    rec, ref = sra.last()[first], plain.last()[first]
    m = flat_mask(mask, rec.hw)[0]
    assert m[rec.query_index[0]] and not m[rec.query_index[1]]
    hole_row, bg_row = rec.weights[0, :, 0], rec.weights[0, :, 1]
    assert torch.all(hole_row[:, m] == 0) and torch.allclose(hole_row.sum(-1), torch.ones(hole_row.shape[0]))
    assert ref.weights[0, :, 0][:, m].min() > 0  # plain attention does read the hole
    assert torch.equal(bg_row, ref.weights[0, :, 1])
    # the layer's output changes only at hole tokens
    diff = (rec.output - ref.output).abs().amax(-1)[0]
    assert diff[~m].max() < 1e-5 and diff[m].max() > 1e-4
    assert rec.heatmap().shape == (1, 16, 16)


def test_keys_rule_changes_background_queries_too():
    unet = tiny_unet2d()
    sample = torch.randn(1, 3, 16, 16)
    with torch.no_grad(), capture_attention(unet, layers="down_blocks.0") as plain:
        unet(sample, 300)
    with torch.no_grad(), self_rectifying_attention(unet, box_mask(), rule="keys"), \
            capture_attention(unet, layers=["down_blocks.0"], points=[(14, 1)]) as keys:
        unet(sample, 300)
    rec, ref = keys.last()["down_blocks.0.attentions.0"], plain.last()["down_blocks.0.attentions.0"]
    m = flat_mask(box_mask(), rec.hw)[0]
    assert torch.all(rec.weights[0, :, 0][:, m] == 0)
    assert (rec.output - ref.output).abs().amax(-1)[0][~m].max() > 1e-4


# --------------------------------------------------------------------------- installing and restoring
def test_processors_are_restored_even_after_an_exception():
    unet = tiny_unet2d()
    before = {n: m.processor for n, m in self_attention_layers(unet).items()}
    with pytest.raises(RuntimeError, match="boom"):
        with self_rectifying_attention(unet, box_mask()):
            assert all(isinstance(m.processor, SelfRectifyingAttnProcessor)
                       for m in self_attention_layers(unet).values())
            raise RuntimeError("boom")
    assert all(m.processor is before[n] for n, m in self_attention_layers(unet).items())
    assert not unet._forward_pre_hooks


def test_layer_subset_and_timestep_range():
    unet = tiny_unet2d()
    sample = torch.randn(1, 3, 16, 16)
    with pytest.raises(ValueError, match="no self-attention layer named"):
        with self_rectifying_attention(unet, box_mask(), layers=["up_blocks.9"]):
            pass
    with self_rectifying_attention(unet, box_mask(), layers=["mid_block"]):
        kinds = {n: type(m.processor).__name__ for n, m in self_attention_layers(unet).items()}
        assert kinds.pop("mid_block.attentions.0") == "SelfRectifyingAttnProcessor"
        assert set(kinds.values()) == {"AttnProcessor2_0"}
    with torch.no_grad():
        ref_300, ref_700 = unet(sample, 300).sample, unet(sample, 700).sample
        with self_rectifying_attention(unet, box_mask(), timesteps=(500, 999)):
            assert torch.equal(unet(sample, 300).sample, ref_300)  # outside the range: plain attention
            assert not torch.allclose(unet(sample, 700).sample, ref_700)
            # per batch item: only the item whose timestep is in range is rectified
            both = unet(torch.cat([sample] * 2), torch.tensor([300, 700])).sample
    assert torch.allclose(both[0], ref_300[0], atol=1e-5) and not torch.allclose(both[1], ref_700[0], atol=1e-3)


def test_hole_covering_a_coarse_grid_falls_back_with_a_warning():
    unet = tiny_unet2d()
    mask = torch.ones(1, 1, 16, 16)
    mask[..., 0, 0] = 0  # not full at 16 x 16, but every 8 x 8 cell holds an erased pixel
    with torch.no_grad(), self_rectifying_attention(unet, mask), pytest.warns(UserWarning, match="8 x 8"):
        out = unet(torch.randn(1, 3, 16, 16), 10).sample
    assert torch.isfinite(out).all()


def test_bad_masks_are_refused_clearly():
    unet = tiny_unet2d()
    with pytest.raises(MaskError, match="whole image"):
        with self_rectifying_attention(unet, torch.ones(1, 1, 16, 16)):
            pass
    with pytest.raises(MaskError, match=r"\[B, 1, H, W\]"):
        with self_rectifying_attention(unet, torch.zeros(16, 16)):
            pass
    with pytest.raises(ValueError, match="unknown SRA rule"):
        with self_rectifying_attention(unet, box_mask(), rule="both"):
            pass
    with torch.no_grad():
        with pytest.raises(ValueError, match="not a multiple of the mask batch"), \
                self_rectifying_attention(unet, box_mask(batch=2)):
            unet(torch.randn(3, 3, 16, 16), 10)
        with pytest.raises(ValueError, match="UNet input is 16 x 16"), \
                self_rectifying_attention(unet, box_mask(size=24)):
            unet(torch.randn(1, 3, 16, 16), 10)


# --------------------------------------------------------------------------- the conditional (SD-like) UNet
def test_cond_unet_rectifies_attn1_only_and_repeats_the_mask_for_guidance():
    unet = tiny_cond_unet()
    layers = self_attention_layers(unet)
    assert layers and all(n.endswith("attn1") for n in layers)
    cross = {n: m.processor for n, m in unet.named_modules() if isinstance(m, Attention) and m.is_cross_attention}
    sample, text = torch.randn(1, 4, 16, 16), torch.randn(1, 5, 32)
    mask = box_mask()
    with torch.no_grad():
        ref = unet(sample, 400, encoder_hidden_states=text).sample
        with self_rectifying_attention(unet, mask):
            assert all(isinstance(m.processor, SelfRectifyingAttnProcessor) for m in layers.values())
            assert all(m.processor is cross[n] for n, m in unet.named_modules() if n in cross)
            out = unet(sample, 400, encoder_hidden_states=text).sample
            # classifier-free guidance: the batch is twice the mask batch, each half is rectified alike
            doubled = unet(torch.cat([sample] * 2), 400, encoder_hidden_states=torch.cat([text] * 2)).sample
        with self_rectifying_attention(unet, torch.nn.functional.interpolate(mask, scale_factor=8)):
            from_pixels = unet(sample, 400, encoder_hidden_states=text).sample  # a pixel-size mask for latents
    assert not torch.allclose(out, ref)
    assert torch.allclose(doubled[:1], out, atol=1e-5) and torch.allclose(doubled[1:], out, atol=1e-5)
    assert torch.allclose(from_pixels, out, atol=1e-6)
    assert all(m.processor is not None and not isinstance(m.processor, SelfRectifyingAttnProcessor)
               for m in layers.values())


def test_capture_shapes_on_token_layers():
    unet = tiny_cond_unet(size=(16, 24))
    sample, text = torch.randn(2, 4, 16, 24), torch.randn(2, 5, 32)
    with torch.no_grad(), capture_attention(unet, points=[(3, 3)]) as capture:
        unet(sample, 10, encoder_hidden_states=text)
        unet(sample, 20, encoder_hidden_states=text)
    for calls in capture.records.values():
        assert len(calls) == 2
        rec = calls[-1]
        assert rec.hw in [(16, 24), (8, 12)]
        assert rec.heatmap().shape == (2, *rec.hw)
        assert rec.weights.shape == (2, 8, 1, rec.hw[0] * rec.hw[1])  # [B, heads, points, N]
        assert torch.allclose(rec.weights.sum(-1), torch.ones(2, 8, 1), atol=1e-5)
    assert not any(m._forward_hooks for m in self_attention_layers(unet).values())


def test_benchmark_memory_probe_sees_an_allocation():
    from eradiff_lite.experiments.bench.sra import compare, peak_bytes

    cpu = torch.device("cpu")
    assert peak_bytes(lambda: torch.ones(1024, 1024), cpu) >= 4 * 2**20  # one float32 MiB-square tensor
    result = compare("toy", lambda: torch.ones(256, 256), lambda: torch.ones(512, 512), cpu, repeats=1, warmup=0)
    assert result["memory_ratio"] == pytest.approx(4, rel=0.05) and result["time_ratio"] > 0


# --------------------------------------------------------------------------- SRA without an N x N mask
def naive_sra(query, key, value, hole, rule):
    """The definition, written out: softmax(q k^T / sqrt(d) + B) v with B = -inf on the blocked pairs."""
    scores = query @ key.transpose(-1, -2) / query.shape[-1] ** 0.5
    blocked = ~sra_allowed(hole, rule)[:, None]
    return scores.masked_fill(blocked, float("-inf")).softmax(-1) @ value


def random_holes(batch, n, generator):
    holes = torch.rand(batch, n, generator=generator) < torch.rand(batch, 1, generator=generator) * 0.6
    holes[0] = False
    holes[0, :3] = True  # a tiny hole
    return holes


@pytest.mark.parametrize("rule", ["eq10", "keys"])
def test_gathered_sra_equals_the_masked_definition(rule):
    from eradiff_lite.sra.processor import gathered_attention

    g = torch.Generator().manual_seed(0)
    for n, batch in ((64, 3), (256, 4)):
        q, k, v = (torch.randn(batch, 2, n, 16, generator=g) for _ in range(3))
        holes = random_holes(batch, n, g)
        holes[-1] = holes[-2]  # two items share a mask (as classifier-free guidance repeats the batch)
        ref = naive_sra(q, k, v, holes, rule)
        got = gathered_attention(q, k, v, holes, rule)
        assert (got - ref).abs().max() <= 1e-5
        cfg = torch.cat([holes, holes])  # [uncond; cond]
        got_cfg = gathered_attention(torch.cat([q, q]), torch.cat([k, k]), torch.cat([v, v]), cfg, rule)
        assert (got_cfg - torch.cat([ref, ref])).abs().max() <= 1e-5
    assert torch.equal(gathered_attention(q, k, v, torch.zeros(batch, n, dtype=torch.bool)),
                       torch.nn.functional.scaled_dot_product_attention(q, k, v))


@pytest.mark.parametrize("rule", ["eq10", "keys"])
def test_the_processor_passes_no_attention_mask_and_matches_the_dense_path(rule, monkeypatch):
    import eradiff_lite.sra.processor as proc

    unet = tiny_unet2d()
    _, attn = next(iter(self_attention_layers(unet).items()))
    x = torch.randn(4, 32, 8, 8)
    mask = torch.cat([box_mask(2), box_mask(2, box=(0, 9, 0, 5))])
    state = SRAState(mask, rule=rule)
    state.begin(torch.empty(4, 3, 16, 16), 500)
    seen = []
    real = proc.F.scaled_dot_product_attention

    def recording(*args, **kwargs):
        seen.append(kwargs.get("attn_mask"))
        return real(*args, **kwargs)

    monkeypatch.setattr(proc.F, "scaled_dot_product_attention", recording)
    with torch.no_grad():
        gathered = SelfRectifyingAttnProcessor(state, fallback=AttnProcessor2_0())(attn, x)
        assert seen and all(m is None for m in seen), "the gathered path must leave the fused kernels usable"
        # a caller's zero additive mask takes the dense path: the same numbers
        dense = SelfRectifyingAttnProcessor(state, fallback=AttnProcessor2_0())(
            attn, x, attention_mask=torch.zeros(4, 1, 64))
    assert (gathered - dense).abs().max() <= 1e-5
    assert not torch.allclose(gathered, AttnProcessor2_0()(attn, x), atol=1e-4)


def test_sra_study_pairs_on_and_off_and_a_setting_where_sra_never_acts_changes_nothing(tmp_path):
    from eradiff_lite.experiments.sra_study import attention_grids, level_layers, markdown_table, sra_effect
    from eradiff_lite.metrics.scoring import load_metric_kit
    from eradiff_lite.models.lite import build_lite_unet, build_scheduler
    from eradiff_lite.pipeline import EraseDiffusionPipeline
    from eradiff_lite.profiles import get_profile

    torch.manual_seed(0)
    pipe = EraseDiffusionPipeline(unet=build_lite_unet(get_profile("smoke")), scheduler=build_scheduler())
    pipe.set_progress_bar_config(disable=True)
    grids = attention_grids(pipe.unet)
    assert grids and all(n > 0 for n in grids.values())
    finest, coarsest = level_layers(pipe.unet, "finest"), level_layers(pipe.unet, "coarsest")
    assert max(grids.values()) == grids[finest[0]] and min(grids.values()) == grids[coarsest[0]]
    kit = load_metric_kit()
    never = sra_effect(pipe, kit, 4, 0, 2, {"sra_timesteps": (2000, 3000)}, 32)
    assert never["paired"]["masked_psnr"]["mean"] == 0 and never["paired"]["masked_psnr"]["high"] == 0
    assert never["means"]["on"] == never["means"]["off"]
    bigger = sra_effect(pipe, kit, 4, 0, 2, {"dilate": 5, "level": "finest"}, 32)
    assert bigger["dilate"] == 5 and bigger["sra_layers"] == finest and bigger["paired"]["elimination"]["n"] == 4
    table = markdown_table({"model": "m", "scenes": 4, "seed": 0, "steps": 2, "device": "cpu",
                            "settings": {"never": never, "bigger": bigger}})
    assert table.count("\n| ") == 3 and "| never | +0.0 [+0.0, +0.0]" in table
    from eradiff_lite.experiments.sra_study import conclusion, verdicts

    assert verdicts({"settings": {"never": never}}) == {"never": "no difference shown"}

    def fake(low, high, p):  # the one rule: the interval excludes 0 AND McNemar's p < 0.05
        return {"paired": {"elimination": {"mean": (low + high) / 2, "low": low, "high": high},
                           "recreation": {"mean": 0, "low": -1, "high": 1}, "mcnemar": {"p_value": p},
                           "masked_psnr": {"mean": 0.5, "low": 0.1, "high": 0.9}}}

    study = {"model": "m", "scenes": 4, "settings": {"never": never, "gain": fake(2, 15, 0.01),
                                                     "unconfirmed": fake(2, 15, 0.12), "loss": fake(-9, -1, 0.03)}}
    assert verdicts(study) == {"never": "no difference shown", "gain": "more erased with SRA",
                               "unconfirmed": "no difference shown", "loss": "fewer erased with SRA"}
    words = conclusion(study)
    assert "- elimination, more erased with SRA: gain" in words and "fewer erased with SRA: loss" in words
    assert "McNemar's p >= 0.05, so not shown: unconfirmed (+8.5 points, McNemar p = 0.12)" in words
    assert "masked PSNR (fidelity to the true background) shown higher with SRA: gain (+0.50 dB)" in words
    assert "helps" not in words and "measurable" not in words
    assert "re-creation" not in words  # every re-creation interval above straddles 0
    study["settings"]["gain"]["paired"]["recreation"] = {"mean": -3.1, "low": -6.2, "high": -0.8}
    said = conclusion(study)
    assert "- re-creation (a new object painted into the hole) shown lower with SRA: gain (-3.1 points)" in said


@pytest.mark.parametrize("model", ["unet2d", "cond"])
def test_the_exercise_solution_installed_by_hand_equals_the_package_on_whole_unets(model):
    """notebook 04 installs the learner's class layer by layer (07 with set_attn_processor): same result."""
    from eradiff_lite.exercises import answer_from_source
    from eradiff_lite.exercises.sra_build import SOLUTION
    from eradiff_lite.sra.context import unet_sample_and_timestep

    cls = answer_from_source(SOLUTION)
    unet, mask = (tiny_unet2d(), box_mask()) if model == "unet2d" else (tiny_cond_unet(), box_mask(size=16))
    sample = torch.randn(2, unet.config.in_channels, 16, 16)
    kwargs = {} if model == "unet2d" else {"encoder_hidden_states": torch.randn(2, 5, 32)}  # batch 2 = guidance
    with torch.no_grad(), self_rectifying_attention(unet, mask):
        want = unet(sample, 300, **kwargs).sample
    state = SRAState(mask)
    hook = unet.register_forward_pre_hook(lambda m, a, kw: state.begin(*unet_sample_and_timestep(a, kw)),
                                          with_kwargs=True)
    layers = self_attention_layers(unet)
    if model == "cond":
        own = unet.attn_processors
        unet.set_attn_processor({k: cls(state, p) if k.removesuffix(".processor") in layers else p
                                 for k, p in own.items()})
    else:
        own = {n: m.processor for n, m in layers.items()}
        for n, m in layers.items():
            m.set_processor(cls(state, own[n]))
    with torch.no_grad():
        got = unet(sample, 300, **kwargs).sample
    hook.remove()
    assert torch.allclose(got, want, atol=1e-5)


def test_short_layer_names_are_the_figures_labels():
    from eradiff_lite.sra import short_layer_name

    assert short_layer_name("unet.down_blocks.1.attentions.0") == "down 1.0"
    assert short_layer_name("mid_block.attentions.0") == "mid.0"
    assert short_layer_name("up_blocks.0.attentions.1") == "up 0.1"
