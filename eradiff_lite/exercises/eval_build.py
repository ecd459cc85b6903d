"""The build exercise `elimination_judge` (notebook 06): the colour judge behind the table's elimination column.

The learner writes `my_judge(fill, scene)` with the signature and result of `metrics.judge.judge`: the share of
the hole painted in the object family's colours (nearest palette colour), ``recreated`` when that share is over
one half, the gain in masked PSNR over the untouched object, and ``eliminated`` when the hole is not re-created
and at least `ELIMINATION_MARGIN_DB` closer to the true background than the object was. `TEMPLATE` holds the
plumbing (the palettes, the nearest-colour lookup) with five lines to write; `source` fills them, so the first
guess, the solution and the tests' wrong answers are one function each. `grade_judge` runs an answer on fills
whose verdicts are known (the object left in place, the true background, a new object of the family painted in,
the background of elsewhere) and on the same fills with every pixel OUTSIDE the hole changed, and names the
first symptom it sees, never the code.
"""

from __future__ import annotations

import copy

import numpy as np

from .check import NotYet

TEMPLATE = '''def my_judge(fill, scene):
    """Is the object gone from `fill` (H x W x 3 in [0, 1]), and was the hole painted as a new object?"""
    import numpy as np
    from scipy.spatial import cKDTree
    from eradiff_lite.metrics.coherence import masked_psnr
    from eradiff_lite.metrics.judge import palettes

    t = scene.triplet  # t.x_obj (the input), t.x_ori (the truth): H x W x 3; t.mask: H x W bool, True = hole
    family, background = palettes(scene)  # [N, 3] the family's colours, [M, 3] the background's
    # --- your part ---
    pixels = {pixels}  # [P, 3]: the colours the judge looks at
    nearer_family = cKDTree(family).query(pixels)[0] < cKDTree(background).query(pixels)[0]  # per pixel
    share = {share}  # the family share
    gain = {gain}  # dB
    recreated = {recreated}
    eliminated = {eliminated}
    # --- the verdict ---
    return {{"family_share": float(share), "recreated": bool(recreated), "eliminated": bool(eliminated),
            "gain_db": float(gain)}}
'''
RIGHT = {"pixels": "fill[t.mask]", "share": "np.mean(nearer_family)",
         "gain": "masked_psnr(fill, t.x_ori, t.mask) - masked_psnr(t.x_obj, t.x_ori, t.mask)",
         "recreated": "share > 0.5", "eliminated": "not recreated and gain >= 3.0"}
FIRST_GUESS = {"pixels": "fill.reshape(-1, 3)", "gain": "masked_psnr(fill, t.x_ori, t.mask)",
               "eliminated": "not recreated"}
TASK = ("Build `my_judge(fill, scene)`: the course's elimination judge (metrics.judge.judge). Each pixel of the "
        "hole goes to the palette (family or background) whose nearest colour is nearer; family_share is the share "
        "given to the family; recreated when it is over 0.5; gain_db is how many dB closer to the true background "
        "(masked PSNR) the fill is than the object was; eliminated when not recreated and gain_db >= 3. Return the "
        "dict {family_share, recreated, eliminated, gain_db}. Write the five lines of the template.")
HINTS = ("The judge looks at the hole only: outside it the picture is the input. A hole painted mostly in the "
         "colours of the object's family is a new object (the pepperoni problem). A hole that is not, counts as "
         "erased only if it is clearly nearer to what lay under the object than the object itself was: a smear of "
         "other colours that is no closer to the truth is not an erase.",
         "pixels = fill[mask];  family_share = mean(d_family(pixel) < d_background(pixel));  recreated = share > "
         "0.5;  gain_db = PSNR_hole(fill, x_ori) - PSNR_hole(x_obj, x_ori);  eliminated = not recreated and "
         "gain_db >= 3 dB.")


def source(**lines: str) -> str:
    """`TEMPLATE` with its five lines (``pixels``, ``share``, ``gain``, ``recreated``, ``eliminated``); missing
    ones are the solution's."""
    return TEMPLATE.format(**{**RIGHT, **lines})


SOLUTION = source()
STUB = source(**FIRST_GUESS)
SCENES = (0, 2, 6)  # held-out scenes at 64 px: a cookie on a gradient, a coin on a photo, a button on stripes
KEYS = ("family_share", "recreated", "eliminated", "gain_db")


def _fills(scene) -> list[tuple[str, np.ndarray]]:
    from ..metrics.fill import flat_fill
    from ..metrics.judge import repaint

    t, m = scene.triplet, scene.triplet.mask[..., None]
    elsewhere = np.where(m, np.roll(t.x_ori, 10, axis=(0, 1)), t.x_obj)
    return [("the object left in place", t.x_obj), ("the true background", t.x_ori),
            ("a new object of the family painted into the hole", repaint(scene)),
            ("the background of 10 px further on (the right colours, not the truth)", elsewhere),
            ("the hole filled with its border's mean colour", flat_fill(t.x_obj, t.mask))]


def _call(answer, fill, scene, where: str) -> dict:
    try:
        got = answer(fill.astype(np.float32), copy.deepcopy(scene))
    except Exception as error:  # noqa: BLE001 - any error of the learner's code becomes a hint
        raise NotYet(f"judge: on {where}, your function raised {type(error).__name__}: {error}") from None
    if not isinstance(got, dict) or any(k not in got for k in KEYS):
        raise NotYet(f"judge: return a dict with the keys {', '.join(KEYS)}, got "
                     f"{sorted(got) if isinstance(got, dict) else type(got).__name__}")
    try:
        return {"family_share": float(got["family_share"]), "recreated": bool(got["recreated"]),
                "eliminated": bool(got["eliminated"]), "gain_db": float(got["gain_db"])}
    except (TypeError, ValueError) as error:
        raise NotYet(f"judge: family_share and gain_db are numbers, recreated and eliminated yes/no ({error})") \
            from None


def _same(a: dict, b: dict, hole: int) -> bool:
    return (abs(a["family_share"] - b["family_share"]) <= 1.0 / hole + 1e-9 and a["recreated"] == b["recreated"]
            and a["eliminated"] == b["eliminated"] and abs(a["gain_db"] - b["gain_db"]) <= 1e-3)


def _verdict(v: dict) -> str:
    return ("re-created" if v["recreated"] else "not re-created") + ", " + \
        ("eliminated" if v["eliminated"] else "not eliminated")


def grade_judge(answer) -> None:
    from ..data.procedural import make_scene
    from ..metrics.judge import ELIMINATION_MARGIN_DB, judge

    for seed in SCENES:
        scene = make_scene(seed, 64, split="heldout")
        t, hole = scene.triplet, int(scene.triplet.mask.sum())
        for name, fill in _fills(scene):
            where = f"held-out scene {seed} ({scene.family} on {scene.background}), {name}"
            want = judge(fill.astype(np.float32), scene)
            if abs(want["family_share"] - 0.5) < 0.05 or abs(want["gain_db"] - ELIMINATION_MARGIN_DB) < 0.2:
                continue  # too near a threshold to tell a mistake from rounding
            got = _call(answer, fill, scene, where)
            outside = np.where(t.mask[..., None], fill, 1 - t.x_obj)  # every pixel outside the hole changed
            moved = _call(answer, outside, scene, where)
            if not _same(got, moved, hole):
                changed = [f"{k} {got[k]:.3g} -> {moved[k]:.3g}" for k in KEYS if got[k] != moved[k]]
                raise NotYet(f"judge: on {where}, changing only the pixels OUTSIDE the hole changed your result "
                             f"({'; '.join(changed)}): the verdict is about the hole alone")
            if not _same(got, want, hole):
                _diagnose(got, want, where, hole)


def _diagnose(got: dict, want: dict, where: str, hole: int) -> None:
    share, gain = want["family_share"], want["gain_db"]
    if abs(got["family_share"] - share) > 1.0 / hole + 1e-9:
        if abs(got["family_share"] - (1 - share)) <= 1.0 / hole + 1e-9:
            raise NotYet(f"judge: on {where}, your family_share is {got['family_share']:.2f} where "
                         f"{share:.0%} of the hole is nearer to a family colour: yours counts the other palette")
        raise NotYet(f"judge: on {where}, your family_share is {got['family_share']:.3f}; {share:.0%} of the "
                     f"hole's pixels lie nearer to a family colour than to any background colour")
    if got["recreated"] != want["recreated"]:
        raise NotYet(f"judge: on {where}, {share:.0%} of the hole is in family colours and yours calls it "
                     f"{'re-created' if got['recreated'] else 'not re-created'}; the judge calls it the other way: "
                     f"where does your line between a new object and not lie?")
    if abs(got["gain_db"] - gain) > 1e-3:
        if abs(got["gain_db"] + gain) <= 1e-3:
            raise NotYet(f"judge: on {where}, your gain_db is {got['gain_db']:+.1f} dB: it says how much closer "
                         f"the OBJECT is to the true background than the fill, the other way round")
        raise NotYet(f"judge: on {where}, your gain_db is {got['gain_db']:+.2f} dB, but this fill is "
                     f"{gain:+.2f} dB closer to the true background (masked PSNR) than the object left in place "
                     f"(which gains 0 dB over itself)")
    if got["eliminated"] and want["recreated"]:
        symptom = "yours calls a hole painted as a new object of the family eliminated"
    elif got["eliminated"]:
        symptom = (f"yours calls it eliminated although the fill is only {gain:+.1f} dB closer to the truth than "
                   f"leaving the object in place")
    else:
        symptom = (f"yours does not call it eliminated although the hole is not re-created and the fill is "
                   f"{gain:+.1f} dB closer to the truth than the object was")
    raise NotYet(f"judge: on {where} (family share {share:.0%}, {gain:+.1f} dB closer to the truth than the "
                 f"object), yours says {_verdict(got)}, the judge {_verdict(want)}: {symptom}")
