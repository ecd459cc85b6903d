"""The evaluation metrics on answers known in advance, the results schema, and the shipped classifier."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from eradiff_lite.metrics.benchmark import BENCHMARK_VERSION, load_benchmark
from eradiff_lite.metrics.classical import inpaint_classical
from eradiff_lite.metrics.coherence import PSNR_CAP_DB, masked_psnr, masked_ssim
from eradiff_lite.metrics.crops import box_crops, crop_window
from eradiff_lite.metrics.frechet import PresenceFeatures, fid_score, frechet_distance
from eradiff_lite.metrics.perceptual import PresencePerceptualDistance, perceptual_distance
from eradiff_lite.metrics.presence import PresenceNet, load_presence_net, save_presence_net
from eradiff_lite.metrics.results import aggregate, check_results, read_results, write_results


@pytest.fixture
def pair(rng):
    image = rng.random((24, 24, 3)).astype(np.float32)
    mask = np.zeros((24, 24), bool)
    mask[6:14, 8:18] = True
    return image, mask


# ----------------------------------------------------------------------------------------------- coherence
def test_identical_regions_give_capped_psnr_and_ssim_one(pair):
    image, mask = pair
    assert masked_psnr(image, image.copy(), mask) == PSNR_CAP_DB
    assert masked_ssim(image, image.copy(), mask) == pytest.approx(1.0, abs=1e-9)


def test_constant_shift_gives_the_psnr_formula(pair):
    image, mask = pair
    image = image * 0.5
    shifted = image.copy()
    shifted[mask] += 0.1  # MSE = 0.01 inside the mask -> 10 log10(1 / 0.01) = 20 dB
    shifted[~mask] = 0.0  # outside the mask nothing counts
    assert masked_psnr(shifted, image, mask) == pytest.approx(20.0, abs=1e-4)


def test_ssim_drops_with_noise_only_inside_the_mask(pair, rng):
    image, mask = pair
    noisy = image.copy()
    noisy[mask] = rng.random((mask.sum(), 3))
    outside = image.copy()
    outside[~mask] = rng.random(((~mask).sum(), 3))
    assert masked_ssim(noisy, image, mask) < 0.5
    assert masked_ssim(noisy, image, mask) < masked_ssim(outside, image, mask)


def test_coherence_refuses_bad_input(pair):
    image, mask = pair
    with pytest.raises(ValueError, match="mask is empty"):
        masked_psnr(image, image, np.zeros_like(mask))
    with pytest.raises(ValueError, match="H x W x 3"):
        masked_ssim(image[..., 0], image[..., 0], mask)
    with pytest.raises(ValueError, match="mask must be"):
        masked_psnr(image, image, mask[:10])


# ----------------------------------------------------------------------------------------------- Frechet
class Identity3(nn.Module):
    """Features = the three channel values of a 1 x 1 image, so FID reduces to Gaussians in R^3."""

    num_features = 3

    def forward(self, images):
        return images.flatten(1).double()


def test_frechet_distance_matches_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.1, 0.2, 0.3]), np.array([0.3, 0.1, 0.0])
    var1, var2 = np.array([1.0, 4.0, 0.25]), np.array([0.25, 1.0, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(var1 + var2 - 2 * np.sqrt(var1 * var2))
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(mu1, np.diag(var1), mu1, np.diag(var1)) == pytest.approx(0.0, abs=1e-9)


def test_torchmetrics_fid_with_injected_features_matches_the_closed_form(rng):
    mu1, mu2 = np.array([0.4, 0.5, 0.6]), np.array([0.5, 0.45, 0.6])
    s1 = np.array([[0.004, 0.001, 0.0], [0.001, 0.003, 0.0], [0.0, 0.0, 0.002]])
    s2 = np.diag([0.002, 0.004, 0.003])
    a, b = rng.multivariate_normal(mu1, s1, 4000), rng.multivariate_normal(mu2, s2, 4000)
    fid = fid_score(torch.tensor(a)[:, :, None, None], torch.tensor(b)[:, :, None, None], Identity3(), 512)
    sample = frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert fid == pytest.approx(sample, rel=1e-4)  # torchmetrics == the reference formula on the same data
    assert fid == pytest.approx(frechet_distance(mu1, s1, mu2, s2), rel=0.1)  # and close to the population value


def test_fid_refuses_a_single_image():
    with pytest.raises(ValueError, match="at least two"):
        fid_score(torch.rand(1, 3, 1, 1), torch.rand(4, 3, 1, 1), Identity3())


# ----------------------------------------------------------------------------------------------- crops, nets
def test_crop_window_stays_inside_and_centres_the_box():
    top, left, side = crop_window((10, 12, 16, 20), (32, 32))
    assert side == 16 and 0 <= top <= 32 - side and 0 <= left <= 32 - side
    assert left <= 10 and left + side >= 16
    assert crop_window((0, 0, 30, 30), (32, 32)) == (0, 0, 32)
    with pytest.raises(ValueError, match="box"):
        crop_window((5, 5, 5, 9), (32, 32))
    assert box_crops(torch.rand(2, 3, 32, 32), [(1, 1, 5, 5), (20, 20, 31, 30)]).shape == (2, 3, 32, 32)


def test_perceptual_distance_is_zero_for_identical_images_and_grows_with_change():
    torch.manual_seed(0)
    dist = PresencePerceptualDistance(PresenceNet())
    a = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.allclose(dist(a, a.clone()), torch.zeros(2), atol=1e-6)
    b = a.clone()
    b[:, :, 8:16, 8:16] = 1.0
    c = a.clone()
    c[:, :, 4:28, 4:28] = 1.0
    assert (dist(a, b) > 0).all() and (dist(a, c) > dist(a, b)).all()
    with pytest.raises(ValueError):
        perceptual_distance("vgg", None)


def test_presence_features_have_the_declared_size():
    feats = PresenceFeatures(PresenceNet())
    assert feats(torch.rand(3, 3, 64, 64)).shape == (3, feats.num_features)


def test_classical_inpainting_recovers_a_smooth_gradient():
    ramp = np.linspace(0, 1, 32, dtype=np.float32)
    image = np.dstack([np.tile(ramp, (32, 1))] * 3)
    mask = np.zeros((32, 32), bool)
    mask[10:20, 12:22] = True
    holed = image.copy()
    holed[mask] = 0.0
    filled = inpaint_classical(holed, mask)
    assert np.abs(filled - image)[mask].max() < 0.02
    assert np.array_equal(filled[~mask], holed[~mask])


# ----------------------------------------------------------------------------------------------- classifier
def test_presence_net_round_trips_through_safetensors(tmp_path):
    torch.manual_seed(0)
    net = PresenceNet().eval()
    save_presence_net(net, tmp_path, {"heldout_accuracy": {"all": 0.5}})
    loaded, card = load_presence_net(tmp_path)
    x = torch.rand(2, 3, 32, 32)
    assert torch.equal(net(x), loaded(x)) and card["heldout_accuracy"]["all"] == 0.5
    with pytest.raises(FileNotFoundError, match="train-presence"):
        load_presence_net(tmp_path / "missing")


def test_shipped_classifier_loads_and_tells_objects_from_backgrounds():
    net, card = load_presence_net()
    assert card["train"]["split"] == "train" and card["heldout_accuracy"]["all"] > 0.8
    bench = load_benchmark(scenes=40, size=32)
    t = bench.tensors()
    p_obj = net.prob_present(box_crops(t["x_obj"], bench.boxes))
    p_ori = net.prob_present(box_crops(t["x_ori"], bench.boxes))
    accuracy = ((p_obj >= 0.5).float().mean() + (p_ori < 0.5).float().mean()) / 2
    assert accuracy > 0.75


# ----------------------------------------------------------------------------------------------- benchmark, results
def test_benchmark_is_fixed_and_heldout():
    a, b = load_benchmark(scenes=60, size=32), load_benchmark(scenes=60, size=32)
    assert a.version == BENCHMARK_VERSION and a.describe()["split"] == "heldout"
    assert all(np.array_equal(x.triplet.x_obj, y.triplet.x_obj) for x, y in zip(a.scenes, b.scenes))
    assert {"button", "egg"} & set(a.describe()["families"])
    with pytest.raises(ValueError, match="version"):
        load_benchmark(scenes=4, size=32, version="heldout-v0")
    with pytest.raises(ValueError, match="at least 2"):
        load_benchmark(scenes=1, size=32)


def _scores(e):
    return {"elimination": e, "masked_psnr": 20.0, "masked_ssim": 0.5, "lpips": 0.1, "fid": 3.0, "local_fid": 4.0}


def test_results_schema_round_trip(tmp_path):
    row = aggregate("cro", [_scores(0.5), _scores(0.7)], sra=False)
    assert row["elimination"] == pytest.approx(60.0) and row["elimination_std"] == pytest.approx(10.0)
    assert row["paper_local_fid"] == 4.950 and row["paper_elimination"] == 78.54
    results = {"profile": "smoke", "device": "cpu", "benchmark": {"version": BENCHMARK_VERSION},
               "feature_extractors": {"fid": "x"}, "rows": [row]}
    path = write_results(results, tmp_path)
    assert read_results(path)["rows"][0]["variant"] == "cro"
    assert (tmp_path / "ablation.csv").read_text().splitlines()[0].startswith("variant,seeds,elimination")
    broken = json.loads(path.read_text())
    del broken["rows"][0]["masked_psnr"]
    with pytest.raises(ValueError, match="masked_psnr"):
        check_results(broken)
    broken = json.loads(path.read_text())
    broken["rows"][0]["local_fid"] = "4.0"
    with pytest.raises(ValueError, match="local_fid"):
        check_results(broken)
    with pytest.raises(ValueError, match="feature_extractors"):
        check_results({"profile": "x", "device": "y", "benchmark": {}, "rows": [row]})


def test_clip_similarity_on_a_tiny_clip_built_from_config():
    from transformers import CLIPConfig, CLIPModel

    from eradiff_lite.metrics.clip_score import clip_object_score, clip_similarity

    text = dict(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                max_position_embeddings=16, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    vision = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32,
                  patch_size=8)
    torch.manual_seed(0)
    model = CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=8)).eval()
    pixels, ids = torch.randn(3, 3, 32, 32), torch.randint(2, 50, (3, 5))
    score = clip_similarity(model, pixels, ids)
    assert score.shape == (3,) and (score.abs() <= 100 + 1e-4).all()
    swapped = clip_similarity(model, pixels.flip(0), ids.flip(0))
    assert torch.allclose(swapped, score.flip(0), atol=1e-4)  # a per-pair score, not a batch statistic
    with pytest.raises(ValueError, match="one text per image"):
        clip_similarity(model, pixels, ids[:2])
    with pytest.raises(ValueError, match="no prompt"):
        clip_object_score(torch.rand(1, 3, 8, 8), ["spaceship"], model=model, processor=object())


def test_paired_bootstrap_finds_a_shift_that_independent_errors_would_hide():
    from eradiff_lite.metrics.paired import paired_bootstrap

    rng = np.random.default_rng(0)
    scene_difficulty = rng.normal(0, 5, 200)  # large spread between scenes, shared by both variants
    a = scene_difficulty + 0.3 + rng.normal(0, 0.2, 200)
    b = scene_difficulty + rng.normal(0, 0.2, 200)
    ci = paired_bootstrap(a, b)
    assert ci["low"] > 0 and ci["low"] < ci["mean"] < ci["high"] and abs(ci["mean"] - 0.3) < 0.1
    same = paired_bootstrap(b + rng.normal(0, 0.2, 200), b)
    assert same["low"] < 0 < same["high"]
    with pytest.raises(ValueError, match="equal-length"):
        paired_bootstrap([1, 2, 3], [1, 2])


def test_mcnemar_counts_discordant_pairs():
    from eradiff_lite.metrics.paired import mcnemar

    a = np.array([True] * 30 + [False] * 10 + [True] * 60)
    b = np.array([False] * 30 + [True] * 10 + [True] * 60)
    result = mcnemar(a, b)
    assert (result["n_ab"], result["n_ba"]) == (30, 10) and result["p_value"] < 0.01
    assert mcnemar(a, a)["p_value"] == 1.0


def test_colour_judge_puts_untouched_and_true_background_at_opposite_ends():
    from eradiff_lite.data import make_scene
    from eradiff_lite.metrics.judge import judge, validate_judge

    scenes = [make_scene(i, 32, split="heldout") for i in range(24)]
    table = validate_judge(scenes)
    assert table["untouched"] == {"eliminated": 0.0, "recreated": 100.0}
    assert table["true background"] == {"eliminated": 100.0, "recreated": 0.0}
    assert table["repaint (new object of the family)"]["recreated"] >= 90
    assert 0 < table["background shifted 3 px"]["eliminated"] < 100  # plausible but misaligned: in between
    grey = np.full_like(scenes[0].triplet.x_obj, 0.5)
    verdict = judge(grey, scenes[0])
    assert set(verdict) == {"family_share", "recreated", "eliminated", "gain_db"}


def test_scenes_know_how_close_the_context_objects_are():
    from eradiff_lite.data import make_scene

    distances = [make_scene(i, 64, split="heldout").nearest_context_distance() for i in range(40)]
    assert min(distances) <= 3 < max(distances), "the same-family bucket must be a real subset"


def test_telea_fills_only_the_hole_and_follows_a_smooth_background():
    from eradiff_lite.metrics.classical import inpaint_telea

    yy, xx = np.mgrid[0:32, 0:32] / 31.0
    image = np.stack([yy, xx, 0.5 * np.ones_like(yy)], -1).astype(np.float32)
    mask = np.zeros((32, 32), bool)
    mask[10:18, 12:20] = True
    holed = image.copy()
    holed[mask] = 1.0
    filled = inpaint_telea(holed, mask)
    assert np.array_equal(filled[~mask], holed[~mask])
    assert np.abs(filled[mask] - image[mask]).mean() < 0.05 < np.abs(holed[mask] - image[mask]).mean()
