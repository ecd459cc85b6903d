"""Notebook 08's exercises: the texture measure of a fill (`texture_log2`) and the loss averaged over the hole
(`hole_mean_loss`). Each check accepts its solution (and `solved(name)`), rejects the notebook's first guess, and
names the symptom of at least three other plausible mistakes, never the answer."""

import pytest
import torch

from eradiff_lite.exercises import EXERCISES, answer_from_source, check, hint, solved
from eradiff_lite.exercises.tiers import TIERS

_TEXTURE_HEAD = ("def my_texture_log2(out, truth, mask):\n    import numpy as np\n"
                 "    from scipy.ndimage import binary_erosion, laplace\n"
                 "    inner = binary_erosion(mask, iterations=1)\n\n")


def _texture(energy_body: str, ratio: str) -> str:
    return (_TEXTURE_HEAD + "    def energy(image):\n"
            "        lap = np.stack([laplace(image[..., c].astype(np.float64)) for c in range(3)], -1)\n"
            f"        {energy_body}\n\n    return float({ratio})\n")


SUM = "return (lap[inner] ** 2).sum(-1).mean()"
WRONG_TEXTURES = {
    "no floor": (_texture(SUM, "np.log2(energy(out) / energy(truth))"), "blows up"),
    "natural log": (_texture(SUM, "np.log((energy(out) + 1e-3) / (energy(truth) + 1e-3))"), "0.69"),
    "ratio inverted": (_texture(SUM, "np.log2((energy(truth) + 1e-3) / (energy(out) + 1e-3))"), "wrong sign"),
    "channels averaged": (_texture("return (lap[inner] ** 2).mean(-1).mean()",
                                   "np.log2((energy(out) + 1e-3) / (energy(truth) + 1e-3))"), "three colour channels"),
    "absolute Laplacian": (_texture("return np.abs(lap[inner]).sum(-1).mean()",
                                    "np.log2((energy(out) + 1e-3) / (energy(truth) + 1e-3))"), "term by term"),
    "the notebook's first guess (rim included)": (EXERCISES["texture_log2"].wrong, "outermost pixels"),
}


def test_the_texture_solution_is_the_package_measure_on_every_hole(capsys):
    from eradiff_lite.exercises.deeper import _texture_cases
    from eradiff_lite.metrics.texture import texture_log2

    mine = solved("texture_log2")
    cases = _texture_cases()
    assert len(cases) >= 4 and len({m.sum() for *_, m in cases}) >= 3  # several holes, of several sizes
    for _, out, truth, mask in cases:
        assert mine(out, truth, mask) == pytest.approx(texture_log2(out, truth, mask), abs=1e-9)
        assert (out[~mask] == truth[~mask]).all()  # the fill changes the hole only
    assert check("texture_log2", mine) is True
    assert check("texture_log2", lambda out, truth, mask: [0.0]) is False
    assert "return one number" in capsys.readouterr().out.splitlines()[-1]


_HOLE_HEAD = "def my_hole_mean_loss(residual, mask):\n"
WRONG_HOLE_LOSSES = {
    "the whole picture's mean": (_HOLE_HEAD + "    return (residual ** 2).mean()\n", "OUTSIDE the hole"),
    "the mean over the kept pixels": (_HOLE_HEAD + "    return ((1 - mask) * residual ** 2).sum() / "
                                                   "(1 - mask).expand_as(residual).sum()\n", "OUTSIDE the hole"),
    "channels not counted": (_HOLE_HEAD + "    return (mask * residual ** 2).sum() / mask.sum()\n", "three times"),
    "each image's mean, then their mean": (
        _HOLE_HEAD + "    m = mask.expand_as(residual)\n"
                     "    return ((m * residual ** 2).flatten(1).sum(1) / m.flatten(1).sum(1)).mean()\n", "same say"),
    "turned into a float": (_HOLE_HEAD + "    m = mask.expand_as(residual)\n"
                                         "    return torch.tensor(float((m * residual ** 2).sum() / m.sum()))\n",
                            "no gradient"),
    "the notebook's first guess (masked, divided by the picture)": (EXERCISES["hole_mean_loss"].wrong, "shrunk"),
    "the hole's mean absolute error": (_HOLE_HEAD + "    m = mask.expand_as(residual)\n"
                                                    "    return (m * residual.abs()).sum() / m.sum()\n",
                                       "count what you add up"),
}


# each exercise: its plausible mistakes, and what its messages must not show (the expression, not the symptom)
MISTAKES = {"texture_log2": (WRONG_TEXTURES, ("log2((", "binary_erosion")),
            "hole_mean_loss": (WRONG_HOLE_LOSSES, ("sum(m", "region_loss"))}


@pytest.mark.parametrize("exercise, mistake", [(e, m) for e, (wrong, _) in MISTAKES.items() for m in wrong])
def test_each_check_names_the_symptom_of_each_mistake(exercise, mistake, capsys):
    wrong, hidden = MISTAKES[exercise]
    source, symptom = wrong[mistake]
    assert check(exercise, answer_from_source(source)) is False
    out = capsys.readouterr().out
    assert out.startswith(f"not yet ({exercise})") and symptom in out, out
    assert not any(text in out for text in hidden), out


def test_the_hole_loss_solution_is_the_region_loss_of_the_fill_study(capsys):
    from eradiff_lite.cro import region_loss

    mine = solved("hole_mean_loss")
    g = torch.Generator().manual_seed(3)
    residual, mask = torch.randn(3, 3, 10, 10, generator=g), (torch.rand(3, 1, 10, 10, generator=g) > 0.7).float()
    assert torch.allclose(mine(residual, mask), region_loss(residual, mask))
    r = residual.clone().requires_grad_(True)
    mine(r, mask).backward()
    assert (r.grad * (1 - mask)).abs().max() == 0 and (r.grad * mask).abs().max() > 0  # the hole only
    assert check("hole_mean_loss", mine) is True
    assert check("hole_mean_loss", lambda residual, mask: 0.5) is False
    assert "return a 0-d torch tensor" in capsys.readouterr().out.splitlines()[-1]


@pytest.mark.parametrize("name", ["texture_log2", "hole_mean_loss"])
def test_the_deeper_exercises_have_tiered_hints_and_belong_to_notebook_08(name, capsys):
    idea, equation = TIERS[name]
    assert hint(name, 1) == idea and hint(name, 2) == equation and idea != equation
    assert EXERCISES[name].notebook == "08_going_deeper"
