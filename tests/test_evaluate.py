"""The ablation runner and the evaluate command, on tiny real pipelines built from config, and the shipped
results file."""

import json

import numpy as np
import pytest
import torch

from eradiff_lite.cli.evaluate import main as evaluate_main
from eradiff_lite.data import to_tensor
from eradiff_lite.experiments import evaluate as ev
from eradiff_lite.metrics.benchmark import load_benchmark
from eradiff_lite.metrics.results import check_results, read_results
from eradiff_lite.metrics.scoring import composite, load_metric_kit, score_outputs
from eradiff_lite.models.lite import build_lite_unet, build_scheduler
from eradiff_lite.pipeline import EraseDiffusionPipeline
from eradiff_lite.pipeline.shipped import checkpoints_dir, find_variants
from eradiff_lite.profiles import get_profile
from eradiff_lite.variants import REFERENCES

SMOKE = get_profile("smoke")


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Untrained smoke-sized pipelines saved the standard way under ``baseline/`` and ``cro/``."""
    root = tmp_path_factory.mktemp("checkpoints")
    for i, name in enumerate(("baseline", "cro")):
        torch.manual_seed(i)
        pipe = EraseDiffusionPipeline(unet=build_lite_unet(SMOKE), scheduler=build_scheduler())
        pipe.save_pretrained(root / name, card={"variant": name})
    return root


@pytest.fixture(scope="module")
def kit():
    return load_metric_kit()


def test_find_variants_maps_sra_to_the_baseline_weights(checkpoints):
    found = find_variants([checkpoints])
    assert set(found) == {"baseline", "cro", "sra"}
    assert found["sra"] == {"folder": checkpoints / "baseline", "sra": True}
    assert found["cro"]["sra"] is False
    assert set(find_variants([checkpoints / "cro"])) == {"cro"}
    digests = {ev.weights_digest(checkpoints / n) for n in ("baseline", "cro")}
    assert len(digests) == 2 and all(len(d) == 16 for d in digests)
    with pytest.raises(FileNotFoundError):
        find_variants([checkpoints / "nothing"])
    with pytest.raises(ValueError, match="unknown variant"):
        find_variants([checkpoints], names=["bogus"])


def test_erasing_is_reproducible_per_seed_and_keeps_known_pixels(checkpoints):
    bench = load_benchmark(scenes=3, size=SMOKE.image_size)
    pipe = ev.load_pipeline(checkpoints / "baseline")
    a, b = (ev.erase_benchmark(pipe, bench, steps=2, seed=5, batch_size=2) for _ in range(2))
    c = ev.erase_benchmark(pipe, bench, steps=2, seed=6, batch_size=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    t = bench.tensors()
    outside = t["mask"].expand_as(a) == 0
    assert torch.allclose(a[outside], t["x_obj"][outside], atol=1e-5)
    alone = ev.erase_benchmark(pipe, bench, steps=2, seed=5, batch_size=2, indices=[2], return_trajectory=True)
    assert torch.allclose(to_tensor(alone.images[0]), a[2], atol=1e-6)  # scene 2 sits in the second batch
    assert len(alone.predicted_x0) == 2
    with pytest.raises(ValueError, match="latents must have"):
        pipe(bench.scenes[0].triplet.x_obj, bench.scenes[0].triplet.mask, num_inference_steps=2,
             latents=torch.zeros(2, 3, SMOKE.image_size, SMOKE.image_size))


def test_scores_of_the_true_background_and_of_the_untouched_input(kit):
    bench = load_benchmark(scenes=24, size=32)
    t = bench.tensors()
    truth = score_outputs(bench, t["x_ori"], kit, t)
    assert truth["masked_psnr"] == 100.0 and truth["masked_ssim"] == pytest.approx(1.0)
    assert truth["lpips"] == pytest.approx(0.0, abs=1e-6)
    assert abs(truth["fid"]) < 1e-3 and abs(truth["local_fid"]) < 1e-3
    untouched = score_outputs(bench, t["x_obj"], kit, t)
    assert untouched["elimination"] == 0.0 and truth["elimination"] == 1.0  # the colour judge's two ends
    assert untouched["recreation"] == 1.0 and truth["recreation"] == 0.0
    assert untouched["erase_ratio_share"] == 0.0 and truth["erase_ratio_share"] == 1.0
    # the texture measure: the truth is its own texture (0, every hole within the band); leaving the object
    # differs from the truth's texture on smooth holes (objects have edges and spots)
    assert truth["texture_smooth_median"] == 0.0 and truth["texture_smooth_within"] == 1.0
    assert truth["texture_textured_within"] == 1.0
    assert untouched["texture_smooth_median"] > 1.5 and untouched["texture_smooth_within"] < 0.5
    assert untouched["elimination_classifier"] < 0.7 < truth["elimination_classifier"]
    assert untouched["local_fid"] > untouched["fid"] > 0
    classical = score_outputs(bench, ev.erase_classical(bench), kit, t)
    assert untouched["masked_psnr"] < classical["masked_psnr"] < 100
    with pytest.raises(ValueError, match="one erased image per scene"):
        score_outputs(bench, t["x_ori"][:3], kit, t)
    with pytest.raises(ValueError):
        composite(t["x_ori"][:, :1], t["x_obj"], t["mask"])


def test_evaluate_command_writes_a_valid_results_file(checkpoints, tmp_path, capsys):
    evaluate_main(["--models", str(checkpoints), "--out", str(tmp_path), "--profile", "smoke", "--scenes", "4",
                   "--seeds", "2", "--steps", "2", "--variants", "baseline", "sra", "cro", "paired"])
    results = read_results(tmp_path / "ablation.json")
    rows = {r["variant"]: r for r in results["rows"]}
    assert list(rows) == ["baseline", "cro", "sra", "classical", "telea", "flat", "shifted",
                          "untouched"]
    assert rows["baseline"]["seeds"] == 2 and rows["classical"]["seeds"] == 1 and rows["sra"]["sra"] is True
    digest = ev.weights_digest(checkpoints / "baseline")
    assert rows["sra"]["weights_sha256"] == rows["baseline"]["weights_sha256"] == digest
    assert rows["baseline"]["paper_local_fid"] == 8.852 and rows["classical"]["paper_local_fid"] is None
    assert results["missing_variants"] == ["paired"] and results["benchmark"]["version"] == "heldout-v1"
    assert "PresenceNet" in results["feature_extractors"]["fid"]
    assert (tmp_path / "ablation.csv").read_text().count("\n") == 9
    assert "| baseline | 2 |" in capsys.readouterr().out
    from eradiff_lite.metrics.results import paired_stats

    stats = paired_stats(results, "cro", "baseline", resamples=200)
    assert len(rows["cro"]["per_scene"]["masked_psnr"]) == 4
    assert stats["masked_psnr"]["low"] <= stats["masked_psnr"]["mean"] <= stats["masked_psnr"]["high"]
    assert set(stats["mcnemar"]) == {"n_ab", "n_ba", "p_value"}
    same = paired_stats(results, "baseline", "baseline", resamples=200)
    assert same["masked_psnr"]["mean"] == 0 and same["mcnemar"]["p_value"] == 1.0


def test_buckets_select_their_scenes_and_bucket_statistics_use_only_them(kit):
    from eradiff_lite.metrics.results import bucket_means, paired_stats

    bench = load_benchmark(scenes=40, size=32)
    buckets = bench.buckets()
    assert bench.buckets() is buckets  # computed once per benchmark, not per variant and seed
    for s, near, textured in zip(bench.scenes, buckets["near"], buckets["textured"]):
        assert near == (s.nearest_context_distance() <= 3)
        on_carrier = s.family in ("pepperoni", "egg")  # on a pizza or in a pan
        assert textured == (s.background in ("wood", "tiles", "stripes", "photo") and not on_carrier)
    assert 0 < buckets["near"].sum() < 40 and 0 < buckets["textured"].sum() < 40
    assert bench.describe()["buckets"]["near"] == np.flatnonzero(buckets["near"]).tolist()
    t = bench.tensors()
    rows = [ev.table_row(name, [score_outputs(bench, images, kit, t)], None, [0], None)
            for name, images in (("truth", t["x_ori"]), ("untouched", t["x_obj"]))]
    results = {"benchmark": bench.describe(), "rows": rows}
    near = bucket_means(results, "near")
    assert near["truth"]["scenes"] == buckets["near"].sum() and near["untouched"]["recreated"] == 100.0
    assert near["truth"]["eliminated"] == 100.0 and near["truth"]["masked_psnr"] == 100.0
    stats = paired_stats(results, "truth", "untouched", resamples=100, bucket="textured")
    assert stats["elimination"]["n"] == buckets["textured"].sum() and stats["elimination"]["mean"] == 100.0
    assert stats["mcnemar"]["n_ab"] == buckets["textured"].sum()
    with pytest.raises(ValueError, match="unknown bucket"):
        bucket_means(results, "far")


def test_shipped_reference_results_follow_the_schema():
    results = read_results()
    check_results(results)
    variants = [r["variant"] for r in results["rows"]]
    assert {"baseline", "cro", "sra", "cro_sra", "classical"} <= set(variants)
    assert results["profile"] in ("cpu", "gpu") and results["benchmark"]["scenes"] >= 96
    assert all(r["seeds"] >= 3 for r in results["rows"] if r["variant"] not in REFERENCES)
    assert json.loads(json.dumps(results))  # plain data only
    for row in results["rows"]:  # the table belongs to the checkpoints that are shipped now
        if row["checkpoint"]:
            assert row["weights_sha256"] == ev.weights_digest(checkpoints_dir() / row["checkpoint"]), \
                f"data/checkpoints/{row['checkpoint']} changed since data/results/ablation.json was made: re-evaluate"


def test_merge_joins_disjoint_variant_groups(checkpoints, tmp_path):
    common = ["--models", str(checkpoints), "--profile", "smoke", "--scenes", "3", "--seeds", "1", "--steps", "1"]
    evaluate_main(common + ["--out", str(tmp_path / "a"), "--variants", "cro"])
    evaluate_main(common + ["--out", str(tmp_path / "b"), "--variants", "baseline", "--no-classical"])
    evaluate_main(["--merge", str(tmp_path / "a" / "ablation.json"), str(tmp_path / "b" / "ablation.json"),
                   "--out", str(tmp_path / "ab")])
    merged = read_results(tmp_path / "ab" / "ablation.json")
    assert [r["variant"] for r in merged["rows"]] == ["baseline", "cro", "classical", "telea", "flat", "shifted",
                                                         "untouched"]
    with pytest.raises(ValueError, match="twice"):
        evaluate_main(["--merge", str(tmp_path / "a" / "ablation.json"), str(tmp_path / "a" / "ablation.json"),
                       "--out", str(tmp_path / "aa")])
    evaluate_main(common[:-2] + ["--steps", "2", "--out", str(tmp_path / "c"), "--variants", "cro", "--no-classical"])
    with pytest.raises(ValueError, match="differ"):
        evaluate_main(["--merge", str(tmp_path / "b" / "ablation.json"), str(tmp_path / "c" / "ablation.json"),
                       "--out", str(tmp_path / "bc")])


def test_findings_follow_the_evidence_both_ways(kit):
    """The conclusion's verdicts, on stand-ins whose answers are known: the true background posing as
    EraDiff meets every target against the untouched input posing as every control, and the other way round
    misses them; two equal stand-ins show no difference ("not shown", never "missed"); a missing variant is "not
    measured", never met."""
    from eradiff_lite.experiments.findings import conclusion_markdown, findings

    bench = load_benchmark(scenes=40, size=32)
    t = bench.tensors()
    good, bad = score_outputs(bench, t["x_ori"], kit, t), score_outputs(bench, t["x_obj"], kit, t)
    flat = score_outputs(bench, ev.erase_classical(bench, "flat"), kit, t)
    classical = score_outputs(bench, ev.erase_classical(bench), kit, t)
    shifted = score_outputs(bench, ev.erase_classical(bench, "shifted"), kit, t)

    def results(winners, losers):
        rows = [ev.table_row(n, [good], None, [0], None) for n in winners]
        rows += [ev.table_row(n, [bad], None, [0], None) for n in losers]
        rows += [ev.table_row("flat", [flat], None, [0], None), ev.table_row("classical", [classical], None, [0], None)]
        rows += [ev.table_row("shifted", [shifted], None, [0], None)]
        return {"rows": rows, "benchmark": bench.describe(), "profile": "smoke", "device": "cpu",
                "sampling": {"seeds": [0], "steps": 1}}

    ours = results(["cro_sra", "cro", "sra"], ["baseline", "baseline_ft", "cro_zero", "paired"])
    verdicts = {f.claim: f.verdict for f in findings(ours)}
    assert verdicts.pop("SRA on top of CRO raises elimination") == "not shown"  # the same stand-in: no difference
    assert set(verdicts.values()) == {"met"}, verdicts
    swapped = results(["baseline", "baseline_ft", "cro_zero", "paired"], ["cro_sra", "cro", "sra"])
    verdicts = {f.claim: f.verdict for f in findings(swapped)}
    assert verdicts.pop("the pepperoni problem is real: the baseline re-creates a same-family object") == "missed"
    # the amount of texture cannot tell an object from a textured background (it is read beside elimination)
    verdicts.pop("on textured backgrounds cro_sra's fills have the texture a shifted copy of the truth has")
    assert verdicts.pop("SRA on top of CRO raises elimination") == "not shown"  # cro_sra and cro: the same stand-in
    assert set(verdicts.values()) == {"missed"}, verdicts
    partial = {**ours, "rows": [r for r in ours["rows"] if r["variant"] != "cro_zero"]}
    assert {f.claim: f.verdict for f in findings(partial)}[
        "CRO's pathway matters (cro vs cro_zero, same weights)"] == "not measured"
    assert "| **met** |" in conclusion_markdown(ours) and "40 scenes, 32 px" in conclusion_markdown(ours)
    words = conclusion_markdown(ours)  # the plain-words reading follows the same numbers
    assert "12 of 13 measured targets met" in words and "SRA on top of CRO (cro_sra vs cro)" in words
    assert "(fewer objects eliminated): CRO's pathway" not in words and "not over classical inpainting" not in words
    assert "No gain shown from SRA on top of CRO" in words and "not evidence of no effect" in words
    assert "measurable" not in words and "helps" not in words
    words = conclusion_markdown(swapped)
    assert "of 13 measured targets met" in words and "Most eliminated: `baseline` among the lite" in words
    assert "The erasing shown here comes from" not in words  # the fix did not work: no reading of why
    assert "Shown the other way (fewer objects eliminated): CRO's pathway" in words
    words = conclusion_markdown(results([], ["baseline", "cro", "cro_sra", "paired"]))  # every model leaves it
    assert "not over classical inpainting" in words


def test_a_gain_that_mcnemar_does_not_confirm_is_not_shown():
    from eradiff_lite.experiments.findings import _gain

    n = 200
    a = np.zeros(n)
    a[:40] = 1  # 40 scenes erased by both
    b = a.copy()
    a[40:46] = 1  # 6 scenes only by a (in every seed)
    a[100:130] = 1 / 3  # and 30 in one seed of three: a gain in the mean, not a majority
    b[46] = 1  # 1 scene only by b: the bootstrap interval is above 0, McNemar's p (majorities: 6 vs 1) = 0.125

    def row(name, eliminated):
        return {"variant": name, "per_scene": {"eliminated": eliminated.tolist(), "masked_psnr": [20.0] * n,
                                               "recreated": [0.0] * n}}

    results = {"rows": [row("sra", a), row("baseline", b)], "benchmark": {"buckets": {}}}
    rows = {r["variant"]: r for r in results["rows"]}
    found = _gain(results, rows, "sra", "baseline", "SRA helps")
    assert found.verdict == "not shown" and "McNemar p = 0.12" in found.measured
    b[46] = 0
    a[46:52] = 1  # 12 against 0: now confirmed
    results = {"rows": [row("sra", a), row("baseline", b)], "benchmark": {"buckets": {}}}
    assert _gain(results, {r["variant"]: r for r in results["rows"]}, "sra", "baseline", "SRA helps").verdict == "met"


def test_one_verdict_rule_in_the_findings_the_sra_study_and_the_capstone_table():
    """A difference is shown only when its 95 % interval excludes 0 AND McNemar's p < 0.05; the capstone's class
    table reads its elimination the same way (and asks that masked PSNR is not shown lower)."""
    from eradiff_lite.experiments.capstone_table import verdict
    from eradiff_lite.metrics.paired import difference_shown

    assert difference_shown(1.2, 3.9, 0.12) == 0 and difference_shown(1.2, 3.9, 0.04) == 1
    assert difference_shown(-3.9, -1.2, 0.01) == -1 and difference_shown(-1.0, 2.0, 0.001) == 0
    assert difference_shown(0.1, 0.4) == 1  # no McNemar test (masked PSNR): the interval alone
    for e in ((1, 4, 7), (-7, -4, -1), (-1, 1, 3)):
        for p in (0.01, 0.2):
            for psnr in ((-2, -1, -0.5), (-0.2, 0.1, 0.4), (0.2, 0.5, 0.9)):
                paired = {"elimination": dict(zip(("low", "mean", "high"), e)), "mcnemar": {"p_value": p},
                          "masked_psnr": dict(zip(("low", "mean", "high"), psnr))}
                shown = difference_shown(e[0], e[2], p)
                expected = ("beats cro_sra" if shown > 0 and difference_shown(psnr[0], psnr[2]) >= 0
                            else "worse than cro_sra" if shown < 0 else "no difference shown")
                assert verdict(paired) == expected, (e, p, psnr)
