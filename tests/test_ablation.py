"""Exporting a run's last checkpoint, shipping runs as reference checkpoints, and the index of what shipped."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from eradiff_lite.experiments.ablation import export_last_checkpoint, ship_ablation, write_index
from eradiff_lite.pipeline import EraseDiffusionPipeline
from eradiff_lite.pipeline.shipped import find_variants
from eradiff_lite.profiles import get_profile
from eradiff_lite.train import make_config, train
from eradiff_lite.train.checkpoint import list_checkpoints
from eradiff_lite.train.record import result_card

SMOKE = get_profile("smoke")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    train(make_config("baseline", SMOKE, steps=2), root / "baseline", progress=False)
    train(make_config("cro_sra", SMOKE, steps=1), root / "cro_sra", init=root / "baseline", progress=False)
    return root


def test_the_last_checkpoint_exports_its_ema_weights_whole(runs, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs / "baseline", run)
    for name in ("model_index.json", "unet", "scheduler"):
        (run / name).unlink() if (run / name).is_file() else shutil.rmtree(run / name)
    cfg = make_config("baseline", SMOKE, steps=2)
    export_last_checkpoint(run, cfg, result_card(run))
    unet = EraseDiffusionPipeline.from_pretrained(run).unet
    ema = load_file(list_checkpoints(run / "checkpoints")[-1] / "ema.safetensors")
    assert all(torch.equal(unet.state_dict()[k], v.to(torch.float16).float()) for k, v in ema.items())
    damaged = list_checkpoints(run / "checkpoints")[-1] / "ema.safetensors"
    weights = load_file(damaged)
    weights.pop(next(iter(weights)))  # one tensor missing
    save_file(weights, damaged)
    with pytest.raises(RuntimeError, match="Missing key"):
        export_last_checkpoint(run, cfg, result_card(run))


def test_shipping_copies_pipelines_not_checkpoints_and_adds_the_sra_pointer(runs, tmp_path):
    shipped = ship_ablation(runs, tmp_path / "checkpoints", notes={"launch": "a test"})
    assert shipped == ["baseline", "cro_sra", "sra"]
    for name in ("baseline", "cro_sra"):
        folder = tmp_path / "checkpoints" / name
        assert not (folder / "checkpoints").exists() and (folder / "loss_log.csv").is_file()
        card = json.loads((folder / "card.json").read_text())
        assert card["notes"]["launch"] == "a test" and card["image_size"] == 32
        for text in (f.read_text() for f in folder.rglob("*") if f.suffix in (".json", ".md")):
            assert str(runs) not in text and str(tmp_path) not in text  # no machine path ships
    config = json.loads((tmp_path / "checkpoints" / "cro_sra" / "unet" / "config.json").read_text())
    assert config.get("_name_or_path", "../baseline/unet") == "../baseline/unet"  # where it was loaded from
    pointer = json.loads((tmp_path / "checkpoints" / "sra" / "variant.json").read_text())
    assert pointer == {"variant": "sra", "weights": "../baseline", "sra": True, "sra_rule": "eq10"}
    found = find_variants([tmp_path / "checkpoints"])
    assert found["sra"] == {"folder": tmp_path / "checkpoints" / "baseline", "sra": True}
    index = write_index(tmp_path / "checkpoints").read_text()
    assert "| baseline | finished | 2 (2) |" in index and "| cro_sra | finished | 1 (1) |" in index


def test_the_ship_command_publishes_runs_and_refuses_a_folder_without_any(runs, tmp_path, capsys):
    from eradiff_lite.cli import main

    assert main(["ship", "--runs", str(runs), "--out", str(tmp_path / "ck"), "--note", "by the test"]) == 0
    assert "shipped baseline, cro_sra, sra" in capsys.readouterr().out
    assert json.loads((tmp_path / "ck" / "cro_sra" / "card.json").read_text())["notes"]["launch"] == "by the test"
    assert (tmp_path / "ck" / "README.md").is_file()
    (tmp_path / "empty").mkdir()
    assert main(["ship", "--runs", str(tmp_path / "empty"), "--out", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no exported run") and "\n" not in err


def test_every_job_is_a_command_including_the_presence_classifier(capsys):
    from eradiff_lite.cli import main

    with pytest.raises(SystemExit) as done:
        main(["train-presence", "--help"])
    assert done.value.code == 0 and "python -m eradiff_lite train-presence" in capsys.readouterr().out


def test_the_whole_ablation_runs_the_baseline_first_and_records_each_status(tmp_path):
    from eradiff_lite.experiments.ablation import ablation_images, run_ablation

    results = run_ablation(tmp_path / "abl", SMOKE, variants=("cro", "baseline"), progress=False)
    assert list(results) == ["baseline", "cro"] and set(results.values()) == {"finished"}
    assert json.loads((tmp_path / "abl" / "ablation.json").read_text()) == results
    assert json.loads((tmp_path / "abl" / "cro" / "card.json").read_text())["steps"] == SMOKE.finetune_steps
    assert ablation_images(SMOKE, ("baseline", "cro")) == (SMOKE.base_steps + SMOKE.finetune_steps) * SMOKE.batch_size
    cpu = get_profile("cpu")
    assert ablation_images("cpu") == (cpu.base_steps + 6 * cpu.finetune_steps) * cpu.batch_size  # 6 fine-tunes
