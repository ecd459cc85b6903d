"""tools/result_figure.py draws the README's result picture from the shipped models on scenes it does not pick."""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import result_figure  # noqa: E402


def test_the_picture_shows_the_first_near_scenes_and_is_written_whole(tmp_path):
    from eradiff_lite.pipeline.shipped import find_variants

    if not {"baseline", "cro_sra"} <= set(find_variants(None, ["baseline", "cro_sra"])):
        pytest.skip("no shipped baseline / cro_sra checkpoints")
    out = result_figure.draw(tmp_path / "result.png")
    assert out.is_file() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically
    from eradiff_lite.metrics.benchmark import load_benchmark

    near = np.flatnonzero(load_benchmark(scenes=result_figure.SCENES, size=result_figure.SIZE).buckets()["near"])
    assert near.size >= result_figure.SHOWN  # the rule has scenes to show: the first SHOWN of them, not picked
