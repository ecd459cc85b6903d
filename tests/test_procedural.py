"""Procedural scenes: deterministic, split by seed stream and family, context of one family."""

import numpy as np
import pytest
import torch

from eradiff_lite.data import (
    FAMILIES,
    HELDOUT_FAMILIES,
    TRAIN_FAMILIES,
    SceneDataset,
    load_triplets,
    make_scene,
    save_triplets,
)
from eradiff_lite.data.drawing import BACKGROUNDS, background


def test_scene_is_deterministic_and_seeds_differ():
    a, b = make_scene(5, 32), make_scene(5, 32)
    np.testing.assert_array_equal(a.triplet.x_obj, b.triplet.x_obj)
    c = make_scene(6, 32)
    assert not np.array_equal(a.triplet.x_obj, c.triplet.x_obj)


def test_splits_use_different_streams_and_families():
    train = {make_scene(s, 32, split="train").family for s in range(60)}
    held = {make_scene(s, 32, split="heldout").family for s in range(60)}
    assert train <= set(TRAIN_FAMILIES)
    assert set(HELDOUT_FAMILIES) & held, "held-out scenes include families never seen in training"
    assert not np.array_equal(make_scene(0, 32, split="train").triplet.x_ori,
                              make_scene(0, 32, split="heldout").triplet.x_ori)
    with pytest.raises(ValueError, match="not in split"):
        make_scene(0, 32, split="train", family="button")


@pytest.mark.parametrize("family", FAMILIES)
def test_triplet_invariants(family):
    scene = make_scene(11, 48, split="heldout", family=family)
    t = scene.triplet
    assert scene.family == family
    assert t.x_obj.shape == t.x_ori.shape == (48, 48, 3)
    assert t.mask.any() and t.mask.mean() < 0.3
    # the pasted object lies inside the mask: outside it, x_obj equals x_ori
    np.testing.assert_array_equal(t.x_obj[~t.mask], t.x_ori[~t.mask])
    assert np.abs(t.x_obj - t.x_ori)[t.mask].max() > 0.1
    x0, y0, x1, y1 = scene.box
    assert t.mask[y0:y1, x0:x1].sum() == t.mask.sum()
    assert t.x_obj.min() >= 0 and t.x_obj.max() <= 1


@pytest.mark.parametrize("kind", BACKGROUNDS)
def test_backgrounds(kind):
    img = background(kind, 24, np.random.default_rng(0))
    assert img.shape == (24, 24, 3) and img.dtype == np.float32
    assert img.std() > 0.005 or kind == "gradient"
    with pytest.raises(ValueError, match="unknown background"):
        background("marble", 24, np.random.default_rng(0))


def test_bad_scene_arguments():
    with pytest.raises(ValueError, match="split"):
        make_scene(0, 32, split="test")
    with pytest.raises(ValueError, match="16"):
        make_scene(0, 8)


def test_dataset_items():
    ds = SceneDataset(4, 32, split="train", first_seed=10)
    item = ds[1]
    assert item["x_obj"].shape == (3, 32, 32) and item["mask"].shape == (1, 32, 32)
    assert item["x_obj"].min() >= -1 and item["x_obj"].max() <= 1
    assert set(torch.unique(item["mask"]).tolist()) == {0.0, 1.0}
    assert FAMILIES[int(item["family"])] == ds.scene(1).family
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["x_ori"].shape == (4, 3, 32, 32)
    with pytest.raises(IndexError):
        ds[4]
    with pytest.raises(ValueError):
        SceneDataset(0)


def test_save_and_load_triplets(tmp_path):
    triplets = [make_scene(s, 32).triplet for s in range(3)]
    folder = save_triplets(triplets, tmp_path / "set", meta={"profile": "smoke"})
    assert not (tmp_path / "set.partial").exists()
    back = load_triplets(folder)
    assert len(back) == 3
    for a, b in zip(triplets, back):
        np.testing.assert_array_equal(a.mask, b.mask)
        np.testing.assert_allclose(a.x_obj, b.x_obj, atol=1 / 255)


def test_photo_triplets_keep_natural_object_size():
    from eradiff_lite.data import PhotoTripletDataset

    photo = np.full((100, 200, 3), 0.3, np.float32)
    cut = np.zeros((20, 20, 4), np.float32)
    cut[..., 0] = 1.0
    cut[..., 3] = 1.0
    ds = PhotoTripletDataset([photo], [cut], length=4, size=50, scale=(1.0, 1.0))
    t = ds.triplet(0)
    # natural scale: 50 px / mean side 150 px; a 20 px object becomes about 7 px (mask grown by 1 px)
    side = np.sqrt(t.mask.sum())
    assert 6 <= side <= 11, side
    assert ds[0]["x_obj"].shape == (3, 50, 50)


def test_a_scene_can_be_asked_for_a_background_of_its_family():
    for kind in ("wood", "gradient", "photo"):
        assert make_scene(3, 32, family="orange", background_kind=kind).background == kind
    with pytest.raises(ValueError, match="sits on wood"):
        make_scene(3, 32, family="pepperoni", background_kind="tiles")
