"""The course's measures, registered in the order of the results file (`metrics.registry`).

Per scene: ``p_present`` (the presence classifier on the box crop, `presence.py`), ``masked_psnr`` and
``masked_ssim`` against ``x_ori`` inside the mask (`coherence.py`), ``lpips`` (the perceptual distance on whole
images, `perceptual.py`), ``eliminated`` and ``recreated`` (the colour judge, `judge.py`), ``near`` (a same-family
object within 3 px: the bucket), ``erase_ratio`` (`fill.py`), ``texture_log2`` (`texture.py`). The table's numbers
summarise them; ``fid`` and ``local_fid`` (`frechet.py`) are set-level. ``hf_ratio`` survives in older results only.
"""

from __future__ import annotations

import numpy as np

from .coherence import masked_psnr, masked_ssim
from .crops import box_crops
from .fill import erase_ratio
from .frechet import fid_score
from .judge import judge
from .registry import Metric, PerScene, ScoreInputs, register_metric, register_per_scene
from .texture import texture_log2, texture_summary


def _pairs(inputs: ScoreInputs):
    """``(erased picture, scene)`` of every scene."""
    return zip(inputs.images, inputs.bench.scenes)


def _crops(inputs: ScoreInputs):
    return inputs.shared("crops", lambda: box_crops(inputs.out, inputs.bench.boxes))


def _verdicts(inputs: ScoreInputs) -> list[dict]:
    return inputs.shared("verdicts", lambda: [judge(im, s) for im, s in _pairs(inputs)])


def _coherence(measure):
    return lambda inputs: np.array([measure(im, s.triplet.x_ori, m)
                                    for (im, s), m in zip(_pairs(inputs), inputs.bench.masks)])


def _texture(which: str, what: str):
    """The median (or the share within the band, as a fraction) of ``texture_log2`` over smooth or textured holes."""
    def reduce(values: np.ndarray, inputs: ScoreInputs) -> float:
        textured = inputs.bucket("textured")
        summary = texture_summary(values[textured if which == "textured" else ~textured])
        return summary["median"] if what == "median" else summary["within"] / 100
    return reduce


def _fid(crops: bool):
    def compute(inputs: ScoreInputs) -> float:
        to01 = lambda x: (x + 1) / 2  # noqa: E731 - FID metrics take [0, 1]
        if crops:
            real = inputs.shared("real_crops", lambda: box_crops(inputs.tensors["x_ori"], inputs.bench.boxes))
            return fid_score(to01(real), to01(_crops(inputs)), inputs.kit.fid_features)
        return fid_score(to01(inputs.tensors["x_ori"]), to01(inputs.out), inputs.kit.fid_features)
    return compute


def _near_mean(values: np.ndarray, inputs: ScoreInputs) -> float:
    near = inputs.bucket("near")
    return float(values[near].mean()) if near.any() else float("nan")


for _values in (
    PerScene("p_present", lambda i: i.kit.presence.prob_present(_crops(i)).numpy(), "p(object present) on the crop"),
    PerScene("masked_psnr", _coherence(masked_psnr), "dB inside the mask vs x_ori", keep=True),
    PerScene("masked_ssim", _coherence(masked_ssim), "SSIM inside the mask vs x_ori", keep=True),
    PerScene("lpips", lambda i: i.kit.perceptual(i.out, i.tensors["x_ori"]).numpy(), "perceptual distance"),
    PerScene("eliminated", lambda i: np.array([v["eliminated"] for v in _verdicts(i)]), "the colour judge: erased",
             keep=True, summary="share"),
    PerScene("recreated", lambda i: np.array([v["recreated"] for v in _verdicts(i)]), "the colour judge: re-created",
             keep=True, summary="share"),
    PerScene("near", lambda i: i.bucket("near"), "a same-family object within 3 px of the hole", summary="share"),
    PerScene("erase_ratio", lambda i: np.array([erase_ratio(im, s.triplet.x_obj, s.triplet.x_ori, s.triplet.mask)
                                                for im, s in _pairs(i)]),
             "RMSE(out, x_ori) / RMSE(x_obj, x_ori)", keep=True),
    PerScene("texture_log2", lambda i: np.array([texture_log2(im, s.triplet.x_ori, s.triplet.mask)
                                                 for im, s in _pairs(i)]),
             "log2 of the fill's texture over the truth's", keep=True, summary="median",
             extra={"texture_within": lambda v: texture_summary(v)["within"]}),
    PerScene("hf_ratio", None, "(older results only) the fill's high-frequency energy over the truth's",
             summary="median"),
):
    register_per_scene(_values)

_WITHIN = "texture log2 ratio lies within +-1.5"
for _metric in (
    Metric("elimination", "% of scenes the colour judge calls erased (metrics/judge.py; higher is better)", "higher",
           "eliminated", percent=True, paired=True, column=("elimination %", 1)),
    Metric("recreation", "% of scenes whose hole is painted mostly in the object family's colours (lower is better)",
           "lower", "recreated", percent=True, paired=True),
    Metric("recreation_near", "recreation on the scenes with a same-family object within 3 px of the hole", "lower",
           "recreated", _near_mean, percent=True),
    Metric("erase_ratio_share", "% of scenes with RMSE(out, x_ori) / RMSE(x_obj, x_ori) < 0.5 (rewards blur)",
           "higher", "erase_ratio", lambda v, i: float((v < 0.5).mean()), percent=True),
    Metric("texture_smooth_median", "median over smooth holes of log2((E_fill + f) / (E_truth + f)), E the mean "
           "squared Laplacian inside the hole less 1 px, f = 1e-3 (0 = the truth's texture; > 0 speckle, < 0 blur; "
           "metrics/texture.py)", "zero", "texture_log2", _texture("smooth", "median")),
    Metric("texture_smooth_within", f"% of smooth holes whose {_WITHIN}", "higher", "texture_log2",
           _texture("smooth", "within"), percent=True),
    Metric("texture_textured_median", "as texture_smooth_median, over textured holes", "zero", "texture_log2",
           _texture("textured", "median")),
    Metric("texture_textured_within", f"% of textured holes whose {_WITHIN}", "higher", "texture_log2",
           _texture("textured", "within"), percent=True),
    Metric("hf_ratio", "(older results only) median of the fill's high-frequency energy over the truth's", "none"),
    Metric("elimination_classifier", "% of scenes the presence classifier calls object-free", "higher", "p_present",
           lambda v, i: float((v < 0.5).mean()), percent=True),
    Metric("masked_psnr", "dB inside the mask vs x_ori, capped at 100 (higher is better)", "higher", "masked_psnr",
           paired=True, column=("masked PSNR", 2)),
    Metric("masked_ssim", "masked average of the SSIM map vs x_ori (higher is better)", "higher", "masked_ssim",
           column=("masked SSIM", 3)),
    Metric("lpips", "perceptual distance to x_ori on whole images (lower is better)", "lower", "lpips",
           column=("LPIPS*", 3)),
    # whole-image FID: in the results file, not in the table (`results.format_table` says why)
    Metric("fid", "Frechet distance, whole images vs x_ori (lower is better)", "lower", compute=_fid(False)),
    Metric("local_fid", "Frechet distance, crops around the box vs x_ori crops (lower is better)", "lower",
           compute=_fid(True), column=("local FID*", 2)),
):
    register_metric(_metric)
