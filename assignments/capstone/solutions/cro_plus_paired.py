"""Lecturer's solution sketch: CRO and the plain loss on the pairs together, SRA in training and when erasing.

    L = L_CRO + w * mean || x0_hat(x_t, t) - x_ori ||^2,   x_t = sqrt(a_t) x_ori + sqrt(1 - a_t) eps,   w = 0.1

CRO's loss is small (its c^2 weight shrinks with the jump), so ``w`` sets how much the direct background target
pulls; the same noise and the same t serve both terms.
"""

from eradiff_lite.cro import cro_loss
from eradiff_lite.losses import Loss, register_loss
from eradiff_lite.variants import Variant, register_variant

NAME = "cro_plus_paired"


class CroPlusPaired(Loss):
    """L = L_CRO (Eq. 6-9) + w mean || x0_hat(x_t, t) - x_ori ||^2, w = 0.1."""

    name = NAME
    target = "background"
    weighting = "CRO's c^2, plus w = 0.1 on the x0 error"
    w = 0.1

    def __call__(self, model, batch, t, gamma, alphas_cumprod, noise):
        cro = cro_loss(lambda x, s: model.eps(x, s, alphas_cumprod), batch["x_ori"], batch["x_obj"], t, gamma,
                       alphas_cumprod, noise)
        a_t = alphas_cumprod[t].view(-1, 1, 1, 1)
        x_t = a_t.sqrt() * batch["x_ori"] + (1 - a_t).sqrt() * noise
        return cro + self.w * ((model.x0(x_t, t, alphas_cumprod) - batch["x_ori"].float()) ** 2).mean()


register_loss(CroPlusPaired(), replace=True)
VARIANT = register_variant(Variant(NAME, loss=NAME, target="background", from_baseline=True, sra_in_training=True,
                                   sra_at_inference=True, about="CRO plus 0.1 x the paired loss"), replace=True)
