"""Lecturer's solution sketch of what does not work: CRO with a constant mix-up lambda = 0.5 (the paper's "without
mix-up" row), SRA in training and when erasing.

    x_mix(u) = sqrt(a_u) (0.5 x_ori + 0.5 x_obj) + sqrt(1 - a_u) eps   for every u,
    L = mean || ddim_jump(x_mix(t), e, a_t, a_s) - x_mix(s) ||^2

With lambda constant the pathway never fades from the object to the background: its end point at t = 0 is still
half object, and the jump is trained to land on that mix.
"""

from eradiff_lite.cro import cro_loss
from eradiff_lite.losses import Loss, register_loss
from eradiff_lite.schedule import constant_lambdas
from eradiff_lite.variants import Variant, register_variant

NAME = "constant_lambda"


class ConstantLambdaCro(Loss):
    """CRO (Eq. 6-9) with lambda_u = 0.5 for every u (schedule.constant_lambdas)."""

    name = NAME
    target = "background"
    weighting = "c(t, s)^2, implicit in the jump"

    def __call__(self, model, batch, t, gamma, alphas_cumprod, noise):
        lambdas = constant_lambdas(alphas_cumprod.numel(), 0.5).to(batch["x_ori"].device)
        return cro_loss(lambda x, s: model.eps(x, s, alphas_cumprod), batch["x_ori"], batch["x_obj"], t, gamma,
                        alphas_cumprod, noise, lambdas=lambdas)


register_loss(ConstantLambdaCro(), replace=True)
VARIANT = register_variant(Variant(NAME, loss=NAME, target="background", from_baseline=True, sra_in_training=True,
                                   sra_at_inference=True, about="CRO with lambda = 0.5 throughout"), replace=True)
