"""Matting: the classical back-end on a synthetic photo, rembg for real through a tiny ONNX model."""

import numpy as np
import pytest

from eradiff_lite.data import cut_out, matte
from eradiff_lite.data.matting import coarse_segmentation, trimap_from_segmentation


def _photo(size=64):
    """A textured grey-brown background with a red disc (the object) in the middle."""
    rng = np.random.default_rng(0)
    img = np.empty((size, size, 3), np.float32)
    img[:] = (0.55, 0.45, 0.35)
    img += rng.normal(0, 0.02, img.shape).astype(np.float32)
    yy, xx = np.mgrid[0:size, 0:size]
    disc = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 5) ** 2
    img[disc] = (0.85, 0.1, 0.1)
    return np.clip(img, 0, 1), disc


def test_classical_matting_finds_the_object():
    img, disc = _photo()
    result = matte(img, backend="classical", box=(10, 10, 54, 54))
    assert result.backend == "classical"
    alpha = result.alpha
    assert alpha.shape == disc.shape
    assert alpha[disc].mean() > 0.9
    assert alpha[~disc].mean() < 0.05


def test_coarse_segmentation_and_trimap():
    img, disc = _photo()
    seg = coarse_segmentation(img, (10, 10, 54, 54))
    iou = (seg & disc).sum() / (seg | disc).sum()
    assert iou > 0.85
    trimap = trimap_from_segmentation(seg, band=2)
    assert set(np.unique(trimap)) == {0.0, 0.5, 1.0}
    assert trimap[32, 32] == 1.0 and trimap[0, 0] == 0.0


def test_uniform_box_is_a_clear_error():
    img = np.full((32, 32, 3), 0.5, np.float32)
    with pytest.raises(ValueError, match="box"):
        matte(img, backend="classical", box=(4, 4, 28, 28))


def test_unknown_backend():
    with pytest.raises(ValueError, match="backend"):
        matte(_photo()[0], backend="magic")


def _tiny_u2net_onnx(path):
    """A u2net-shaped ONNX model (input 1x3x320x320 -> 1x1x320x320) whose output is the red channel.

    It proves rembg's integration (session, pre- and post-processing), not matting quality.
    """
    import onnx
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 1, 1], [1.0, 0.0, 0.0])
    conv = helper.make_node("Conv", ["input.1", "w"], ["out"])
    graph = helper.make_graph(
        [conv], "tiny_u2net",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 320, 320])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 1, 320, 320])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)


def test_rembg_backend_runs_a_local_onnx_model(tmp_path, monkeypatch):
    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    model = tmp_path / "tiny_u2net.onnx"
    _tiny_u2net_onnx(model)
    img, disc = _photo()
    result = matte(img, backend="rembg", model_path=str(model))
    assert result.backend == "rembg"
    assert result.alpha.shape == disc.shape
    # the tiny model keys on red, so the red disc must come out (rembg min-max normalises)
    assert result.alpha[disc].mean() > 0.8 and result.alpha[~disc].mean() < 0.5


def test_auto_falls_back_in_one_line_when_rembg_cannot_load(tmp_path, capsys):
    img, disc = _photo()
    result = matte(img, backend="auto", model_path=str(tmp_path / "missing.onnx"), box=(10, 10, 54, 54))
    assert result.backend == "classical"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "using classical matting instead" in err[0]
    assert "Traceback" not in err[0]
    assert result.alpha[disc].mean() > 0.9


def test_auto_falls_back_on_a_damaged_model_but_a_bug_propagates(tmp_path, monkeypatch, capsys):
    from eradiff_lite.data import matting

    monkeypatch.setenv("U2NET_HOME", str(tmp_path))
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(b"not an onnx model" * 10)  # onnxruntime's InvalidProtobuf: not a RuntimeError
    img, _ = _photo()
    assert matte(img, backend="auto", model_path=str(damaged), box=(10, 10, 54, 54)).backend == "classical"
    assert "using classical matting instead" in capsys.readouterr().err

    def buggy(*args, **kwargs):
        raise AttributeError("a bug in the code, not a missing model")

    monkeypatch.setattr(matting, "matte_rembg", buggy)
    with pytest.raises(AttributeError, match="a bug"):
        matte(img, backend="auto", box=(10, 10, 54, 54))


def test_rembg_backend_propagates_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError):
        matte(_photo()[0], backend="rembg", model_path=str(tmp_path / "missing.onnx"))
    outside = tmp_path / "elsewhere.onnx"
    _tiny_u2net_onnx(outside)
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "home"))
    with pytest.raises(ValueError, match="U2NET_HOME"):
        matte(_photo()[0], backend="rembg", model_path=str(outside))


def test_cut_out_crops_to_alpha():
    img, disc = _photo()
    rgba = cut_out(img, disc.astype(np.float32))
    ys, xs = np.nonzero(disc)
    assert rgba.shape == (np.ptp(ys) + 3, np.ptp(xs) + 3, 4)
    with pytest.raises(ValueError, match="empty"):
        cut_out(img, np.zeros(disc.shape, np.float32))
