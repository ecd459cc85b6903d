"""The recipe study's plumbing: arm configs, the fast measures, a learning curve over checkpoints (smoke sizes)."""

import json

import numpy as np
import pytest

from eradiff_lite.experiments.fast_scores import learning_curve, score_folder
from eradiff_lite.experiments.recipe_study import ARMS, arm_config, markdown_table
from eradiff_lite.metrics.fill import erase_ratio, flat_fill, hf_ratio
from eradiff_lite.train.loop import train


def test_every_arm_is_a_valid_config_with_the_same_budget():
    configs = {arm: arm_config(arm, 24576) for arm in ARMS}
    assert {c.steps * c.batch_size for c in configs.values()} == {24576}
    assert configs["eps_cosine"].prediction_type == "epsilon" and configs["x0_cosine"].prediction_type == "sample"
    assert not configs["x0_cosine_pool2048"].fresh_scenes and configs["x0_cosine"].fresh_scenes
    with pytest.raises(ValueError, match="unknown arm"):
        arm_config("x0_bogus", 10)


def test_fill_measures_on_known_cases():
    rng = np.random.default_rng(0)
    x_ori = rng.uniform(0, 1, (16, 16, 3)).astype(np.float32)
    mask = np.zeros((16, 16), bool)
    mask[4:10, 4:10] = True
    x_obj = x_ori.copy()
    x_obj[mask] = [1.0, 0.0, 0.0]
    assert erase_ratio(x_obj, x_obj, x_ori, mask) == pytest.approx(1.0)
    assert erase_ratio(x_ori, x_obj, x_ori, mask) == 0.0
    assert hf_ratio(x_ori, x_ori, mask) == pytest.approx(1.0)
    flat = flat_fill(x_obj, mask)
    assert np.ptp(flat[mask], axis=0).max() == 0 and np.array_equal(flat[~mask], x_obj[~mask])
    assert hf_ratio(flat, x_ori, mask) < 0.5  # a flat fill has less texture than the truth


def test_curve_and_table_from_a_tiny_run(tmp_path):
    from eradiff_lite.profiles import get_profile
    from eradiff_lite.train.config import make_config

    cfg = make_config("baseline", get_profile("smoke"), steps=2, checkpoint_every=1, keep_checkpoints=5)
    train(cfg, tmp_path / "run", stop_at=2, progress=False)  # stopped: no exported pipeline yet
    rows = learning_curve(tmp_path / "run", scenes=3)
    assert [r["step"] for r in rows] == [1, 2] and rows[1]["images"] == 2 * cfg.batch_size
    assert {"inpaint", "erase"} == set(rows[0]["scores"]) and np.isfinite(rows[0]["scores"]["erase"]["masked_psnr"])
    train(cfg, tmp_path / "run", resume=True, progress=False)
    scores = score_folder(tmp_path / "run", scenes=3, seeds=1, steps=2)
    table = {"rows": [{"arm": "x0_cosine", "overrides": {}, "images": 8, "train_seconds": 1.0, "scores": scores}],
             "references": {"flat": scores}}
    md = markdown_table(json.loads(json.dumps(table)))
    assert md.count("\n") == 4 and "| x0_cosine | (the base) | 8 |" in md
