"""The experiments' own logic (experiments/: nothing in the package imports them): arm configs, the comparison rows."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "experiments" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fill_study, cro_budget, recipe_check = _load("fill_study"), _load("cro_budget"), _load("recipe_check")
judge_vs_eye = _load("judge_vs_eye")


def test_fill_study_arms_change_one_setting_at_an_equal_budget():
    configs = {arm: fill_study.arm_config(arm, 600) for arm in fill_study.ARMS}
    assert {c.steps * c.batch_size for c in configs.values()} == {600 * 32}
    assert configs["snr+1"].loss_weighting == "snr+1" and configs["continue"].loss_weighting is None
    assert configs["paired_dilate1-4"].variant == "paired" and tuple(configs["paired_dilate1-4"].mask_dilate) == (1, 4)
    assert configs["refine16"].to_dict() == {**configs["continue"].to_dict(), "notes": {"fill_study_arm": "refine16"}}
    with pytest.raises(SystemExit, match="unknown arm"):
        fill_study.arm_config("bogus", 10)


def _score(variant, eliminated, texture, lr=3e-4, steps=50, strength=1.0):
    return {"variant": variant, "lr": lr, "steps": steps, "strength": strength, "eliminated": list(eliminated),
            "texture_log2": list(texture)}


def test_budget_rows_pair_the_same_setting_and_see_a_real_gain():
    n = 60
    rng = np.random.default_rng(0)
    good, bad = np.ones(n), (rng.random(n) < 0.3).astype(float)
    scores = [_score("cro", good, np.zeros(n)), _score("paired", bad, np.ones(n)),
              _score("cro_zero", good, np.zeros(n)), _score("paired", bad, np.ones(n), steps=100)]  # no cro: no row
    rows = cro_budget.rows(scores)
    by = {(r["comparison"], r["finetune_steps"]): r for r in rows}
    assert set(by) == {("cro - paired", 50), ("cro - cro_zero", 50), ("paired - cro_zero", 50)}
    gain = by[("cro - paired", 50)]
    assert gain["elimination_ci95"][0] > 0 and gain["p"] < 0.01 and gain["texture_difference"] == pytest.approx(-1)
    same = by[("cro - cro_zero", 50)]
    assert same["elimination_difference"] == 0 and same["p"] == 1.0
    assert "| 0.0003 | 50 | 1 | cro - paired |" in cro_budget.table({"rows": rows})


def _results(eliminated, texture):
    n = len(eliminated)
    row = {"variant": "paired", "per_scene": {"eliminated": list(eliminated), "masked_psnr": [20.0] * n,
                                              "recreated": [0.0] * n, "texture_log2": list(texture)}}
    return {"benchmark": {"version": "t", "scenes": n, "buckets": {"textured": list(range(n // 2, n))}},
            "sampling": {"seeds": [0], "steps": 2}, "profile": "smoke", "device": "cpu", "rows": [row]}


def test_recipe_check_compares_each_scene_with_itself_before_and_after(tmp_path):
    n = 40
    before = _results([0.0] * n, [3.0] * n)
    after = _results([1.0] * (n // 4) + [0.0] * (n - n // 4), [0.5] * (n // 2) + [3.0] * (n // 2))
    textured = np.zeros(n, bool)
    textured[n // 2:] = True
    row = recipe_check.compare(before, after, "paired", np.arange(n), textured)
    assert row["elimination_before"] == 0 and row["elimination_after"] == 25
    assert row["elimination_difference"]["mean"] == pytest.approx(25) and row["p"] < 0.05
    assert row["elimination_verdict"] == 1
    smooth, textured_row = row["texture_smooth"], row["texture_textured"]
    assert smooth["within_before"] == 0 and smooth["within_after"] == 100 and smooth["verdict"] == -1
    assert textured_row["distance_difference"]["mean"] == 0 and textured_row["verdict"] == 0
    same = recipe_check.compare(before, before, "paired", np.arange(n), textured)
    assert same["elimination_verdict"] == 0 and same["p"] == 1.0
    with pytest.raises(ValueError, match="no per-scene values"):
        recipe_check.compare(before, after, "cro", np.arange(n), textured)


def test_budget_merge_pools_a_third_seed_and_refuses_a_seed_scored_twice_or_missing(tmp_path):
    bench = {"version": "t", "scenes": 4}

    def results(seeds, models):
        return {"benchmark": bench, "seeds": len(seeds), "families": ["coin"] * 4,
                "scores": [{**_score(v, e, t), "seeds": list(seeds)} for v, e, t in models]}

    first = tmp_path / "seeds01.json"  # an old file: its scores list no seeds, the file says 2 (seeds 0 and 1)
    old = results([0, 1], [("cro", [1, 0.5, 0.5, 0], [2, 2, 2, 2]), ("paired", [0, 0, 1, 1], [0] * 4)])
    for s in old["scores"]:
        del s["seeds"]
    first.write_text(json.dumps(old))
    third = tmp_path / "seed2.json"
    third.write_text(json.dumps(results([2], [("cro", [1, 1, 0, 0], [5, 5, 5, 5]), ("paired", [0, 0, 1, 1], [0] * 4)])))
    out = tmp_path / "all.json"
    assert cro_budget.main(["merge", str(first), str(third), "--out", str(out)]) == 0
    merged = json.loads(out.read_text())
    cro = next(s for s in merged["scores"] if s["variant"] == "cro")
    assert merged["seeds"] == 3 and cro["seeds"] == [0, 1, 2]
    assert cro["eliminated"] == pytest.approx([1, 2 / 3, 1 / 3, 0], abs=1e-4)  # (2 x mean of two + third) / 3
    assert cro["texture_log2"] == [3, 3, 3, 3] and cro["elimination"] == 50  # majority: 2 of 3 seeds, a tie is not
    with pytest.raises(SystemExit, match="scored twice on seeds"):
        cro_budget.main(["merge", str(first), str(third), str(third), "--out", str(out)])
    part = tmp_path / "cro_only.json"
    part.write_text(json.dumps(results([3], [("cro", [1, 1, 1, 1], [0] * 4)])))
    with pytest.raises(SystemExit, match=r"score these on the rest first: paired lr 0.0003 step 50 strength 1"):
        cro_budget.main(["merge", str(out), str(part), "--out", str(tmp_path / "x.json")])


def test_budget_plateau_compares_each_variant_with_its_longest_fine_tune():
    n = 60
    rng = np.random.default_rng(1)
    weak, strong = (rng.random(n) < 0.3).astype(float), np.ones(n)
    scores = [_score("cro", weak, np.zeros(n), steps=50), _score("cro", strong, np.zeros(n), steps=300),
              _score("cro", strong, np.ones(n), steps=1000), _score("paired", weak, np.zeros(n), steps=50)]
    rows = {(r["variant"], r["finetune_steps"]): r for r in cro_budget.plateau(scores)}
    assert set(rows) == {("cro", 50), ("cro", 300)}  # paired has one budget: nothing to compare it with
    short, enough = rows[("cro", 50)], rows[("cro", 300)]
    assert short["against_steps"] == 1000 and short["elimination_ci95"][1] < 0 and short["p"] < 0.01
    assert enough["elimination_difference"] == 0 and enough["p"] == 1.0
    assert enough["texture_difference"] == pytest.approx(-1)


def test_cohen_kappa_is_one_for_agreement_zero_for_chance_and_negative_for_opposition():
    a = np.array([True, True, False, False])
    assert judge_vs_eye.cohen_kappa(a, a) == 1.0
    assert judge_vs_eye.cohen_kappa(a, ~a) == -1.0
    assert abs(judge_vs_eye.cohen_kappa(a, np.array([True, False, True, False]))) < 1e-12


def _item(arm, eliminated, recreated=False, texture=0.0):
    return {"arm": arm, "scene": 0, "eliminated": eliminated, "recreated": recreated, "gain_db": 5.0,
            "family_share": 0.1, "texture_log2": texture}


def test_judge_vs_eye_weights_each_stratum_by_its_size_and_names_the_deciding_clause(tmp_path):
    # arm "m": the judge eliminates 3 of 4 scenes; 2 sampled from each stratum
    items = {"1": _item("m", True), "2": _item("m", True), "3": _item("m", False), "4": _item("m", False, True, 4.0)}
    key = {"arms": {"m": {"spec": "x", "judge_eliminated": 3, "scenes": 4}}, "items": items}
    (tmp_path / "key.json").write_text(json.dumps(key))
    a = {"1": ("gone", "blends"), "2": ("visible", "patch"), "3": ("gone", "patch"), "4": ("unclear", "patch")}
    (tmp_path / "a.json").write_text(json.dumps({n: {"object": o, "patch": p} for n, (o, p) in a.items()}))
    out = tmp_path / "r.json"
    judge_vs_eye.main(["score", "--key", str(tmp_path / "key.json"), "--labels", str(tmp_path / "a.json"),
                       "--out", str(out)])
    r = json.loads(out.read_text())
    row = r["arms"]["m"]
    assert row["judge_elimination"] == 75.0
    # gone in 1 of 2 judge-eliminated items, 1 of 1 sure judge-not item: 0.75 * 50 + 0.25 * 100
    assert row["eye_elimination_a"] == 62.5
    assert r["labellers"]["a"]["unclear"] == 1 and r["labellers"]["a"]["table"]["judge not, eye gone"] == 1
    assert r["judge_not_but_all_eyes_gone_by_clause"] == {"recreated": 0, "gain below 3 dB": 1}
    assert r["labellers"]["a"]["patch_when_texture_outside"] == 100.0
    (tmp_path / "b.json").write_text(json.dumps({"1": {"object": "gone"}}))
    with pytest.raises(SystemExit, match="lack an answer"):
        judge_vs_eye.main(["score", "--key", str(tmp_path / "key.json"), "--labels", str(tmp_path / "b.json"),
                           "--out", str(out)])
