"""The build exercises of notebooks 06 and 07: the elimination judge, the paired bootstrap interval, and the SRA
processor of notebook 04 on Stable Diffusion's UNet. Each check accepts its solution (and `solved(name)`), rejects
the notebook's first guess, and names the symptom of each typical mistake, not the answer."""

import numpy as np
import pytest

from eradiff_lite.exercises import (
    EXERCISES,
    NotYet,
    answer_from_source,
    bootstrap_build,
    check,
    eval_build,
    hint,
    sd_build,
    solved,
    sra_build,
)

NAMES = ("elimination_judge", "paired_bootstrap_ci", "sra_processor_sd")


@pytest.mark.parametrize("name", NAMES)
def test_the_solution_and_solved_pass_the_stub_does_not(name, capsys):
    exercise = EXERCISES[name]
    exercise.grade(answer_from_source(exercise.solution))
    assert check(name, solved(name)) is True
    assert check(name, answer_from_source(exercise.wrong)) is False
    out = capsys.readouterr().out
    assert out.startswith(f"correct ({name})") and f"not yet ({name}): " in out
    assert hint(name, 1) != hint(name, 2)  # both tiers written for it


def test_the_judge_solution_is_the_package_judge():
    from eradiff_lite.metrics.judge import judge

    eval_build.grade_judge(judge)


# (the template's lines, a word of the symptom the message must name)
JUDGE_MISTAKES = {
    "the whole picture instead of the hole": (dict(pixels="fill.reshape(-1, 3)"), "OUTSIDE the hole"),
    "PSNR gain over the whole image": (dict(gain="masked_psnr(fill, t.x_ori, np.ones_like(t.mask)) - "
                                                 "masked_psnr(t.x_obj, t.x_ori, np.ones_like(t.mask))"),
                                       "OUTSIDE the hole"),
    "RMSE ratio over the whole image": (dict(gain="-20 * np.log10(np.sqrt(np.mean((fill - t.x_ori) ** 2)) / "
                                                  "np.sqrt(np.mean((t.x_obj - t.x_ori) ** 2)))"), "OUTSIDE the hole"),
    "the gain inverted": (dict(gain="masked_psnr(t.x_obj, t.x_ori, t.mask) - masked_psnr(fill, t.x_ori, t.mask)"),
                          "the other way round"),
    "the share inverted": (dict(share="np.mean(~nearer_family)"), "counts the other palette"),
    "the fill's own PSNR, not its gain": (dict(gain="masked_psnr(fill, t.x_ori, t.mask)"), "gains 0 dB"),
    "the re-creation threshold reversed": (dict(recreated="share < 0.5"), "the judge calls it the other way"),
    "the margin's direction reversed": (dict(eliminated="not recreated and gain <= 3.0"),
                                        "the true background (family share 0%, +88.8 dB"),
    "no margin": (dict(eliminated="not recreated"), "+2.2 dB closer"),
    "the margin alone": (dict(eliminated="gain >= 3.0"), "yours says re-created, eliminated"),
}


@pytest.mark.parametrize("mistake", list(JUDGE_MISTAKES))
def test_the_judge_check_names_the_symptom_of_each_mistake(mistake, capsys):
    lines, symptom = JUDGE_MISTAKES[mistake]
    assert check("elimination_judge", answer_from_source(eval_build.source(**lines))) is False
    out = capsys.readouterr().out
    assert out.startswith("not yet (elimination_judge): judge: on held-out scene") and symptom in out, out
    assert "not recreated and gain >= 3.0" not in out and "fill[t.mask]" not in out  # never the answer
    assert "MOSTLY" not in out and "over half" not in out and "AND at least" not in out  # nor the rules


def test_the_judge_check_survives_crashes_and_wrong_kinds(capsys):
    assert check("elimination_judge", lambda fill, scene: 1 / 0) is False
    assert "raised ZeroDivisionError" in capsys.readouterr().out
    assert check("elimination_judge", lambda fill, scene: True) is False
    assert "return a dict with the keys family_share" in capsys.readouterr().out


_B = bootstrap_build.SOLUTION
_DRAW = "rng.integers(0, diff.size, (resamples, diff.size))"
BOOTSTRAP_MISTAKES = {
    "unpaired: each model's scenes resampled on their own": (
        _B.replace("means = diff[rows].mean(axis=1)", "means = np.asarray(a)[rows].mean(1) - "
                   "np.asarray(b)[rng.integers(0, diff.size, (resamples, diff.size))].mean(1)"),
        "do not keep each scene's two values together"),
    "no replacement (a permutation per resample)": (
        _B.replace(_DRAW, "np.stack([rng.permutation(diff.size) for _ in range(resamples)])"), "has no width"),
    "the percentiles of a 90 % interval": (_B.replace("tail = (1 - level) / 2 * 100", "tail = (1 - level) * 100"),
                                           "leaves 2.5% on each side"),
    "the level ignored (always 2.5 and 97.5)": (_B.replace("tail = (1 - level) / 2 * 100", "tail = 2.5"),
                                                "does not change with the level"),
    "the percentiles of single scenes' differences": (_B.replace("np.percentile(means, [", "np.percentile(diff, ["),
                                                      "holds (nearly) every resampled mean"),
    "another random generator": (_B.replace(_DRAW, "np.random.RandomState(seed).randint(0, diff.size, (resamples, "
                                                   "diff.size))"), "not the package's draw for draw"),
    "no seed": (_B.replace("default_rng(seed)", "default_rng()"), "two calls with seed 3 gave"),
    "the mean the other way round": (_B.replace("'mean': float(diff.mean())", "'mean': float(-diff.mean())"),
                                     "b - a, the other way round"),
}


@pytest.mark.parametrize("mistake", list(BOOTSTRAP_MISTAKES))
def test_the_bootstrap_check_names_the_symptom_of_each_mistake(mistake, capsys):
    source, symptom = BOOTSTRAP_MISTAKES[mistake]
    assert source != _B
    assert check("paired_bootstrap_ci", answer_from_source(source)) is False
    out = capsys.readouterr().out
    assert out.startswith("not yet (paired_bootstrap_ci): paired bootstrap: ") and symptom in out, out


@pytest.mark.parametrize("draw", ["rng.choice(diff.size, (resamples, diff.size))",
                                  "np.stack([rng.integers(0, diff.size, diff.size) for _ in range(resamples)])"])
def test_the_bootstrap_check_accepts_the_same_draws_written_otherwise(draw, capsys):
    source = _B.replace(_DRAW, draw).replace("np.percentile(means, [tail, 100 - tail])",
                                             "np.quantile(means, [tail / 100, 1 - tail / 100])")
    assert check("paired_bootstrap_ci", answer_from_source(source)) is True


def test_the_bootstrap_solution_is_the_package_function_and_the_stub_is_unpaired():
    from eradiff_lite.metrics.paired import paired_bootstrap

    bootstrap_build.grade_paired_bootstrap(paired_bootstrap)
    a, b = bootstrap_build._scores()
    stub = answer_from_source(bootstrap_build.STUB)(a, b, resamples=2000)
    paired = paired_bootstrap(a, b, resamples=2000)
    assert stub["high"] - stub["low"] > 4 * (paired["high"] - paired["low"])  # the scene effect left in
    with pytest.raises(NotYet, match="do not keep each scene's two values together"):
        bootstrap_build.grade_paired_bootstrap(answer_from_source(bootstrap_build.STUB))
    assert np.isclose(stub["mean"], paired["mean"])


# the processor of notebook 04 on SD's UNet: (the class's source, a word of the symptom)
_S = sra_build.SOLUTION
_FALLBACK = "return self.fallback(attn, hidden_states, encoder_hidden_states, attention_mask, temb, **kwargs)"
SD_MISTAKES = {
    "masked keys blocked for every query": (
        sra_build.source(allowed="~m[:, None, None, :].expand(-1, 1, m.shape[1], -1) | m.all(dim=1)[:, None, None, "
                                 "None]"), "tokens OUTSIDE the hole"),
    "the mask average-pooled": (sra_build.source(m="F.adaptive_avg_pool2d(mask, hw).flatten(1) > 0.5"),
                                "PARTLY covered"),
    "cross-attention skipped": (_S.replace(_FALLBACK, "return hidden_states"), "cross-attention must reach"),
    "cross-attention handed over without the text": (_S.replace(_FALLBACK, "return self.fallback(attn, "
                                                                           "hidden_states)"),
                                                     "a cross-attention call raised"),
    "no plain attention where the hole fills the grid": (
        sra_build.source(allowed="~(m[:, None, :, None] & m[:, None, None, :])"), "NaN"),
    "the mask not repeated for classifier-free guidance": (_S.replace("m = m.repeat(q.shape[0] // m.shape[0], 1)",
                                                                      "pass"), "doubled batch"),
}


@pytest.mark.parametrize("mistake", list(SD_MISTAKES))
def test_the_sd_processor_check_names_the_symptom_of_each_mistake(mistake, capsys):
    source, symptom = SD_MISTAKES[mistake]
    assert source != _S
    assert check("sra_processor_sd", answer_from_source(source)) is False
    out = capsys.readouterr().out
    assert out.startswith("not yet (sra_processor_sd): on SD's UNet") and symptom in out, out


def test_the_sd_stub_is_notebook_04s_first_guess_and_the_check_restores_the_unet(capsys):
    from eradiff_lite.sra import SelfRectifyingAttnProcessor

    assert sd_build.STUB == sd_build.PASTE + sra_build.STUB and sd_build.SOLUTION == sra_build.SOLUTION
    assert check("sra_processor_sd", answer_from_source(sd_build.STUB)) is False
    assert "tokens OUTSIDE the hole" in capsys.readouterr().out
    assert check("sra_processor_sd", SelfRectifyingAttnProcessor) is True
    assert check("sra_processor_sd", lambda state, fallback: None) is False
    assert "hand in the class itself" in capsys.readouterr().out
    unet, mask = sd_build.tiny_unet(), sd_build._inputs()[0][1]
    before = dict(unet.attn_processors)
    with sd_build.installed(unet, SelfRectifyingAttnProcessor, mask):
        sra = {name for name, p in unet.attn_processors.items() if isinstance(p, SelfRectifyingAttnProcessor)}
        assert sra == {name for name in before if ".attn1." in name} and len(sra) == 4  # self-attention only
    assert unet.attn_processors == before
