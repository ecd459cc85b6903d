"""Each exercise's check accepts its solution and rejects the typical wrong answer, with a hint."""

import pytest
import torch

from eradiff_lite.exercises import EXERCISES, NotYet, answer_from_source, check, solution
from eradiff_lite.exercises.references import reference_name


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_check_accepts_the_solution_and_rejects_the_typical_mistake_with_a_hint(name, capsys):
    exercise = EXERCISES[name]
    exercise.grade(answer_from_source(exercise.solution))  # no NotYet
    with pytest.raises(NotYet) as hint:
        exercise.grade(answer_from_source(exercise.wrong))
    assert "differs from the reference" not in str(hint.value), "the typical mistake should get its own hint"
    assert check(name, answer_from_source(exercise.solution)) is True
    passed = capsys.readouterr().out
    assert check(name, answer_from_source(exercise.wrong)) is False
    out = capsys.readouterr().out
    assert passed.startswith(f"correct ({name})") and f"not yet ({name})" in out
    # a pass points at the package's version in one line (tests/test_exercises_reference.py); a failure does not
    pointer = f"compare with the package's version: reference({name!r})  ({reference_name(name)})"
    assert passed.splitlines()[1] == pointer and passed.count("reference(") == 1 and "reference(" not in out
    assert solution(name) == exercise.solution


def test_answers_of_the_wrong_kind_get_a_plain_hint(capsys):
    assert check("mixup_lambdas", lambda ab: ab.numpy()) is False
    assert "return a torch tensor" in capsys.readouterr().out
    assert check("mixup_lambdas", lambda ab: (1 - ab).mean()) is False
    assert "expected shape" in capsys.readouterr().out
    assert check("ddim_jump", lambda x_t, eps, a_t, a_s: x_t + 0.01 * torch.ones_like(x_t)) is False
    assert "a jump to the clean end (a_s = 1) should give the clean image" in capsys.readouterr().out  # the symptom
    assert check("eps_from_x0", lambda x_t, x0, a: x_t + 0.01) is False
    assert "differs from the reference" not in (out := capsys.readouterr().out) and "misses x_t by up to" in out
    assert check("mask_from_alpha", lambda alpha: torch.from_numpy(alpha > 0.5)) is False  # numpy in, numpy out
    assert "return a boolean H x W array" in capsys.readouterr().out
    assert check("mask_from_alpha", lambda alpha: (alpha > 0.5).astype("float32")) is False
    assert "got float32 (a comparison gives bools)" in capsys.readouterr().out
    assert check("eq10", lambda m: torch.ones(m.shape[0], m.shape[1], m.shape[1], dtype=torch.bool)) is False
    assert "differs from Eq. 10's on 8 of 8 'hole query, hole key' pairs" in capsys.readouterr().out

    def kappa_without_the_clean_end(t, gamma, alphas_cumprod):  # s < 0 read from the end of the schedule
        a_t, a_s = alphas_cumprod[t], alphas_cumprod[t - gamma]
        p, q = (a_s * (1 - a_t)).sqrt(), (a_t * (1 - a_s)).sqrt()
        return (p * (1 - a_s) - q * (1 - a_t)) / (p - q)

    assert check("x0_kappa", kappa_without_the_clean_end) is False
    assert "t = 50, gamma = 100" in (out := capsys.readouterr().out) and "negative index" in out
    assert check("x0_kappa", lambda t, gamma, alphas_cumprod: float(1 - alphas_cumprod[t])) is False
    assert "return a 0-d torch tensor" in capsys.readouterr().out
    with pytest.raises(KeyError, match="no exercise"):
        check("nope", None)


# the build exercise of notebook 01: typical wrong composites, each as the notebook's learner might write it
_COMPOSITE_HEAD = ("def my_composite(background, cutout, top_left):\n    import numpy as np\n"
                   "    (H, W), (h, w), (y, x) = background.shape[:2], cutout.shape[:2], top_left\n"
                   "    y0, y1, x0, x1 = max(y, 0), min(y + h, H), max(x, 0), min(x + w, W)\n"
                   "    part = cutout[y0 - y:y1 - y, x0 - x:x1 - x]\n    a = part[..., 3:]\n"
                   "    x_obj = background.copy()\n")
_BLEND = "    x_obj[y0:y1, x0:x1] = x_obj[y0:y1, x0:x1] * (1 - a) + part[..., :3] * a\n"
_MASK = "    mask = np.zeros((H, W), bool)\n    mask[y0:y1, x0:x1] = a[..., 0] > 0.5\n"
_KEEP = "    x_obj = np.where(mask[..., None], x_obj, background)\n"
WRONG_COMPOSITES = {
    "no alpha blending": (_COMPOSITE_HEAD + "    x_obj[y0:y1, x0:x1] = part[..., :3]\n" + _MASK + _KEEP
                          + "    return x_obj, background.copy(), mask\n", "partly opaque"),
    "mask not thresholded": (_COMPOSITE_HEAD + _BLEND + "    mask = np.zeros((H, W), np.float32)\n"
                             "    mask[y0:y1, x0:x1] = a[..., 0]\n" + _KEEP.replace("mask[", "(mask > 0.5)[")
                             + "    return x_obj, background.copy(), mask\n", "not the soft alpha"),
    "mask of any alpha": (_COMPOSITE_HEAD + _BLEND + _MASK.replace("> 0.5", "> 0") + _KEEP
                          + "    return x_obj, background.copy(), mask\n", "faint"),
    "x_obj changed outside the mask": (_COMPOSITE_HEAD + _BLEND + _MASK + "    return x_obj, background.copy(), mask\n",
                                       "outside the mask"),
    "no clipping at the border": ("def my_composite(background, cutout, top_left):\n    import numpy as np\n"
                                  "    (y, x), (h, w) = top_left, cutout.shape[:2]\n    x_obj = background.copy()\n"
                                  "    a = cutout[..., 3:]\n"
                                  "    box = (slice(y, y + h), slice(x, x + w))\n"
                                  "    x_obj[box] = x_obj[box] * (1 - a) + cutout[..., :3] * a\n"
                                  "    mask = np.zeros(background.shape[:2], bool)\n"
                                  "    mask[y:y + h, x:x + w] = a[..., 0] > 0.5\n" + _KEEP
                                  + "    return x_obj, background.copy(), mask\n", "over the top and right borders"),
    "pasted into the background itself": (_COMPOSITE_HEAD.replace("background.copy()", "background") + _BLEND + _MASK
                                          + "    return x_obj, background, mask\n", "untouched background"),
    "(y, x) swapped": (_COMPOSITE_HEAD.replace("(y, x) = ", "(x, y) = ") + _BLEND + _MASK + _KEEP
                       + "    return x_obj, background.copy(), mask\n", "wrong place"),
}


def test_the_composite_reference_is_the_packages_triplet_and_passes_its_check():
    import numpy as np

    from eradiff_lite.data import choose_position, make_triplet, transform_cutout
    from eradiff_lite.exercises.composite import composite, grade_composite

    grade_composite(composite)
    rng = np.random.default_rng(0)
    background = rng.random((20, 24, 3)).astype(np.float32)
    cutout = rng.random((7, 6, 4)).astype(np.float32)
    triplet = make_triplet(background, cutout, np.random.default_rng(3), scale=(1, 1), angle=(0, 0), flip_p=0.0,
                           dilate=0)
    replay = np.random.default_rng(3)  # the same draws as make_triplet: scale, angle, flip, then the position
    replay.uniform(1, 1), replay.uniform(0, 0), replay.random()
    obj = transform_cutout(cutout)
    x_obj, x_ori, mask = composite(background, obj, choose_position((20, 24), obj.shape[:2], replay))
    assert np.array_equal(mask, triplet.mask) and np.allclose(x_obj, triplet.x_obj)
    assert np.array_equal(x_ori, background)


@pytest.mark.parametrize("mistake", list(WRONG_COMPOSITES))
def test_the_composite_check_rejects_typical_mistakes_with_a_hint_not_the_answer(mistake, capsys):
    source, symptom = WRONG_COMPOSITES[mistake]
    assert check("composite", answer_from_source(source)) is False  # prints, never raises
    out = capsys.readouterr().out
    assert out.startswith("not yet (composite): ") and symptom in out, out
    for answer_part in ("> 0.5", "(1 - a", "np.where", "max(", "alpha > "):
        assert answer_part not in out, f"the hint gives the answer away: {out}"


def test_the_composite_check_survives_answers_that_crash_or_return_the_wrong_thing(capsys):
    def crashes(background, cutout, top_left):
        raise IndexError("boom")

    assert check("composite", crashes) is False
    assert "raised IndexError: boom" in capsys.readouterr().out
    assert check("composite", lambda b, c, p: b) is False
    assert "return three numpy arrays" in capsys.readouterr().out


# the build exercises of notebooks 02 and 03: typical wrong answers, each rejected with the symptom it shows
def _edit(source, *pairs):
    for old, new in pairs:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


def _noisy_mix_wrong():
    from eradiff_lite.exercises.mixing import SOLUTION, STUB

    return {
        "a fresh noise draw": (_edit(SOLUTION, ("(1 - alpha_bar).sqrt() * noise", "(1 - alpha_bar).sqrt() * "
                                                                               "torch.randn_like(x_ori)")),
                               "uses a different noise than x_mix(t)"),
        "a fixed noise of its own": (_edit(SOLUTION, ("* noise  #", "* torch.randn(x_ori.shape, generator="
                                                                  "torch.Generator().manual_seed(0))  #")),
                                     "stays the same when the noise passed in changes"),
        "the dynamic image reversed": (_edit(SOLUTION, ("(1 - lam) * x_ori + lam * x_obj", "lam * x_ori + (1 - lam) "
                                                                                          "* x_obj")),
                                       "runs the wrong way"),
        "image and noise scales exchanged": (_edit(SOLUTION, ("alpha_bar.sqrt() * x_mix_tilde + (1 - alpha_bar)",
                                                              "(1 - alpha_bar).sqrt() * x_mix_tilde + (alpha_bar)")),
                                             "scales are exchanged"),
        "no square roots": (_edit(SOLUTION, ("alpha_bar.sqrt() * x_mix_tilde + (1 - alpha_bar).sqrt()",
                                             "alpha_bar * x_mix_tilde + (1 - alpha_bar)")), "variance"),
        "lam ignored (the notebook's stub)": (STUB, "does not change with lam"),
        "weights that do not add up to 1": (_edit(SOLUTION, ("(1 - lam) * x_ori", "x_ori")),
                                            "the background changes along the pathway"),
        "a per-item lam not reshaped": (_edit(SOLUTION, ("lam, alpha_bar = per_item(lam), per_item(alpha_bar)",
                                                         "lam, alpha_bar = torch.as_tensor(lam), per_item(alpha_bar)")),
                                        "one value per batch item"),
    }


def _cro_loss_wrong():
    from eradiff_lite.exercises.crobuild import SOLUTION, STUB

    fresh_at_s = ("    def x_mix(lam, a):  # Eq. 6-7, with the one noise shared by t and s\n"
                  "        return a.sqrt() * ((1 - lam) * x_ori + lam * x_obj) + (1 - a).sqrt() * noise\n",
                  "    def x_mix(lam, a, eps=noise):\n"
                  "        return a.sqrt() * ((1 - lam) * x_ori + lam * x_obj) + (1 - a).sqrt() * eps\n")
    return {
        "a fresh noise draw at s": (_edit(SOLUTION, fresh_at_s, ("x_mix(lam_s, a_s)", "x_mix(lam_s, a_s, "
                                                                                    "torch.randn_like(x_ori))")),
                                    "uses a different noise than x_mix(t)"),
        "the schedule reversed": (_edit(SOLUTION, ("lams = 1 - alphas_cumprod if", "lams = alphas_cumprod if")),
                                  "the pathway runs the wrong way"),
        "the dynamic image reversed": (_edit(SOLUTION, ("(1 - lam) * x_ori + lam * x_obj", "(1 - lam) * x_obj + lam "
                                                                                          "* x_ori")),
                                       "the pathway runs the wrong way"),
        "alpha_bar at s < 0 clamped to index 0": (_edit(SOLUTION, ("torch.where(step < 0, torch.ones_like(alphas_"
                                                                   "cumprod[i]), alphas_cumprod[i])",
                                                                   "alphas_cumprod[i]")), "still carries noise"),
        "s < 0 clamped to index 0 for both": (_edit(SOLUTION, ("torch.where(step < 0, torch.ones_like(alphas_cumprod"
                                                               "[i]), alphas_cumprod[i])", "alphas_cumprod[i]"),
                                                    ("torch.where(step < 0, torch.zeros_like(lams[i]), lams[i])",
                                                     "lams[i]")), "the state at step 0"),
        "a negative index read from the end": (_edit(SOLUTION, ("i = step.clamp(min=0)", "i = step"),
                                                     ("torch.where(step < 0, torch.ones_like(alphas_cumprod[i]), "
                                                      "alphas_cumprod[i])", "alphas_cumprod[i]"),
                                                     ("torch.where(step < 0, torch.zeros_like(lams[i]), lams[i])",
                                                      "lams[i]")), "END of the schedule"),
        "lambda_s not zeroed for s < 0": (_edit(SOLUTION, ("torch.where(step < 0, torch.zeros_like(lams[i]), "
                                                           "lams[i])", "lams[i]")), "still holds part of the object"),
        "the loss against x_obj": (_edit(SOLUTION, ("(x_hat_s - x_mix(lam_s, a_s))", "(x_hat_s - x_obj)")),
                                   "the object image x_obj itself"),
        "the ordinary noise loss (the notebook's stub)": (STUB, "ordinary noise-prediction error"),
        "a sum instead of a mean": (_edit(SOLUTION, ("** 2).mean()", "** 2).sum()")), "a sum over every number"),
        "the lambdas passed in ignored": (_edit(SOLUTION, ("if lambdas is None else lambdas", "")),
                                          "lambdas passed in are ignored"),
        "the model shown the state at s": (_edit(SOLUTION, ("e = eps_fn(x_t, t)", "e = eps_fn(x_mix(lam_s, a_s), t)")),
                                           "the pathway's state at s"),
        "no jump back to the noise of s": (_edit(SOLUTION, ("x_hat_s = a_s.sqrt() * x0_hat + (1 - a_s).sqrt() * e",
                                                            "x_hat_s = x0_hat")), "second half"),
        "one loss per item": (_edit(SOLUTION, ("** 2).mean()", "** 2).flatten(1).mean(1)")), "one number"),
    }


def _dynamic_image_wrong():
    solution = EXERCISES["dynamic_image"].solution
    return {
        "x_ori and x_obj swapped": (_edit(solution, ("(1 - lam) * x_ori + lam * x_obj", "lam * x_ori + (1 - lam) "
                                                                                       "* x_obj")),
                                    "runs the wrong way"),
        "weights that do not add up to 1 (the notebook's stub)": ("def my_dynamic_image(x_ori, x_obj, lam):\n"
                                                                  "    return x_ori + torch.as_tensor(lam) * x_obj\n",
                                                                  "the background changes along the pathway"),
        "lam ignored": (_edit(solution, ("(1 - lam) * x_ori + lam * x_obj", "x_obj + 0 * lam")),
                        "does not change with lam"),
        "a per-item lam not reshaped": (_edit(solution, ("lam.reshape(-1, 1, 1, 1) if lam.ndim else lam", "lam")),
                                        "raised RuntimeError"),
    }


@pytest.mark.parametrize("name, table", [("noisy_mix", _noisy_mix_wrong), ("cro_loss", _cro_loss_wrong),
                                         ("dynamic_image", _dynamic_image_wrong)])
def test_the_build_checks_reject_typical_mistakes_with_their_symptom_not_the_answer(name, table, capsys):
    wrongs = table()
    assert len(wrongs) >= 3
    for mistake, (source, symptom) in wrongs.items():
        assert check(name, answer_from_source(source)) is False, mistake  # prints, never raises
        out = capsys.readouterr().out
        assert out.startswith(f"not yet ({name}): ") and symptom in out, f"{mistake}: {out}"
        assert "differs from the reference" not in out, f"{mistake} should get its own hint: {out}"
        for answer_part in ("(1 - lam) *", "torch.where", ".clamp(", "sqrt(1 - a", ".sqrt()"):
            assert answer_part not in out, f"the hint gives the answer away ({mistake}): {out}"


def test_the_build_checks_survive_answers_that_crash_or_return_the_wrong_thing(capsys):
    def crashes(*args, **kwargs):
        raise IndexError("boom")

    for name in ("noisy_mix", "cro_loss", "dynamic_image"):
        assert check(name, crashes) is False
        assert "raised IndexError: boom" in capsys.readouterr().out
    assert check("cro_loss", lambda eps_fn, x_ori, *rest, **kw: 0.5) is False
    assert "return a 0-d torch tensor" in capsys.readouterr().out
    assert check("cro_loss", lambda eps_fn, x_ori, x_obj, t, *rest, **kw: x_ori.mean() * 0) is False
    assert "never asked the model" in capsys.readouterr().out


def test_the_build_references_pass_their_checks():
    from eradiff_lite.cro import cro_loss
    from eradiff_lite.exercises.crobuild import grade_cro_loss
    from eradiff_lite.exercises.mixing import grade_noisy_mix
    from eradiff_lite.schedule import noisy_mix

    grade_noisy_mix(noisy_mix)
    grade_cro_loss(cro_loss)


def test_hints_come_in_tiers_for_every_exercise(capsys):
    from eradiff_lite.exercises import hint
    from eradiff_lite.exercises.tiers import TIERS

    for name in ("noisy_mix", "cro_loss", "dynamic_image", "sra_processor"):
        idea, equation = hint(name, 1), hint(name, 2)
        assert idea == TIERS[name][0] and equation == TIERS[name][1] and idea != equation
        assert "=" in equation and hint(name, 3) == EXERCISES[name].solution
    for name in EXERCISES:  # exercises without tiers still answer every tier
        assert hint(name, 1) and hint(name, 2) and hint(name, 3) == EXERCISES[name].solution
    capsys.readouterr()
    with pytest.raises(ValueError, match="tier is 1"):
        hint("noisy_mix", 4)
    with pytest.raises(KeyError, match="no exercise"):
        hint("nope", 1)


# the build exercise of notebook 04: Self-Rectifying Attention as a processor class; wrong lines and their symptoms
WRONG_SRA = {
    "masked keys for every query": ({"allowed": "~m[:, None, None, :].expand(-1, 1, m.shape[1], -1)"},
                                    "OUTSIDE the hole"),
    "average-pooled mask": ({"m": "F.adaptive_avg_pool2d(mask, hw).flatten(1) > 0.5"}, "PARTLY"),
    "nearest-neighbour mask": ({"m": "F.interpolate(mask, size=hw).flatten(1) > 0.5"}, "PARTLY"),
    "NaN rows where every key is blocked": ({"allowed": "~(m[:, None, :, None] & m[:, None, None, :])"}, "NaN"),
    "zero rows where every key is blocked": ({"allowed": "~(m[:, None, :, None] & m[:, None, None, :])",
                                              "out": "F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)"},
                                             "no background token left"),
    "mask transposed": ({"m": "F.adaptive_max_pool2d(mask.transpose(-1, -2), hw).flatten(1) > 0.5"}, "mirrored"),
    "blocked scores set to 0": ({"out": "scores.masked_fill(~allowed, 0.0).softmax(dim=-1) @ v"}, "no weight"),
    "nothing blocked": ({"out": "scores.softmax(dim=-1) @ v"}, "equals plain attention"),
    "scores not scaled": ({"out": "(scores * q.shape[-1] ** 0.5).masked_fill(~allowed, float('-inf'))"
                                  ".softmax(dim=-1) @ v"}, "every token differs"),
}


def test_the_sra_processor_check_accepts_the_solution_and_an_sdpa_variant(capsys):
    from eradiff_lite.exercises import sra_build

    assert check("sra_processor", answer_from_source(sra_build.SOLUTION)) is True
    sdpa = sra_build.source(out="F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)")
    assert check("sra_processor", answer_from_source(sdpa)) is True
    assert check("sra_processor", answer_from_source(sra_build.STUB)) is False  # the notebook's first guess
    assert "OUTSIDE the hole" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", list(WRONG_SRA))
def test_the_sra_processor_check_names_the_symptom_of_each_mistake_not_the_answer(mistake, capsys):
    from eradiff_lite.exercises import sra_build

    lines, symptom = WRONG_SRA[mistake]
    assert check("sra_processor", answer_from_source(sra_build.source(**lines))) is False  # prints, never raises
    out = capsys.readouterr().out
    assert out.startswith("not yet (sra_processor): ") and symptom in out, out
    for answer_part in ("max_pool", "max-pool", "-inf", "m.all", "& m["):
        assert answer_part not in out, f"the hint gives the answer away: {out}"


def test_the_sra_processor_check_survives_crashes_and_functions(capsys):
    class Crashes:
        def __init__(self, state, fallback):
            pass

        def __call__(self, attn, hidden_states, *args, **kwargs):
            raise RuntimeError("boom")

    assert check("sra_processor", Crashes) is False
    assert "raised RuntimeError: boom" in capsys.readouterr().out
    assert check("sra_processor", lambda state, fallback: None) is False
    assert "hand in the class itself" in capsys.readouterr().out


def test_solutions_switch_reads_the_flag_then_the_environment(monkeypatch):
    from eradiff_lite import exercises

    monkeypatch.delenv(exercises.SOLUTIONS_ENV, raising=False)
    assert exercises.solutions_wanted() is False and exercises.solutions_wanted(True) is True
    monkeypatch.setenv(exercises.SOLUTIONS_ENV, "1")
    assert exercises.solutions_wanted() is True and exercises.solutions_wanted(False) is False
    monkeypatch.setenv(exercises.SOLUTIONS_ENV, "yes please")
    with pytest.raises(ValueError, match="ERADIFF_SOLUTIONS"):
        exercises.solutions_wanted()


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_solved_answer_passes_its_own_check(name, capsys):
    from eradiff_lite import exercises

    assert exercises.check(name, exercises.solved(name)), capsys.readouterr().out


# The small "Your turn" exercises: wrong answers a learner writes, each named by its symptom. A failure message must
# never hold the solution's key expression (that is hint(name, 2) and solution(name)).
KEY_EXPRESSIONS = {
    "paste": ("(1 - alpha)", "rgb * alpha", "* alpha"),
    "mask_from_alpha": ("alpha > 0.5", "> 0.5"),
    "mixup_lambdas": ("1 - alpha_bar", "lambda is 1 -", "destroyed"),
    "dynamic_image": ("(1 - lam)", "add up to 1", "1.3 images"),
    "noisy_mix": ("(1 - lam)", "add up to 1", "1.3 images", "sqrt(1 - a"),
    "ddim_jump": ("sqrt(a_s) x0_hat", "sqrt(1 - a_s)", "square roots"),
    "eps_from_x0": ("keep the square roots", "/ sqrt(1 - a)", "eps = ("),
    "x0_kappa": ("p = sqrt", "(p - q)"),
    "unet_input": ("x_obj * (1 - mask)", "(1 - mask)"),
    "ddim_step": ("sqrt(1 - a_prev) eps", "sqrt(1 - a_prev)", "eps = ("),
    "masked_psnr": ("(image - truth)[mask]", "10 log10"),
    "discordant_pairs": ("(a & ~b)", "(~a & b)", ".sum()"),
    "eq10": ("BOTH", "not (m[b, i] and m[b, j])", "m_i and m_j"),
    "mask_at": ("max-pool", "max_pool", "ANY of its"),
    "lora_count": ("rank x d_in", "d_out x rank", "rank * (d_in + d_out)"),
    "latent_mask": ("max-pool", "max_pool"),
    "elimination_judge": ("MOSTLY", "over half", "at least 3", "AND at least", "gain >= 3", "fill[t.mask]"),
}
SMALL_MISTAKES = {
    "paste": ["def my_paste(background, cutout, y, x):\n    out = background.copy()\n    h, w = cutout.shape[:2]\n"
              "    out[y:y + h, x:x + w] = out[y:y + h, x:x + w] * cutout[..., 3:] + cutout[..., :3]\n"
              "    return out\n"],
    "mask_from_alpha": ["def my_mask(alpha):\n    return alpha <= 0.5\n",
                        "def my_mask(alpha):\n    return alpha > 0.9\n"],
    "mixup_lambdas": [f"def my_lambdas(alphas_cumprod):\n    return {wrong}\n" for wrong in (
        "(1 - alphas_cumprod).sqrt()", "1 - alphas_cumprod.sqrt()", "alphas_cumprod.sqrt()", "alphas_cumprod ** 2")],
    "dynamic_image": ["def my_dynamic_image(x_ori, x_obj, lam):\n    lam = torch.as_tensor(lam, dtype=x_ori.dtype)\n"
                      "    lam = lam.reshape(-1, 1, 1, 1) if lam.ndim else lam\n    return x_ori + lam * x_obj\n"],
    "ddim_jump": ["def my_ddim_jump(x_t, eps, a_t, a_s):\n    x0 = (x_t - (1 - a_t) * eps) / a_t\n"
                  "    return a_s.sqrt() * x0 + (1 - a_s).sqrt() * eps\n",
                  "def my_ddim_jump(x_t, eps, a_t, a_s):\n    x0 = (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()\n"
                  "    return a_s * x0 + (1 - a_s) * eps\n",
                  "def my_ddim_jump(x_t, eps, a_t, a_s):\n    x0 = (x_t - (1 - a_t).sqrt() * eps) / a_t\n"
                  "    return a_s.sqrt() * x0 + (1 - a_s).sqrt() * eps\n"],
    "eps_from_x0": ["def my_eps(x_t, x0, a):\n    return (x_t - (1 - a).sqrt() * x0) / a.sqrt()\n",
                    "def my_eps(x_t, x0, a):\n    return x_t - x0\n"],
    "unet_input": ["def my_unet_input(x_t, mask, x_obj):\n    return torch.cat([x_t, mask, x_obj * mask], dim=1)\n",
                   "def my_unet_input(x_t, mask, x_obj):\n    return torch.cat([mask, x_t, x_obj * (1 - mask)], 1)\n"],
    "ddim_step": ["def my_ddim_step(x_t, x0_hat, a_t, a_prev):\n    return x0_hat\n",
                  "def my_ddim_step(x_t, x0_hat, a_t, a_prev):\n"
                  "    eps = (x_t - a_t.sqrt() * x0_hat) / (1 - a_t).sqrt()\n"
                  "    return a_t.sqrt() * x0_hat + (1 - a_t).sqrt() * eps\n"],
    "masked_psnr": ["def my_masked_psnr(image, truth, mask):\n    import numpy as np\n"
                    "    return float(20 * np.log10(1 / np.mean((image - truth)[mask] ** 2)))\n",
                    "def my_masked_psnr(image, truth, mask):\n    return 12.0\n"],
    "discordant_pairs": ["def my_discordant(a, b):\n    return int((a & b).sum()), int((~a & ~b).sum())\n",
                         "def my_discordant(a, b):\n    return 1, 2\n"],
    "eq10": ["def my_allowed(m):\n    return m[:, :, None] & m[:, None, :]\n",
             "def my_allowed(m):\n    return torch.ones(m.shape[0], m.shape[1], m.shape[1], dtype=torch.bool)\n"],
    "mask_at": ["def my_mask_at(mask, hw):\n    return torch.nn.functional.adaptive_avg_pool2d(mask, hw) > 0.5\n",
                "def my_mask_at(mask, hw):\n    return torch.nn.functional.interpolate(mask, size=hw)\n"],
    "lora_count": ["def my_lora_count(shapes, rank):\n    return sum(rank * d_in for d_in, d_out in shapes)\n",
                   "def my_lora_count(shapes, rank):\n    return 7\n"],
    "latent_mask": ["def my_latent_mask(mask, factor):\n"
                    "    return torch.nn.functional.avg_pool2d(mask, factor) > 0.5\n"],
}


@pytest.mark.parametrize("name", sorted(KEY_EXPRESSIONS))
def test_failure_messages_name_the_symptom_never_the_key_expression(name, capsys):
    """The typical mistake, the notebook's first guess and the other usual mistakes are rejected with a message
    that holds none of the solution's key expressions; hint(name, 2) or solution(name) does hold the answer."""
    from eradiff_lite.exercises import eval_build, hint

    wrongs = [EXERCISES[name].wrong] + SMALL_MISTAKES.get(name, [])
    if name == "elimination_judge":
        wrongs += [eval_build.source(**lines) for lines in (dict(recreated="share < 0.5"),
                                                            dict(eliminated="not recreated and gain <= 3.0"),
                                                            dict(eliminated="not recreated"),
                                                            dict(eliminated="gain >= 3.0"))]
    for source in wrongs:
        assert check(name, answer_from_source(source)) is False, source
        out = capsys.readouterr().out
        assert out.startswith(f"not yet ({name}): "), out
        for key in KEY_EXPRESSIONS[name]:
            assert key not in out, f"the message gives the answer away ({key!r}): {out}"
    answer = hint(name, 2) + solution(name)
    capsys.readouterr()
    assert any(key in answer for key in KEY_EXPRESSIONS[name]) or name == "elimination_judge", answer
