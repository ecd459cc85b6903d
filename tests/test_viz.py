"""The course's pictures: what each panel of a figure shows."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from eradiff_lite.data import make_scene  # noqa: E402
from eradiff_lite.models.lite import build_lite_unet, build_scheduler  # noqa: E402
from eradiff_lite.pipeline import EraseDiffusionPipeline  # noqa: E402
from eradiff_lite.profiles import get_profile  # noqa: E402
from eradiff_lite.viz import as_image, show_sampling  # noqa: E402


def test_show_sampling_puts_x_t_above_the_estimate_of_the_same_step():
    torch.manual_seed(0)
    pipe = EraseDiffusionPipeline(unet=build_lite_unet(get_profile("smoke")), scheduler=build_scheduler())
    scene = make_scene(0, 32, split="heldout")
    out = pipe(scene.triplet.x_obj, scene.triplet.mask, num_inference_steps=5, return_trajectory=True,
               generator=torch.Generator().manual_seed(0))
    fig = show_sampling(out, columns=3, label="baseline")
    axes = np.array(fig.axes).reshape(2, 4)
    assert [a.get_title() for a in axes[0]] == [f"t={out.timesteps[k]}" for k in (0, 2, 4)] + ["result"]
    assert axes[0, 0].get_ylabel() == "baseline x_t" and axes[1, 0].get_ylabel() == "baseline x0_hat"
    shown = axes[1, 1].get_images()[0].get_array()
    assert np.allclose(shown, as_image(out.predicted_x0[2][0]))
    assert np.allclose(axes[0, 0].get_images()[0].get_array(), as_image(out.trajectory[1][0]))
    assert not axes[1, 3].axison  # the result has no estimate under it
    with pytest.raises(ValueError, match="return_trajectory"):
        show_sampling(pipe(scene.triplet.x_obj, scene.triplet.mask, num_inference_steps=2))


def test_heatmap_pairs_share_one_colour_scale_per_row():
    from eradiff_lite.viz import show_heatmap_pairs

    a, b = np.zeros((4, 4)), np.full((4, 4), 3.0)
    c, d = np.ones((2, 2)), np.full((2, 2), 10.0)
    mask = np.zeros((8, 8), bool)
    mask[2:5, 2:5] = True
    fig = show_heatmap_pairs({"layer 1": (a, b), "layer 2": (c, d)}, picture=np.zeros((8, 8, 3)), mask=mask)
    maps = [im for ax in fig.axes for im in ax.get_images() if im.get_cmap().name == "magma"]
    assert [im.get_clim() for im in maps] == [(0.0, 3.0), (0.0, 3.0), (1.0, 10.0), (1.0, 10.0)]
    assert len(fig.axes) == 3 * 2 + 2  # the picture's row, then 2 rows of 2 maps, and one colour bar per row
    pictures = [im for ax in fig.axes for im in ax.get_images() if im.get_cmap().name != "magma"]
    assert len(pictures) == 1 and fig.axes[0].get_images()  # the picture once, above the rows
    assert fig.axes[2].get_ylabel() == "layer 1" and fig.axes[4].get_ylabel() == "layer 2"  # rows titled
    one = show_heatmap_pairs({"layer 1": (a, b)}, picture=np.zeros((8, 8, 3)), mask=mask)  # one row: beside it
    assert len(one.axes) == 3 + 1 and one.axes[0].get_images() and one.axes[1].get_ylabel() == "layer 1"


def _fill_row(name, smooth, textured, elimination, reference=False):
    row = {"name": name, "erase": {"smooth": {"within": smooth}, "textured": {"within": textured},
                                   "elimination": elimination}}
    return {**row, "reference": True} if reference else row


def test_plot_fill_study_draws_each_arm_its_weights_the_references_and_the_recipe_arrows():
    import matplotlib.pyplot as plt

    from eradiff_lite.train.report import fill_study_arms, plot_fill_study

    fill_study = {"benchmark": {"seeds": "0..127"}, "rows": [
        _fill_row("truth", 100, 100, 0, reference=True), _fill_row("flat", 40, 5, 0, reference=True),
        _fill_row("continue (EMA)", 10, 30, 20), _fill_row("continue (raw weights)", 12, 31, 21),
        _fill_row("paired_hole (EMA)", 60, 55, 80), _fill_row("scratch_stem at 300 steps (EMA)", 5, 20, 10)]}
    change = {"within_before": 25.0, "within_after": 45.0}
    recipe_check = {"rows": [
        {"half": "128-255 (not used to choose)", "variant": v, "texture_smooth": change, "texture_textured": change,
         "elimination_before": 78.0, "elimination_after": 71.0} for v in ("paired", "cro")]
        + [{"half": "0-127", "variant": "paired", "texture_smooth": change, "texture_textured": change,
            "elimination_before": 1.0, "elimination_after": 2.0}]}
    assert list(fill_study_arms(fill_study)) == ["continue", "paired_hole", "scratch_stem at 300 steps"]
    fig = plot_fill_study(fill_study, recipe_check)
    top, bottom = fig.axes[:3], fig.axes[3:6]
    assert [t.get_text() for t in top[0].get_yticklabels()] == ["continue", "paired_hole", "scratch_stem at 300 steps"]
    dots = [line for line in top[0].lines if len(line.get_xdata()) == 1]
    assert len(dots) == 4  # continue's EMA and raw, paired_hole, scratch
    assert {float(line.get_xdata()[0]) for line in top[2].lines if len(line.get_xdata()) == 2} == {0.0}  # refs
    assert sorted(float(line.get_xdata()[0]) for line in top[0].lines if len(line.get_xdata()) == 2) == [40.0, 100.0]
    assert [t.get_text() for t in bottom[0].get_yticklabels()] == ["paired", "cro"]  # the other half left out
    assert len(bottom[2].texts) == 2 and "scenes 0-127" in top[0].get_ylabel() and "128-255" in bottom[0].get_ylabel()
    assert all(ax.get_xlabel() for ax in bottom) and fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="nothing to draw"):
        plot_fill_study(fill_study, {"rows": []})


def test_the_learning_curve_fits_its_axis_to_the_curve_and_names_a_far_reference():
    from eradiff_lite.train.report import plot_learning_curve

    rows = [{"images": n, "scores": {"inpaint": {"masked_psnr": 15 + k}, "erase": {"masked_psnr": 15.6 - k}}}
            for k, n in enumerate((100, 200, 300))]
    refs = {"flat": {"inpaint": {"masked_psnr": 16.3}, "erase": {"masked_psnr": 39.0}}}
    fig = plot_learning_curve({"run": "baseline", "scenes": 4, "rows": rows}, refs)
    inpaint, erase = fig.axes
    assert inpaint.get_ylim()[0] <= 15 and inpaint.get_ylim()[1] < 20  # the near reference is drawn and fits
    assert [t.get_text() for t in inpaint.get_legend().get_texts()] == ["baseline", "flat"]
    assert erase.get_ylim()[1] < 20  # the fall 15.6 -> 13.6 dB keeps the axis, not the flat fill's 39 dB
    assert "flat: 39.0 dB (above the axis)" in [t.get_text() for t in erase.get_legend().get_texts()]


def test_hole_crop_cuts_the_square_around_the_hole_and_repeats_each_pixel():
    from eradiff_lite.viz import hole_crop

    image = np.arange(32 * 32 * 3, dtype=np.float32).reshape(32, 32, 3)
    mask = np.zeros((32, 32), bool)
    mask[10:14, 12:20] = True  # 4 rows x 8 columns: the square side is 8 + 2 x 2
    crop = hole_crop(image, mask, margin=2, scale=3)
    assert crop.shape == (12 * 3, 12 * 3, 3)
    small = crop[::3, ::3]
    assert np.array_equal(small, image[6:18, 10:22])  # centred on the hole's box, rows and columns alike
    assert np.array_equal(crop[:3, :3], np.broadcast_to(image[6, 10], (3, 3, 3)))  # nearest neighbour: no blending
    edge = np.zeros((32, 32), bool)
    edge[0:3, 29:32] = True  # at the corner: shifted inside, not shrunk
    assert np.array_equal(hole_crop(image, edge, margin=4, scale=1), image[0:11, 21:32])
    signed = hole_crop(image - 1000.0, mask, margin=2, scale=1)  # a difference keeps its sign, no clipping
    assert signed.min() < 0
    tensor = torch.zeros(3, 32, 32)  # a [-1, 1] tensor: shown as a picture, as every panel of the course
    assert hole_crop(tensor, torch.from_numpy(mask)[None], margin=0, scale=2).shape == (16, 16, 3)
    with pytest.raises(ValueError, match="no hole"):
        hole_crop(image, np.zeros((32, 32), bool))
    with pytest.raises(ValueError, match="picture's size"):
        hole_crop(image, np.ones((16, 16), bool))


def test_heatmap_pairs_wrap_a_long_row_on_one_colour_scale():
    from eradiff_lite.viz import show_heatmap_pairs

    maps = tuple(np.full((4, 4), float(k)) for k in range(7))
    mask = np.zeros((8, 8), bool)
    mask[2:5, 2:5] = True
    fig = show_heatmap_pairs({"change": maps}, columns=[f"layer {k}" for k in range(7)], picture=np.zeros((8, 8, 3)),
                             mask=mask, wrap=4)
    drawn = [ax for ax in fig.axes if any(im.get_cmap().name == "magma" for im in ax.get_images())]
    assert [ax.get_title() for ax in drawn] == [f"layer {k}" for k in range(7)]  # every map keeps its title
    assert {im.get_clim() for ax in drawn for im in ax.get_images()} == {(0.0, 6.0)}  # one scale for the row
    assert len(fig.axes) == 2 * 5 + 1  # two lines of the picture's column and four maps, one colour bar
    assert sum(ax.axison for ax in fig.axes) == 1 + 7 + 1  # the picture, the seven maps and the bar
