"""Bad input and faults, as principles: no command writes where it reads or deletes what it did not write; one
process per run folder; every numeric option checked for its range; Ctrl-C saves and says how to resume; a batch
goes on past a bad item. (Pictures, colour profiles and the Python API: `test_faults_input.py`.)"""

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from eradiff_lite.cli import main
from eradiff_lite.cli.train import main as train_main
from eradiff_lite.cliargs import Range, count, number
from eradiff_lite.lock import LOCK_NAME, FolderLocked, folder_lock
from eradiff_lite.paths import check_separate
from eradiff_lite.profiles import get_profile
from eradiff_lite.train import make_config, train
from eradiff_lite.train.checkpoint import list_checkpoints

ROOT = Path(__file__).resolve().parents[1]
SMOKE = get_profile("smoke")


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


# 1. a command never writes where it reads, and never deletes what it did not write

def test_check_separate_refuses_the_same_folder_and_nested_ones(tmp_path):
    check_separate({"--runs": tmp_path / "runs"}, {"--out": tmp_path / "out"})  # beside: fine
    with pytest.raises(ValueError, match="--out .* is the folder --runs reads from"):
        check_separate({"--runs": tmp_path / "a"}, {"--out": tmp_path / "b" / ".." / "a"})
    for write in (tmp_path / "a" / "b", tmp_path):  # inside the read folder, or holding it
        with pytest.raises(ValueError, match="overlap"):
            check_separate({"--runs": tmp_path / "a"}, {"--out": write})
    check_separate({"--image": tmp_path / "a"}, {"--out": tmp_path / "a" / "erased"}, nested=False)


@pytest.fixture
def fake_runs(tmp_path):
    """Two exported runs as files (ship checks and copies; it does not need real weights)."""
    runs = tmp_path / "runs"
    for variant in ("baseline", "cro"):
        (runs / variant / "unet").mkdir(parents=True)
        (runs / variant / "model_index.json").write_text("{}")
        (runs / variant / "unet" / "weights").write_bytes(variant.encode())
        (runs / variant / "checkpoints").mkdir()
    return runs


def test_ship_into_the_folder_it_reads_is_refused_before_anything_is_touched(fake_runs, tmp_path, capsys,
                                                                            monkeypatch):
    before = _snapshot(tmp_path)
    for out in (fake_runs, fake_runs / "shipped"):
        assert main(["ship", "--runs", str(fake_runs), "--out", str(out)]) == 2
        assert "never writes" in _one_line_error(capsys)
    monkeypatch.chdir(tmp_path)  # the default --out, data/checkpoints, when the runs are there
    (tmp_path / "data").mkdir()
    fake_runs.rename(tmp_path / "data" / "checkpoints")
    assert main(["ship", "--runs", "data/checkpoints"]) == 2
    assert "is the folder --runs reads from" in _one_line_error(capsys)
    assert _snapshot(tmp_path / "data" / "checkpoints") == {k[len("runs/"):]: v for k, v in before.items()}


def test_ship_replaces_only_folders_it_wrote_and_swaps_them_in_whole(fake_runs, tmp_path, capsys, monkeypatch):
    out = tmp_path / "ck"
    assert main(["ship", "--runs", str(fake_runs), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "baseline", "cro", "sra"]
    assert not (out / "cro" / "checkpoints").exists()
    (out / "cro" / "my_notes.txt").write_text("mine")
    (fake_runs / "cro" / "unet" / "weights").write_bytes(b"new")
    assert main(["ship", "--runs", str(fake_runs), "--out", str(out)]) == 2
    assert "my_notes.txt, which ship did not write" in _one_line_error(capsys)
    assert (out / "cro" / "unet" / "weights").read_bytes() == b"cro", "nothing shipped after a refusal"
    (out / "cro" / "my_notes.txt").unlink()
    (out / "README.md").write_text("# my own notes\n")
    assert main(["ship", "--runs", str(fake_runs), "--out", str(out)]) == 2
    assert "not an index that ship wrote" in _one_line_error(capsys)
    (out / "README.md").unlink()

    import shutil

    copy = shutil.copytree

    def full_disk(src, dst, *args, **kwargs):
        if Path(src).parent.name == "cro":
            raise OSError(28, "No space left on device")
        return copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copytree", full_disk)
    assert main(["ship", "--runs", str(fake_runs), "--out", str(out)]) == 2
    capsys.readouterr()
    assert (out / "cro" / "unet" / "weights").read_bytes() == b"cro", "the old folder stays whole"
    assert not list(out.glob(".*")), "no half-built folder left behind"
    monkeypatch.setattr(shutil, "copytree", copy)
    assert main(["ship", "--runs", str(fake_runs), "--out", str(out)]) == 0
    assert (out / "cro" / "unet" / "weights").read_bytes() == b"new"


def test_ship_continues_past_a_bad_run_names_it_and_exits_non_zero(fake_runs, tmp_path, capsys):
    (fake_runs / "cro" / "training.json").write_text("{half written")  # a run whose record cannot be read
    (fake_runs / "paired").mkdir()
    (fake_runs / "paired" / "model_index.json").write_text("{}")
    (fake_runs / "paired" / "training.json").write_text("{also half")
    out = tmp_path / "ck"
    assert main(["ship", "--runs", str(fake_runs), "--out", str(out)]) == 2
    printed, err = capsys.readouterr()
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: not shipped: cro (") and "; paired (" in line and "shipped: baseline, sra" in line
    assert "shipped baseline, sra into" in printed
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "baseline", "sra"], "the good run is shipped whole"
    index = (out / "README.md").read_text()  # written for what shipped (the fake runs carry no card to list)
    assert "| sra |" in index and "| cro" not in index and "| paired" not in index


def test_train_refuses_an_output_inside_its_init_and_leaves_no_folder(tmp_path):
    with pytest.raises(ValueError, match="overlap"):
        train_main(["--variant", "cro", "--out", str(tmp_path / "base" / "cro"), "--init", str(tmp_path / "base")])
    with pytest.raises(ValueError, match="fine-tunes the baseline"):
        train(make_config("cro", SMOKE, steps=1), tmp_path / "new", progress=False)
    assert not (tmp_path / "new").exists() and not (tmp_path / "base").exists()


# 2. one process per run folder

def test_a_second_process_is_refused_in_one_line_while_one_trains(tmp_path, capsys):
    holder = subprocess.Popen([sys.executable, "-c", "import sys; from eradiff_lite.lock import folder_lock\n"
                               f"with folder_lock({str(tmp_path / 'r')!r}):\n print('held', flush=True)\n"
                               " sys.stdin.read()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["train", "--variant", "baseline", "--out", str(tmp_path / "r"), "--resume"]) == 2
        err = _one_line_error(capsys)
        assert f"is in use: process {holder.pid} trains in it" in err
        with pytest.raises(FolderLocked):
            train(make_config("baseline", SMOKE, steps=1), tmp_path / "r", progress=False)
    finally:
        holder.communicate("")
    assert not (tmp_path / "r" / LOCK_NAME).exists(), "the holder removes its lock when it ends"


def test_a_stale_lock_is_recovered_and_a_lock_is_held_once(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": "here", "since": "yesterday"}))
    with folder_lock(tmp_path / "r") as lock:
        assert json.loads(lock.read_text())["pid"] != dead.pid
        with pytest.raises(FolderLocked, match="is in use"), folder_lock(tmp_path / "r"):
            pass
    result = train(make_config("baseline", SMOKE, steps=1), tmp_path / "r", progress=False)
    assert result.status == "finished" and not (tmp_path / "r" / LOCK_NAME).exists()


# 3. every numeric option is checked for its range, in one line

def test_range_types_accept_their_range_and_name_it():
    assert count(1)("3") == 3 and number(0, 1, low_open=True)("1") == 1.0
    for kind, text in ((count(1), "0"), (count(1), "2.5"), (number(0, 1, low_open=True), "0"),
                       (number(0, 1, high_open=True), "1"), (number(0), "nan"), (number(0), "inf")):
        with pytest.raises(Exception, match=re.escape(kind.describe())):
            kind(text)


@pytest.mark.parametrize("argv", [
    ["train", "--variant", "baseline", "--out", "x", "--steps", "0"],
    ["train", "--variant", "baseline", "--out", "x", "--time-budget", "-5"],
    ["train", "--variant", "baseline", "--out", "x", "--keep-checkpoints", "0"],
    ["train", "--variant", "baseline", "--out", "x", "--seed", "-1"],
    ["erase", "--model", "m", "--image", "i", "--box", "1", "1", "5", "5", "--out", "o", "--strength", "0"],
    ["erase", "--model", "m", "--image", "i", "--box", "1", "1", "5", "5", "--out", "o", "--threshold", "1"],
    ["erase", "--model", "m", "--image", "i", "--box", "-1", "1", "5", "5", "--out", "o"],
    ["bench-erase", "--repeats", "0"], ["bench-sra", "--warmup", "-1"], ["bench-train", "--rounds", "0"],
    ["bench-cro", "--steps", "0"], ["bench-data", "--count", "0"],
    ["study", "run", "--arm", "x0_cosine", "--root", "r", "--scenes", "1"],
    ["sra-study", "--model", "m", "--out", "o", "--scenes", "1"],
])
def test_an_out_of_range_number_is_refused_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = _one_line_error(capsys)
    assert re.match(r"error: argument --[\w-]+: must be (an integer|a number) ", err), err


NOT_YET: set[str] = set()  # every command parses with cliargs now (evaluate was the last)


def test_no_parser_takes_a_bare_int_or_float():
    bare = []
    for path in sorted((ROOT / "eradiff_lite").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        text = path.read_text()
        if name not in NOT_YET and (re.search(r"add_argument\([^)]*type=(int|float)\b", text)
                                    or "argparse.ArgumentParser(" in text):
            bare.append(name)
    assert bare == [], f"use eradiff_lite.cliargs (Parser, count, number, ...) in {bare}"
    assert isinstance(count(), Range)


# 4. Ctrl-C saves a checkpoint, says how to resume, exits 130 without a traceback

def test_ctrl_c_stops_after_the_step_saves_it_and_the_resume_is_the_same_run(tmp_path):
    import os

    cfg = make_config("baseline", SMOKE, steps=4, checkpoint_every=10, keep_checkpoints=10)
    straight = train(cfg, tmp_path / "straight", progress=False)

    def ctrl_c(step, loss, unet):
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, as the terminal sends it

    before = signal.getsignal(signal.SIGINT)  # Python's default, or SIG_IGN under nohup / a background job
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "r", callback=ctrl_c, progress=False)
    assert signal.getsignal(signal.SIGINT) is before, "the handler is given back"
    assert [c.name for c in list_checkpoints(tmp_path / "r" / "checkpoints")] == ["step_000002"]
    assert json.loads((tmp_path / "r" / "training.json").read_text())["result"]["status"] == "interrupted at step 2"
    resumed = train(cfg, tmp_path / "r", resume=True, progress=False)
    assert resumed.status == "finished" and resumed.final_loss == straight.final_loss


def test_the_train_command_prints_the_resume_command_and_exits_130(tmp_path, capsys, monkeypatch):
    import os

    from eradiff_lite.train import loop

    real, calls = loop.optimize, []

    def optimize(run, loss):  # Ctrl-C in the middle of the second step's update
        real(run, loss)
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(loop, "optimize", optimize)
    out = tmp_path / "r"
    assert main(["train", "--variant", "baseline", "--out", str(out), "--steps", "4", "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    command = re.search(r"resume with: python -m eradiff_lite (train .*)", err).group(1)
    assert command == f"train --variant baseline --out {out} --resume"
    monkeypatch.setattr(loop, "optimize", real)
    assert main(command.split() + ["--no-progress"]) == 0
    assert json.loads((out / "card.json").read_text())["steps"] == 4


def test_every_command_ends_a_ctrl_c_in_one_line_and_status_130(capsys, monkeypatch):
    import eradiff_lite.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_profile", interrupted)
    assert cli.main(["profile", "smoke"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"
