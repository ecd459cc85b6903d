"""Profiles, paths and the command line."""

import json
import re
import subprocess
import sys

import pytest

from eradiff_lite.cli import main
from eradiff_lite.experiments.bench.data import benchmark_scenes
from eradiff_lite.profiles import PROFILE_NAMES, default_profile_name, get_profile


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("ERADIFF_PROFILE", "cpu")
    assert default_profile_name() == "cpu" and get_profile().name == "cpu"
    monkeypatch.delenv("ERADIFF_PROFILE")
    import torch

    assert default_profile_name() == ("gpu" if torch.cuda.is_available() else "cpu")


def test_profiles_grow_and_overrides_apply():
    smoke, cpu, gpu = (get_profile(n) for n in PROFILE_NAMES)
    assert smoke.base_steps < cpu.base_steps <= gpu.base_steps
    assert smoke.eval_scenes < cpu.eval_scenes < gpu.eval_scenes
    # one reference model: cpu and gpu train the same architecture at the same size
    arch = ("image_size", "space_to_depth", "unet_channels", "unet_layers_per_block", "unet_attention_levels")
    assert all(getattr(cpu, k) == getattr(gpu, k) for k in arch) and cpu.image_size == 64
    assert get_profile("smoke", image_size=48).image_size == 48
    with pytest.raises(ValueError, match="unknown profile"):
        get_profile("tpu")
    with pytest.raises(ValueError, match="unknown profile field"):
        get_profile("smoke", imagesize=3)


def test_cli_profile_prints_json(capsys):
    main(["profile", "smoke"])
    out = json.loads(capsys.readouterr().out)
    assert out["name"] == "smoke" and "device" in out


def test_bench_data_reports_a_rate(capsys):
    rate = benchmark_scenes(size=32, count=20)
    assert rate > 0
    assert "triplets/s" in capsys.readouterr().out


def test_cli_help_runs_as_module():
    out = subprocess.run([sys.executable, "-m", "eradiff_lite", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "bench-data" in out and "course" in out


def test_command_failures_are_one_line_errors_and_debug_shows_the_traceback(tmp_path, capsys):
    from eradiff_lite.data import make_scene, save_image

    scene = make_scene(0, 32)
    save_image(scene.triplet.x_obj, tmp_path / "in.png")
    save_image(scene.triplet.mask, tmp_path / "mask.png")
    before = (tmp_path / "mask.png").read_bytes()
    args = ["erase", "--model", str(tmp_path / "nomodel"), "--image", str(tmp_path / "in.png"),
            "--mask", str(tmp_path / "mask.png")]
    assert main(args + ["--out", str(tmp_path / "mask.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --out would overwrite the input") and "\n" not in err and "Traceback" not in err
    assert (tmp_path / "mask.png").read_bytes() == before, "an input must never be overwritten"
    assert main(args + ["--out", str(tmp_path / "out.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no saved pipeline at") and "\n" not in err
    with pytest.raises(FileNotFoundError):
        main(args + ["--out", str(tmp_path / "out.png"), "--debug"])
    assert not (tmp_path / "out.png").exists()


def test_bench_erase_times_the_three_fills_in_one_process(tmp_path, capsys):
    assert main(["bench-erase", "--model", str(tmp_path / "none"), "--steps", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "random weights" in out and "64 px, 2 DDIM steps" in out
    assert float(re.search(r"SRA over plain: time ratio ([\d.]+)", out).group(1)) > 0  # a ratio, not a timing test
    assert re.search(r"lite erase [\d.]+ s: (meets|misses) the 2 s target", out)
