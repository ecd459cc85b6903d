"""Issue 25, item 8, as principles over every command that writes: no command writes into a folder it reads from
(nor inside it, nor around it) or deletes what it did not create; a batch command goes on past a bad item, names it
and ends non-zero."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eradiff_lite.cli import main

STARTER = Path(__file__).resolve().parents[1] / "assignments" / "capstone" / "my_variant.py"


def _snapshot(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*"))


def _input(tmp_path):
    """A folder some command reads, holding something of its user's."""
    folder = tmp_path / "input"
    (folder / "baseline").mkdir(parents=True)
    (folder / "mine.txt").write_text("not the command's")
    (folder / "baseline" / "model_index.json").write_text("{}")
    (folder / "ablation.json").write_text("{}")
    return folder


# every command that writes, as (name, argv from the folder it reads and the folder or file it writes)
COMMANDS = {
    "train": lambda i, o: ["train", "--variant", "cro", "--profile", "smoke", "--init", i, "--out", o],
    "capstone": lambda i, o: ["capstone", str(STARTER), "--profile", "smoke", "--init", i, "--out", o],
    "evaluate": lambda i, o: ["evaluate", "--models", i, "--out", o, "--profile", "smoke"],
    "evaluate --merge": lambda i, o: ["evaluate", "--merge", f"{i}/ablation.json", "--out", o],
    "sra-study": lambda i, o: ["sra-study", "--model", i, "--out", o],
    "ship": lambda i, o: ["ship", "--runs", i, "--out", o],
}


@pytest.mark.parametrize("where", ["the input", "inside the input"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_command_writes_where_it_reads_and_nothing_it_did_not_create_is_touched(command, where, tmp_path,
                                                                                  capsys):
    folder = _input(tmp_path)
    out = folder if where == "the input" else folder / "baseline" / "out"
    before = _snapshot(folder)
    try:
        assert main(COMMANDS[command](str(folder), str(out))) == 2
    finally:
        if command == "capstone":  # the starter file registers its variant and loss
            from eradiff_lite.losses import unregister_loss
            from eradiff_lite.variants import unregister_variant

            unregister_loss("my_variant")
            unregister_variant("my_variant")
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and ("reads" in err or "overlap" in err), err
    assert _snapshot(folder) == before  # nothing written, nothing deleted


def test_training_refuses_an_out_folder_holding_its_init_in_the_library_too(tmp_path):
    from eradiff_lite.train import make_config, train

    init = tmp_path / "runs" / "baseline"
    init.mkdir(parents=True)
    for out in (init, init / "cro", tmp_path / "runs"):
        with pytest.raises(ValueError, match="never writes"):
            train(make_config("cro", "smoke", steps=1), out, init=init)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["baseline", "runs"]


def test_save_triplets_replaces_only_a_folder_it_wrote(tmp_path):
    from eradiff_lite.data import load_triplets, save_triplets

    triplets = load_triplets(save_triplets(_triplets(), tmp_path / "set"))
    save_triplets(_triplets(), tmp_path / "set")  # its own folder: replaced
    assert len(load_triplets(tmp_path / "set")) == len(triplets)
    (tmp_path / "set" / "notes.md").write_text("a user's")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "photo.png").write_bytes(b"a user's")
    for folder in (tmp_path / "set", mine):
        before = _snapshot(folder)
        with pytest.raises(ValueError, match="not written by save_triplets"):
            save_triplets(_triplets(), folder)
        assert _snapshot(folder) == before


def _triplets():
    from eradiff_lite.data import Triplet

    rng = np.random.default_rng(0)
    mask = np.zeros((16, 16), dtype=bool)
    mask[4:8, 4:8] = True
    return [Triplet(rng.random((16, 16, 3)).astype(np.float32), rng.random((16, 16, 3)).astype(np.float32), mask)
            for _ in range(2)]


def test_evaluate_scores_the_good_models_and_names_each_bad_one(smoke_pipe, tmp_path, capsys):
    good, broken = tmp_path / "good" / "baseline", tmp_path / "broken" / "cro"
    smoke_pipe.save_pretrained(good, card={"variant": "baseline"})
    broken.mkdir(parents=True)
    (broken / "model_index.json").write_text("{}")  # no UNet
    missing = tmp_path / "missing"
    argv = ["evaluate", "--models", str(good.parent), str(missing), str(broken.parent), "--out",
            str(tmp_path / "results"), "--profile", "smoke", "--variants", "baseline", "cro", "--scenes", "2",
            "--seeds", "1", "--steps", "1", "--no-classical"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"skipped {missing}:" in err and "skipped cro:" in err, err
    rows = json.loads((tmp_path / "results" / "ablation.json").read_text())["rows"]
    assert [r["variant"] for r in rows] == ["baseline"]
