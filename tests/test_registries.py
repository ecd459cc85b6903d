"""Losses and metrics are registries: a loss and a metric added from this test module (one file each, as a learner
would) are trained with by the lite loop, the plain step and the Stable Diffusion LoRA, and scored into the table,
the results file and the paired statistics; the course's own results load and render as before."""

import json
import math

import numpy as np
import pytest
import torch

from eradiff_lite.cro import cro_loss
from eradiff_lite.losses import LOSSES, Denoiser, Loss, get_loss, loss_for, register_loss, unregister_loss
from eradiff_lite.metrics.registry import METRICS, PER_SCENE, Metric, PerScene, register_metric, unregister_metric
from eradiff_lite.models.lite import build_lite_unet, build_scheduler
from eradiff_lite.profiles import get_profile
from eradiff_lite.train import make_config, train
from eradiff_lite.train.data import TrainingScenes
from eradiff_lite.train.step import draw_step, step_loss, training_step
from eradiff_lite.variants import VARIANTS, Variant, register_variant, unregister_variant

SMOKE = get_profile("smoke")


class TwiceCro(Loss):
    """L = 2 L_CRO (Eq. 6-9): a loss whose every value the test can predict and count."""

    name = "test_twice_cro"
    target = "background"
    weighting = "2 c^2"

    def __init__(self):
        self.seen = []

    def __call__(self, model, batch, t, gamma, alphas_cumprod, noise):
        value = 2 * cro_loss(lambda x, s: model.eps(x, s, alphas_cumprod), batch["x_ori"], batch["x_obj"], t, gamma,
                             alphas_cumprod, noise)
        self.seen.append(float(value.detach()))
        return value


def _hole_mean(inputs):
    """Mean brightness inside each scene's hole (0..1)."""
    return np.array([float(im[m].mean()) for im, m in zip(inputs.images, inputs.bench.masks)])


HOLE = Metric("test_hole_mean", "mean brightness inside the hole (0..1)", "none",
              PerScene("test_hole_mean", _hole_mean, "mean brightness in the hole", keep=True), paired=True,
              column=("hole mean", 3))


@pytest.fixture
def twice():
    loss = register_loss(TwiceCro())
    register_variant(Variant("test_twice", "test_twice_cro", "background", True, sra_in_training=True))
    yield loss
    unregister_loss("test_twice_cro")
    unregister_variant("test_twice")


@pytest.fixture
def hole_metric():
    register_metric(HOLE)
    yield HOLE
    unregister_metric(HOLE.name)


def _batch(step=0):
    return TrainingScenes(8, SMOKE.image_size, progress=False).batch(step, 4, seed=0, random_masks=False)


# ------------------------------------------------------------------------------------------------------- losses
def test_the_variants_take_their_losses_from_the_registry():
    assert {"denoise", "cro"} <= set(LOSSES)
    assert loss_for(VARIANTS["baseline"]).target == "image" and loss_for(VARIANTS["paired"]).target == "background"
    assert loss_for(VARIANTS["cro_const"]).constant_lambda == 0.5 and get_loss("cro").constant_lambda is None
    assert loss_for(VARIANTS["paired"], snr_gamma=5.0, sra_rule="keys").snr_gamma == 5.0  # others ignored
    assert loss_for(VARIANTS["cro"], snr_gamma=5.0).describe()["name"] == "cro"
    assert "Eq. 6-9" in type(get_loss("cro")).__doc__ and "x_t = sqrt(a_t) x0" in type(get_loss("denoise")).__doc__


def test_a_registered_loss_trains_in_the_loop_the_step_and_the_sd_lora(twice, tmp_path):
    base = tmp_path / "baseline"
    train(make_config("baseline", SMOKE, steps=1), base, progress=False)
    logged = []
    result = train(make_config("test_twice", SMOKE, steps=2), tmp_path / "twice", init=base, progress=False,
                   callback=lambda step, value, unet: logged.append(value))
    assert result.status == "finished" and len(twice.seen) == 2 and logged == pytest.approx(twice.seen, rel=1e-6)
    card = json.loads((tmp_path / "twice" / "card.json").read_text())
    assert card["variant"] == "test_twice" and card["loss"] == "test_twice_cro"

    unet, batch = build_lite_unet(SMOKE), _batch(1)
    ac = build_scheduler(SMOKE.num_train_timesteps).alphas_cumprod.float()
    draws = draw_step(batch, ac.numel(), SMOKE.gamma_max, torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = 2 * step_loss(unet, batch, ac, *draws, "cro")
    got = training_step(unet, torch.optim.SGD(unet.parameters(), lr=0.0), batch, ac, *draws, loss="test_twice")
    assert float(got) == pytest.approx(float(want), rel=1e-6) and twice.seen[-1] == pytest.approx(float(got))

    from eradiff_lite.sd import encode_triplet, latent_loss, photo_triplets, train_cro_lora
    from eradiff_lite.sd.cro_lora import cro_latent_loss
    from eradiff_lite.sd.model import build_tiny_sd_inpaint

    pairs = photo_triplets(32, 2, seed=0)
    pipe = build_tiny_sd_inpaint(seed=0, image_size=32)
    sd_batch = {k: torch.stack([pairs[i][k] for i in range(2)]) for k in ("x_obj", "x_ori", "mask")}
    latents = encode_triplet(pipe, sd_batch, torch.Generator().manual_seed(0))
    t, gamma = torch.tensor([500, 20]), torch.tensor([30, 50])
    noise = torch.randn(latents.z_ori.shape, generator=torch.Generator().manual_seed(1))
    acp = pipe.scheduler.alphas_cumprod
    with torch.no_grad():
        mine = latent_loss(pipe.unet, latents, t, gamma, acp, noise, "test_twice_cro")
        assert float(mine) == pytest.approx(2 * float(cro_latent_loss(pipe.unet, latents, t, gamma, acp, noise)))
    before = len(twice.seen)
    stats = train_cro_lora(pipe, pairs, 2, batch_size=2, loss="test_twice_cro", gradient_checkpointing=False)
    assert len(twice.seen) == before + 2 and stats.losses == pytest.approx(twice.seen[-2:], rel=1e-6)


def test_the_registry_refuses_what_it_cannot_train():
    class Nameless(Loss):
        pass

    with pytest.raises(TypeError, match="with a name"):
        register_loss(Nameless())
    with pytest.raises(ValueError, match="registered already"):
        register_loss(type("Cro2", (Loss,), {"name": "cro"})())
    with pytest.raises(ValueError, match="target must be"):
        register_loss(type("Odd", (Loss,), {"name": "odd", "target": "object"})())
    with pytest.raises(ValueError, match="needs"):
        register_loss(type("Needy", (Loss,), {"name": "needy", "needs": ("depth",)})())
    with pytest.raises(ValueError, match="trains toward 'image'"):
        loss_for(Variant("odd", "cro", "image", True))
    with pytest.raises(ValueError, match="takes no option"):
        get_loss("denoise").configured(constant_lambda=0.5)
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("no_such_loss")
    with pytest.raises(ValueError, match="one of the ablation's variants"):
        register_variant(Variant("cro", "cro", "background", True), replace=True)
    register_variant(Variant("test_once", "cro", "background", True))
    with pytest.raises(ValueError, match="exists already"):
        register_variant(Variant("test_once", "cro", "background", True))
    unregister_variant("test_once")
    with pytest.raises(ValueError, match="ablation's variants"):
        unregister_variant("paired")
    with pytest.raises(NotImplementedError, match="must define __call__"):
        Loss()(Denoiser(lambda x, t: x), {}, None, None, None, None)
    assert "odd" not in LOSSES and "needy" not in LOSSES and "test_once" not in VARIANTS


# ------------------------------------------------------------------------------------------------------ metrics
def test_a_registered_metric_is_scored_into_the_table_the_file_and_the_paired_statistics(hole_metric, tmp_path):
    from eradiff_lite.data import to_image
    from eradiff_lite.experiments import evaluate as ev
    from eradiff_lite.metrics import format_table, load_benchmark, load_metric_kit, score_outputs
    from eradiff_lite.metrics.results import bucket_means, paired_stats, read_results, write_results

    bench, kit = load_benchmark(scenes=6, size=32), load_metric_kit()
    t = bench.tensors()
    truth, untouched = score_outputs(bench, t["x_ori"], kit, t), score_outputs(bench, t["x_obj"], kit, t)
    want = np.array([to_image(x)[m].mean() for x, m in zip(t["x_ori"], bench.masks)])
    assert truth["test_hole_mean"] == pytest.approx(want.mean(), abs=1e-6)
    np.testing.assert_allclose(truth["per_scene"]["test_hole_mean"], want, atol=1e-6)
    rows = [ev.table_row(name, [s], None, [0], None) for name, s in (("truth", truth), ("untouched", untouched))]
    assert rows[0]["per_scene"]["test_hole_mean"] and "test_hole_mean_per_seed" in rows[0]
    results = {"profile": "smoke", "device": "cpu", "benchmark": bench.describe(),
               "feature_extractors": kit.names(), "rows": rows}
    table = format_table(results)
    assert "| hole mean |" in table.splitlines()[0] and f"{rows[0]['test_hole_mean']:.3f} ± 0.000" in table
    stats = paired_stats(results, "truth", "untouched", resamples=200)
    assert list(stats)[3:] == ["masked_psnr", "elimination", "recreation", "test_hole_mean", "mcnemar"]
    assert stats["test_hole_mean"]["mean"] == pytest.approx(rows[0]["test_hole_mean"] - rows[1]["test_hole_mean"],
                                                            abs=1e-3)
    assert bucket_means(results, None, keys=("test_hole_mean",))["truth"]["test_hole_mean"] == pytest.approx(
        rows[0]["test_hole_mean"], abs=1e-3)
    saved = read_results(write_results(results, tmp_path))
    assert saved["units"]["test_hole_mean"] == HOLE.unit and "test_hole_mean" in (tmp_path / "ablation.csv").read_text()


def test_the_metric_registry_refuses_what_it_cannot_score():
    with pytest.raises(ValueError, match="direction"):
        register_metric(Metric("test_odd", "unit", "sideways"))
    with pytest.raises(ValueError, match="registered already"):
        register_metric(Metric("elimination", "unit", "higher"))
    with pytest.raises(ValueError, match="unknown per-scene"):
        register_metric(Metric("test_odd", "unit", "higher", "no_such_values"))
    with pytest.raises(ValueError, match="no per-scene values to pair"):
        register_metric(Metric("test_odd", "unit", "higher", paired=True))
    assert "test_odd" not in METRICS and "no_such_values" not in PER_SCENE


def _expected_table(results):
    """The table with its columns named one by one: ours only (the paper's Table 3 stays in the results file and
    notebook 06's figure), and no whole-image FID (about 0 for every fill at 64 px: `format_table`)."""
    lines = ["| variant | seeds | elimination % | masked PSNR | masked SSIM | LPIPS* | local FID* |", "|" + "---|" * 7]
    fmt = lambda r, m, d: f"{r[m]:.{d}f} ± {r[m + '_std']:.{d}f}"  # noqa: E731
    for r in results["rows"]:
        lines.append(f"| {r['variant']} | {r['seeds']} | {fmt(r, 'elimination', 1)} | {fmt(r, 'masked_psnr', 2)} | "
                     f"{fmt(r, 'masked_ssim', 3)} | {fmt(r, 'lpips', 3)} | {fmt(r, 'local_fid', 2)} |")
    fe = results["feature_extractors"]
    lines.append(f"\n*local FID features: {fe.get('local_fid')}; LPIPS column: {fe.get('lpips')}. "
                 f"Profile {results['profile']}, device {results['device']}, benchmark "
                 f"{results['benchmark'].get('version')} ({results['benchmark'].get('scenes')} scenes).")
    return "\n".join(lines)


def test_the_shipped_results_load_and_render_our_columns_only():
    from eradiff_lite.metrics import format_table, read_results
    from eradiff_lite.metrics.registry import kept_per_scene, units
    from eradiff_lite.metrics.results import paired_stats

    shipped = read_results()
    assert format_table(shipped) == _expected_table(shipped)
    table = format_table(shipped)
    assert "paper" not in table and "| FID* |" not in table  # out of the table, kept in the file
    assert all("fid" in r and "paper_local_fid" in r for r in shipped["rows"])
    assert units() == shipped["units"] and list(units()) == list(shipped["units"])
    assert kept_per_scene() == list(shipped["rows"][0]["per_scene"])
    metrics = [k for k in shipped["rows"][0] if k in METRICS]
    assert metrics == [m for m in METRICS if m in shipped["rows"][0]]  # the rows' column order is the registry's
    stats = paired_stats(shipped, "cro_sra", "baseline", resamples=200)
    assert list(stats) == ["variant", "reference", "bucket", "masked_psnr", "elimination", "recreation", "mcnemar"]
    assert all(math.isfinite(stats[k]["mean"]) for k in ("masked_psnr", "elimination", "recreation"))
