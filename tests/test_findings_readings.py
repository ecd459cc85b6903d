"""The readings: the sentences notebooks 06 and 08 show under their tables (`experiments.readings`,
`experiments.budget_readings`, `experiments.fill_readings`, with `experiments.findings.elimination_verdict`).

Each is built from small hand-made results (40 scenes, no model run), so the numbers behind a sentence are known:
a sentence must change when its numbers do (a verdict flips from "not shown" to "shown ahead"), and a variant or
comparison that is missing must give a "not measured" line, never an exception.
"""

import json

from eradiff_lite.experiments.budget_readings import budget_pivot, budget_reading, noised_input_reading
from eradiff_lite.experiments.budget_table import noised_input_table
from eradiff_lite.experiments.fill_readings import (
    FILL_STUDY_PAIRS,
    fill_study_compact,
    fill_study_differences,
    fill_study_differences_markdown,
    fill_study_reading,
    hole_only_reading,
)
from eradiff_lite.experiments.findings import elimination_verdict, findings
from eradiff_lite.experiments.readings import answer_in_short, erasing_reading, textured_reading
from eradiff_lite.metrics.results import read_results
from eradiff_lite.paths import data_dir

N = 40  # scenes; the first half is the textured bucket, every fourth scene the near one


def row(name, *, erased=30, ssim=0.6, psnr=24.0, texture=-1.5, **numbers):
    """One results row: ``erased`` of the N scenes eliminated (the rest re-created), the textured bucket at
    ``psnr`` dB and ``ssim``, and the table's numbers (``elimination`` and the rest) as given."""
    eliminated = [1.0] * erased + [0.0] * (N - erased)
    per_scene = {"eliminated": eliminated, "recreated": [1.0 - e for e in eliminated], "masked_psnr": [psnr] * N,
                 "masked_ssim": [ssim] * N, "texture_log2": [texture] * N}
    table = {"elimination": 100.0 * erased / N, "recreation_near": 100.0 * (N - erased) / N,
             "texture_smooth_median": 2.0, "texture_smooth_within": 25.0, "texture_textured_within": 45.0,
             "elimination_classifier": 96.0, "masked_psnr": psnr, "masked_ssim": ssim}
    return {"variant": name, "seeds": 1, "per_scene": per_scene, **table, **numbers}


def results(*rows):
    return {"profile": "smoke", "device": "cpu", "rows": list(rows),
            "benchmark": {"scenes": N, "buckets": {"textured": list(range(N // 2)), "near": list(range(0, N, 4))}},
            "sampling": {"seeds": [0], "steps": 1}}


def ablation(**changed):
    """The ablation's rows, a learned model erasing 30 scenes, the baseline 5; ``changed``: variant -> row."""
    rows = {"baseline": row("baseline", erased=5, psnr=14.0, ssim=0.37, texture=-2.0, texture_smooth_median=5.8,
                            texture_smooth_within=8.0, elimination_classifier=13.0),
            "baseline_ft": row("baseline_ft", erased=5, psnr=14.0, ssim=0.37),
            **{n: row(n) for n in ("paired", "cro_zero", "cro", "cro_sra")},
            "cro_const": row("cro_const", erased=20),
            **{n: row(n, erased=30, psnr=20.0, ssim=0.5, texture=-6.0, texture_smooth_median=0.0,
                      texture_smooth_within=77.0, texture_textured_within=4.0) for n in ("classical", "telea", "flat")},
            "shifted": row("shifted", erased=32, psnr=20.5, ssim=0.5, texture=0.0, texture_textured_within=98.0)}
    rows.update(changed)
    return results(*(r for r in rows.values() if r is not None))


# ------------------------------------------------------------------------------------------------------ notebook 06
def test_the_erasing_reading_follows_the_table():
    said = erasing_reading(ablation())
    assert said.count("\n- ") == 5 and "not measured" not in said
    assert "the classical fills eliminate 75 to 75 % of the holes, as many as the learned models or more" in said
    fewer = {n: row(n, erased=10) for n in ("classical", "telea", "flat")}
    assert "eliminate 25 to 25 % of the holes, fewer than the learned models" in erasing_reading(ablation(**fewer))
    assert "eliminate 75 to 75 % of the holes" in said and "the baseline re-creates 88 % of the near holes" in said
    # the group is named exactly: cro_const, also trained on pairs, is read apart (its own line)
    assert "trained on pairs other than cro_const (paired, cro_zero, cro and cro_sra) eliminate" in said
    assert "other than cro_const (paired and cro) eliminate" in erasing_reading(ablation(cro_zero=None, cro_sra=None))
    assert "(busier than the truth)" in said and "against 77 to 77 % for the classical fills" in said
    assert "the truth shifted by 3 px 98 %" in said and ", so it is the stricter of the two." in said
    # the "without mix-up" control, named, with its near re-creation and its difference with cro
    assert "- Without mix-up (cro_const: CRO with lambda held at 0.5, the ablation's \"without mix-up\" control): " \
           "it eliminates 50.0 % of the holes and re-creates 50.0 % of the near ones" in said
    assert "(cro_const - cro): -25.0 points [" in said and said.endswith("], shown behind.\n")

    said = erasing_reading(ablation(cro=row("cro", erased=20, texture_smooth_median=-0.5,
                                           elimination_classifier=40.0)))
    assert "eliminate 50 to 75 %" in said and "(not all busier than the truth)" in said
    assert "stricter" not in said  # the classifier now finds fewer object-free fills than the judge for cro


def test_the_erasing_reading_says_not_measured_for_what_is_missing():
    said = erasing_reading(ablation(baseline=None, shifted=None))
    assert "- Erasing: not measured (needs the baseline with a near bucket)." in said
    assert "- Textured holes: not measured" in said and "- Smooth holes: the learned fills'" in said
    said = erasing_reading(ablation(paired=None, cro_zero=None, cro=None, cro_sra=None))
    assert said.count("not measured") == 5
    said = erasing_reading(ablation(cro_const=None))
    assert "- Without mix-up (cro_const: CRO with lambda held at 0.5, the ablation's \"without mix-up\" control): " \
           "not measured (needs cro_const with a near bucket)." in said and said.count("not measured") == 1


def test_the_textured_reading_follows_the_bucket():
    said = textured_reading(ablation())
    assert "The learned erasers reach 24.0 to 24.0 dB and SSIM 0.60 to 0.60, the classical fills 20.0 to 20.0" in said
    assert "the learned fills are closer to the true pattern" in said and "scores 20.5 dB and SSIM 0.50: below" in said
    assert "learned -1.5 to -1.5, classical -6.0 to -6.0, shifted +0.0" in said and "far smoother." in said

    said = textured_reading(ablation(flat=row("flat", psnr=25.0, texture=-1.0)))  # a fill above every learned one
    assert "the learned fills are not all closer to the true pattern" in said and "far smoother" not in said


def test_the_textured_reading_says_not_measured_for_what_is_missing():
    assert "Textured backgrounds: not measured (needs the shifted reference row)." in textured_reading(
        ablation(shifted=None))
    bare = ablation()
    bare["benchmark"]["buckets"]["textured"] = []
    assert "not measured" in textured_reading(bare)


def test_the_short_answer_flips_with_the_paired_differences():
    said = answer_in_short(ablation())
    assert said.startswith("1. It erases: cro_sra eliminates 75.0 % of the held-out holes, the baseline 12.5 %")
    assert "(cro_sra - baseline_ft): +62.5 points" in said and "shown ahead." in said.splitlines()[0]
    assert "CRO's pathway (cro - cro_zero): +0.0 points [+0.0, +0.0], not shown" in said
    assert "cro_where_it_matters.json is not shipped" in said and said.splitlines()[4].startswith("5. The fills: 25 %")

    # cro now erases 10 scenes more than cro_zero: the pathway's verdict flips to shown ahead
    said = answer_in_short(ablation(cro=row("cro", erased=40)))
    assert "CRO's pathway (cro - cro_zero): +25.0 points" in said and "], shown ahead; SRA on top of CRO" in said
    assert "(cro_sra - cro): -25.0 points" in said and "], shown behind." in said


def test_the_verdict_is_the_conclusions_and_a_missing_variant_is_not_measured():
    flipped = ablation(cro=row("cro", erased=40))
    fading = {f.claim: f for f in findings(flipped)}["CRO's pathway matters (cro vs cro_zero, same weights)"]
    assert fading.verdict == "met" and fading.measured.startswith("+25.0 points (95 % CI")
    assert elimination_verdict(flipped, "cro", "cro_zero").startswith("+25.0 points [")
    said = answer_in_short(ablation(cro=None, baseline_ft=None))
    assert "(cro_sra - baseline_ft): not measured (needs baseline_ft)" in said
    assert "(cro - cro_zero): not measured (needs cro)" in said and said.count("\n") == 5


def budget_row(comparison, steps, lr, strength, low, high, p, scenes_of="all"):
    return {"comparison": comparison, "finetune_steps": steps, "learning_rate": lr, "strength": strength,
            "scenes_of": scenes_of, "elimination_ci95": [low, high], "p": p, "elimination_difference": (low + high) / 2}


def budget(*extra):
    rows = [budget_row("cro - cro_zero", s, 3e-4, 0.6, 10.0, 30.0, 1e-5) for s in (50, 300)]
    rows += [budget_row("paired - cro_zero", 50, 3e-4, 0.6, 5.0, 15.0, 1e-3),
             budget_row("paired - cro_zero", 300, 3e-4, 0.6, -2.0, 8.0, 0.3)]
    rows += [budget_row("cro - paired", s, 3e-4, strength, -3.0, 2.0, 0.5)
             for s in (50, 300) for strength in (1.0, 0.6)]
    rows += [budget_row("cro - paired", 300, 3e-4, 0.6, -3.0, 2.0, 0.5, group)
             for group in ("trained families", "new families")]
    rows += [budget_row("cro_sra - cro", 300, 3e-4, 1.0, -2.0, 1.0, 1.0)]
    return {"rows": rows + list(extra), "not_run": [{"what": "epsilon", "why": "speckle"}]}


def test_the_budget_reading_follows_the_rows():
    said = budget_reading(budget())
    assert said.startswith("- From pure noise (strength 1), every cell shown over the 2 budgets, on all scenes and "
                           "by family: none; every other cell not shown.")
    assert ("(strength 0.6), cro - cro_zero (the pathway in target and input, same weights) is shown ahead at: "
            "lr 3e-04: 50, 300 steps (of 2); paired - cro_zero (the full weight, no pathway) at: lr 3e-04: 50 steps "
            "(of 2); cro - paired (the fading path proper, weights differing too) at: none (of 2).") in said
    assert "shown in 0 of 1 settings" in said and "- Not run: epsilon: speckle" in said
    said = budget_reading(budget(budget_row("cro - paired", 1000, 1e-4, 1.0, 1.0, 5.0, 0.01),
                                 budget_row("cro - paired", 100, 3e-4, 0.6, 2.0, 6.0, 0.2,  # McNemar does not confirm
                                            "new families")))
    assert ("strength 1), every cell shown over the 3 budgets, on all scenes and by family: cro - paired shown ahead "
            "on all scenes at lr 1e-04: 1000 steps; every other cell not shown.") in said
    assert "on the new families (buttons, eggs) at: none" in said
    # every shown cell at strength 1 is named, per comparison and kind of scenes, ahead and behind
    said = budget_reading(budget(budget_row("cro - cro_zero", 50, 1e-4, 1.0, 1.0, 5.0, 0.01),
                                 budget_row("cro - cro_zero", 50, 1e-4, 1.0, 1.0, 5.0, 0.01, "trained families"),
                                 budget_row("cro - paired", 300, 3e-4, 1.0, -6.0, -1.0, 0.01, "trained families"),
                                 budget_row("cro - paired", 300, 3e-4, 1.0, -6.0, -1.0, 0.2, "new families")))
    assert ("cro - cro_zero shown ahead on all scenes at lr 1e-04: 50 steps, shown ahead on the trained families at "
            "lr 1e-04: 50 steps; cro - paired shown behind on the trained families at lr 3e-04: 300 steps; every "
            "other cell not shown.") in said

    # paired - cro_zero is not shown after the longest fine-tune (300 steps): no reading of what cro_zero lacks
    answer = answer_in_short(ablation(), budget())
    assert ("4. From the noised input (strength 0.6), cro_zero is shown behind cro in 2/2 fine-tunes and paired in "
            "1/2; cro ahead of paired (the fading path proper): 0/2, not at 300 steps.") in answer
    # paired - cro_zero now shown after 300 steps too, and cro - paired after a longest fine-tune of 1000 steps
    flipped = budget(budget_row("paired - cro_zero", 300, 3e-4, 0.6, 5.0, 9.0, 1e-3),
                     budget_row("cro - paired", 1000, 3e-4, 0.6, 1.0, 9.0, 0.01))
    flipped["rows"] = [r for r in flipped["rows"] if (r["comparison"], r["p"]) != ("paired - cro_zero", 0.3)]
    answer = answer_in_short(ablation(), flipped)
    assert ("4. From the noised input (strength 0.6), cro_zero, shown behind cro in 2/2 fine-tunes and paired in 2/2, "
            "lacks mid-noise training signal; cro ahead of paired (the fading path proper): 1/3, also at 1000 "
            "steps.") in answer
    assert all(len(line.split()) <= 35 for line in answer.splitlines())
    assert "(needs the cro - cro_zero, paired - cro_zero and cro - paired rows)" in answer_in_short(
        ablation(), {"rows": budget()["rows"][:2]})


def test_the_noised_input_reading_reads_the_longest_fine_tunes():
    said = noised_input_reading(budget())
    assert said.startswith("- The models fine-tuned 300 steps (the shipped ones), from the noised input: "
                           "cro - cro_zero +20.0 points [+10.0, +30.0], McNemar p 1e-05: shown ahead; "
                           "paired - cro_zero +3.0 points [-2.0, +8.0], McNemar p 0.3: not shown.")
    assert "are not both shown to help cro_zero" in said and "It lacks training signal at mid-noise steps" not in said
    assert "cro - paired -0.5 points [-3.0, +2.0], McNemar p 0.5: not shown after 300 steps" in said
    assert "on the trained families at: none; on the new families (buttons, eggs) at: none." in said
    assert "- SRA trained in: not measured (needs cro_sra - cro rows)." in said
    # paired's full weight now shown ahead too, and cro over paired on the trained families after 100 steps
    flipped = budget(budget_row("paired - cro_zero", 300, 3e-4, 0.6, 5.0, 9.0, 1e-3),
                     budget_row("cro - paired", 100, 1e-4, 0.6, 2.0, 6.0, 0.01, "trained families"),
                     budget_row("cro_sra - cro", 300, 3e-4, 0.6, -1.0, 1.0, 1.0))
    flipped["rows"] = [r for r in flipped["rows"] if (r["comparison"], r["p"]) != ("paired - cro_zero", 0.3)]
    said = noised_input_reading(flipped)
    assert "paired - cro_zero +7.0 points [+5.0, +9.0], McNemar p 0.001: shown ahead." in said
    assert "It lacks training signal at mid-noise steps" in said
    assert "on the trained families at: lr 1e-04: 100 steps; on the new families" in said
    assert "- SRA trained in: cro_sra - cro +0.0 points [-1.0, +1.0], McNemar p 1: not shown." in said
    assert "not measured" in noised_input_reading(None)
    assert "not measured" in noised_input_reading({"rows": budget()["rows"][:2]})


def test_the_noised_input_table_has_the_four_rows_and_follows_them():
    table = noised_input_table(budget(budget_row("cro_sra - cro", 300, 3e-4, 0.6, -1.0, 1.0, 1.0)))
    lines = table.splitlines()
    assert lines[0] == ("Elimination from the noised input (strength 0.6), the models fine-tuned 300 steps "
                        "(the shipped ones):")
    assert [line.split(" | ")[0] for line in lines[4:]] == ["| cro - cro_zero", "| paired - cro_zero",
                                                             "| cro - paired", "| cro_sra - cro"]
    assert "| cro - cro_zero | the pathway in target and input, same weights | +20.0 [+10.0, +30.0] | 1e-05 | " \
           "shown ahead |" in lines
    assert "| paired - cro_zero | the weighting | +3.0 [-2.0, +8.0] | 0.3 | not shown |" in lines
    assert "| cro_sra - cro | SRA trained in | +0.0 [-1.0, +1.0] | 1 | not shown |" in lines
    # a verdict flipped in the rows is flipped in the table; a comparison without rows is not measured
    flipped = budget(budget_row("cro - paired", 1000, 3e-4, 0.6, -9.0, -1.0, 0.01))
    lines = noised_input_table(flipped).splitlines()
    assert "| cro - paired | closest to the fading path alone | -5.0 [-9.0, -1.0] | 0.01 | shown behind |" in lines
    assert "| cro_sra - cro | SRA trained in | not measured | | |" in lines
    assert lines[0].endswith("fine-tuned 300 / 1000 steps (the shipped ones):")
    assert noised_input_table(None).count("not measured") == 5


def test_the_budget_pivot_marks_each_setting():
    table = budget_pivot(budget(budget_row("cro - paired", 100, 1e-4, 1.0, -9.0, -1.0, 0.01)))
    lines = table.splitlines()
    assert lines[0].startswith("+ A shown ahead of B, - shown behind, . not shown") and "? scenes x ? seeds" in lines[0]
    assert "lr 3e-04" in lines[1] and "lr 1e-04" in lines[1] and lines[1].index("lr 3e-04") < lines[1].index("lr 1e-04")
    assert lines[2].split()[-3:] == ["50", "300", "100"]  # lr 3e-4: 50, 300 steps; lr 1e-4: 100
    marks = {" ".join(line.split()[1:-3]): line.split()[-3:] for line in lines[3:] if line.startswith("1.0")}
    assert marks["cro - paired all"] == [".", "."] + ["-"]  # a setting run only at lr 1e-4: blank elsewhere
    zero = [line for line in lines if line.startswith("0.6") and "cro - cro_zero" in line and "all" in line]
    assert zero and zero[0].split()[-2:] == ["+", "+"]
    assert "not measured" in budget_pivot(None)


def test_the_budget_reading_says_not_measured_for_what_is_missing():
    assert "not measured" in budget_reading(None)
    said = budget_reading({"rows": [budget_row("cro - cro_zero", 50, 3e-4, 0.6, 10.0, 30.0, 1e-5)]})
    assert "From pure noise (strength 1): not measured (needs strength-1 rows)." in said
    assert "SRA trained in: not measured" in said and said.count("not measured") == 4


# ------------------------------------------------------------------------------------------------------ notebook 08
def fill_row(name, smooth, textured=40.0, elimination=80.0, pan=0.0):
    return {"name": name, "erase": {"smooth": {"within": smooth}, "textured": {"within": textured},
                                    "elimination": elimination, "by_surface": {"pan": {"median": 4.5, "within": pan}}}}


def fill_study(**smooth):
    shares = {"shipped baseline": 8.0, "continue (EMA)": 9.0, "continue (raw weights)": 8.0, "snr+1 (EMA)": 7.0,
              "shipped paired": 25.0, "paired_continue (EMA)": 28.0, "paired_hole_gradient (EMA)": 62.0, **smooth}
    return {"rows": [{"name": "flat", "reference": True, "erase": {}}]
            + [fill_row(name, share) for name, share in shares.items()]}


def recipe(paired=0, cro=-1, half="128-255 (not used to choose)"):
    def one(variant, verdict):
        return {"half": half, "variant": variant, "elimination_before": 78.0, "elimination_after": 78.0 + 5 * verdict,
                "elimination_verdict": verdict, "texture_smooth": {"within_before": 25.0, "within_after": 45.0}}
    return {"rows": [one("paired", paired), one("cro", cro), one("cro_sra", cro)]}


def test_the_fill_study_reading_follows_the_files():
    said = fill_study_reading(fill_study(), recipe())
    assert said.startswith("- No setting of training or sampling removes the grain")
    assert "(largest: paired_continue, +3)" in said
    assert "(paired_hole_gradient), moves the fills most: 62 % of smooth" in said and "No arm helps the pan" in said
    assert "paired erases as often as before (78.0 -> 78.0 %), but cro, cro_sra erase fewer scenes" in said
    assert "so the shipped models keep the paper's loss" in said
    assert "gradient term alone" not in said  # the study has no paired_gradient row here

    said = fill_study_reading(fill_study(**{"paired_gradient (EMA)": 38.0}), recipe())
    assert ("The gradient term alone, the loss still over the whole picture (paired_gradient), moves less: 38 % of "
            "smooth and 40 % of textured holes within the band, 80 % of scenes eliminated (its control 28 %") in said
    said = fill_study_reading(fill_study(**{"paired_gradient (EMA)": 70.0}), recipe())
    assert "(paired_gradient), moves as much or more: 70 % of smooth" in said

    said = fill_study_reading(fill_study(**{"snr+1 (EMA)": 70.0}), recipe(paired=1, cro=0))
    assert "snr+1 moves the share of smooth holes within the band most: +61 points" in said
    assert "moves the fills (most: snr+1)" in said
    assert "paired erases more often than before" in said and "no variant erases fewer scenes" in said
    assert "keep the paper's loss" not in said


def test_the_fill_study_readings_say_not_measured_for_what_is_missing():
    said = fill_study_reading({"rows": []}, recipe(half="0-127"))
    assert said.count("not measured") == 3
    holes = {"after_recipe": "the loss over the hole only", "rows": recipe()["rows"]}
    said = hole_only_reading(holes)
    assert "cro 78.0 -> 73.0 % (down, shown)" in said and "without the gradient term too" in said
    holes["rows"] = recipe(cro=0)["rows"]
    assert "without the gradient term too" not in hole_only_reading(holes)
    assert "not measured" in hole_only_reading({"after_recipe": "x", "rows": []})


def table_row(name, smooth, gradient=2.0, probe=None, reference=False):
    part = {"median": 1.0, "within": smooth}
    row = {"name": name, "erase": {"smooth": part, "textured": part, "elimination": 80.0, "recreation_near": 10.0,
                                   "by_surface": {"gradient": {"median": gradient, "within": 0.0}}}}
    if probe is not None:
        row["x0_hat"] = {"20": {"smooth": {"median": probe}}}
    return {**row, "reference": True} if reference else row


def test_the_compact_fill_table_keeps_references_shipped_models_and_the_best_arm_per_idea():
    study = {"rows": [table_row("flat", 75.0, reference=True), table_row("shipped paired", 25.0),
                      table_row("shipped baseline, 100 steps", 8.0), table_row("paired_continue (EMA)", 28.0),
                      table_row("paired_continue (raw weights)", 27.0), table_row("paired_gradient (EMA)", 38.0),
                      table_row("paired_hole (EMA)", 57.0), table_row("paired_hole (raw weights)", 90.0),
                      table_row("scratch_stem at 300 steps (EMA)", 20.0),
                      table_row("scratch_nostem at 300 steps (EMA)", 17.0),
                      table_row("scratch_stem at 500 steps (EMA)", 22.0)]}
    said = fill_study_compact(study)
    names = [line.split(" | ")[0][2:] for line in said.splitlines()[2:]]
    # the best arm of the loss idea by its EMA row (not the raw row's 90 %), under its control; the sampling arm
    # counts as an arm of an idea, not as a shipped model; the from-scratch pair at the most steps both reached
    assert names == ["flat", "shipped paired", "shipped baseline, 100 steps", "paired_continue (EMA)",
                     "paired_hole (EMA)", "scratch_stem at 300 steps (EMA)", "scratch_nostem at 300 steps (EMA)"]
    assert "| paired_hole (EMA) | best arm of eraser: the loss | +1.00 / 57 |" in said
    assert "not measured" in fill_study_compact({"rows": []})


def test_the_fill_study_differences_read_each_arm_against_its_control():
    study = {"rows": [table_row("paired_continue (EMA)", 28.0, gradient=2.0, probe=2.0),
                      table_row("paired_hole (EMA)", 57.0, gradient=1.25, probe=1.5),
                      table_row("shipped paired", 25.0, gradient=2.5)]}
    said = fill_study_differences(study)
    assert [(d["arm"], d["control"]) for d in said] == [("paired_continue (EMA)", "shipped paired"),
                                                        ("paired_hole (EMA)", "paired_continue (EMA)")]
    assert said[0]["x0_hat_t20"] is None and said[1]["x0_hat_t20"] == -0.5 and said[1]["gradient"] == -0.75
    table = fill_study_differences_markdown(said)
    assert "| paired_continue (EMA) | shipped paired | - | -0.50 |" in table
    assert "| paired_hole (EMA) | paired_continue (EMA) | -0.50 | -0.75 |" in table


# ------------------------------------------------------------------------------------------------------ shipped
def test_every_reading_is_measured_on_the_shipped_files():
    shipped = read_results()
    files = {name: json.loads((data_dir() / "results" / f"{name}.json").read_text())
             for name in ("cro_where_it_matters", "fill_study", "recipe_check", "recipe_check_hole_only")}
    said = [erasing_reading(shipped), textured_reading(shipped),
            answer_in_short(shipped, files["cro_where_it_matters"]), budget_reading(files["cro_where_it_matters"]),
            noised_input_reading(files["cro_where_it_matters"]),
            fill_study_reading(files["fill_study"], files["recipe_check"]),
            hole_only_reading(files["recipe_check_hole_only"])]
    assert all(text.startswith(("- ", "1. ")) and "not measured" not in text for text in said)
    compact = fill_study_compact(files["fill_study"])
    assert "not measured" not in compact and "| paired_hole_gradient (EMA) | best arm of eraser: the loss |" in compact
    assert len(fill_study_differences(files["fill_study"])) == len(FILL_STUDY_PAIRS)
    assert "(cro_sra - baseline_ft): +" in said[2] and "shown ahead." in said[2].splitlines()[0]
    assert "Without mix-up (cro_const" in said[0] and "4. From the noised input (strength 0.6)" in said[2]
    assert all(len(line.split()) <= 35 for line in said[2].splitlines())  # short lines: the detail is elsewhere
    table = noised_input_table(files["cro_where_it_matters"])
    assert "not measured" not in table and len(table.splitlines()) == 8
    pivot = budget_pivot(files["cro_where_it_matters"])
    assert "not measured" not in pivot and len(pivot.splitlines()) == 3 + 2 * 4 * 3  # strengths x comparisons x kinds
