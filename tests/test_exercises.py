"""Each exercise's check accepts its solution and rejects the typical wrong answer, with a hint."""

import pytest
import torch

from eradiff_lite.exercises import EXERCISES, NotYet, answer_from_source, check, solution


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_check_accepts_the_solution_and_rejects_the_typical_mistake_with_a_hint(name, capsys):
    exercise = EXERCISES[name]
    exercise.grade(answer_from_source(exercise.solution))  # no NotYet
    with pytest.raises(NotYet) as hint:
        exercise.grade(answer_from_source(exercise.wrong))
    assert "differs from the reference" not in str(hint.value), "the typical mistake should get its own hint"
    assert check(name, answer_from_source(exercise.solution)) is True
    assert check(name, answer_from_source(exercise.wrong)) is False
    out = capsys.readouterr().out
    assert out.startswith(f"correct ({name})") and f"not yet ({name})" in out
    assert solution(name) == exercise.solution


def test_answers_of_the_wrong_kind_get_a_plain_hint(capsys):
    assert check("mixup_lambdas", lambda ab: ab.numpy()) is False
    assert "return a torch tensor" in capsys.readouterr().out
    assert check("mixup_lambdas", lambda ab: (1 - ab).mean()) is False
    assert "expected shape" in capsys.readouterr().out
    assert check("ddim_jump", lambda x_t, eps, a_t, a_s: x_t + 0.01 * torch.ones_like(x_t)) is False
    assert "differs from the reference" in capsys.readouterr().out
    assert check("mask_from_alpha", lambda alpha: torch.from_numpy(alpha > 0.5)) is False  # numpy in, numpy out
    assert "return a boolean H x W array" in capsys.readouterr().out
    assert check("mask_from_alpha", lambda alpha: (alpha > 0.5).astype("float32")) is False
    assert "got float32 (a comparison such as x > 0.5 gives bools)" in capsys.readouterr().out
    assert check("eq10", lambda m: torch.ones(m.shape[0], m.shape[1], m.shape[1], dtype=torch.bool)) is False
    assert "allowed[b, i, j] = not (m[b, i] and m[b, j])" in capsys.readouterr().out

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
