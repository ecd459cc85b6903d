"""My erasing variant for the capstone: the one file to edit (copy it first, e.g. to `my_team.py`).

Run it under the fixed budget and score it against the shipped cro_sra with one command (from the repository root):

    OMP_NUM_THREADS=1 python -m eradiff_lite capstone assignments/capstone/my_variant.py --team "your name"

Check your loss first, in seconds, on a toy batch (selfcheck.py beside this file; LOSS_API.md explains the API):

    python assignments/capstone/my_variant.py --selfcheck

As shipped, this file is the EraDiff recipe itself (the CRO loss, SRA in training and when erasing) under a new
name: run it once to see where the budget leaves cro_sra's own recipe, then change `MyLoss.__call__` (and, if
you like, the variant's SRA switches below). Keep the signature; write your equation in the docstring.

What a loss receives (eradiff_lite.losses, the same for the lite model and Stable Diffusion):
- ``model``: the network; ``model(x_t, t)`` is its raw output (this model predicts the clean image x0),
  ``model.eps(x_t, t, alphas_cumprod)`` the noise estimate implied by it, ``model.x0(x_t, t, alphas_cumprod)``
  the clean-image estimate; the condition (mask and masked picture) is already inside;
- ``batch``: ``x_obj`` (the picture with the object), ``x_ori`` (the true background), ``mask`` (1 = erase),
  ``B x C x 64 x 64`` in [-1, 1];
- ``t``, ``gamma``: integer tensors ``[B]`` (t in 0..999, gamma in 1..100, ``s = t - gamma`` may be < 0);
- ``alphas_cumprod``: ``a_t`` for every t, ``[1000]``; ``noise``: one ``eps`` of the images' shape.
It returns one float32 number to minimise. Building blocks: eradiff_lite.cro (cro_loss, ddim_jump,
denoising_loss, cro_terms_at, x0_optimum), eradiff_lite.schedule (mixup_lambdas, noisy_mix, dynamic_image),
eradiff_lite.targets (min_snr_weight, x0_weight), and the registered losses (get_loss("cro"), get_loss("denoise")).
"""

from eradiff_lite.cro import cro_loss
from eradiff_lite.losses import Loss, register_loss
from eradiff_lite.variants import Variant, register_variant

NAME = "my_variant"  # your variant's name in the class table (letters, digits and _; not a shipped variant's)
# --selfcheck compares your loss with this registered loss on the toy batch: the starter is CRO itself, so they must
# be equal; set SAME_AS = None once you change the objective on purpose (keep "cro" if you only rewrite CRO)
SAME_AS = "cro"


class MyLoss(Loss):
    """CRO (Eq. 6-9), as cro_sra trains: one DDIM jump from t to s = t - gamma must land on the erasing pathway,

        x_mix(u) = sqrt(a_u) ((1 - lam_u) x_ori + lam_u x_obj) + sqrt(1 - a_u) eps,   lam_u = 1 - a_u
        L = mean || ddim_jump(x_mix(t), e, a_t, a_s) - x_mix(s) ||^2,   e = model.eps(x_mix(t), t)

    Replace this with your own objective and its equation.
    """

    name = NAME
    target = "background"  # the model learns to paint x_ori under the pasted object
    weighting = "c(t, s)^2, implicit in the jump"

    def __call__(self, model, batch, t, gamma, alphas_cumprod, noise):
        def eps_fn(x_t, steps):
            return model.eps(x_t, steps, alphas_cumprod)

        return cro_loss(eps_fn, batch["x_ori"], batch["x_obj"], t, gamma, alphas_cumprod, noise)


register_loss(MyLoss(), replace=True)
VARIANT = register_variant(Variant(NAME, loss=NAME, target="background", from_baseline=True,
                                   sra_in_training=True, sra_at_inference=True,
                                   about="the capstone's starter: cro_sra's recipe under the budget"), replace=True)


if __name__ == "__main__":  # python assignments/capstone/my_variant.py --selfcheck
    import sys

    from selfcheck import main  # assignments/capstone/selfcheck.py (the folder of this file is on the path)

    if sys.argv[1:] != ["--selfcheck"]:
        sys.exit(f"usage: python {sys.argv[0]} --selfcheck (the run itself: python -m eradiff_lite capstone "
                 f"{sys.argv[0]} --team NAME)")
    sys.exit(main([sys.argv[0], "--same-as", str(SAME_AS)]))
