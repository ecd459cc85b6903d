"""The latent inpainting adapter (issue 25, item 5): SD2-Inpaint is one implementation behind `InpaintAdapter`, and
the eraser, the LoRA files and the loader go through whichever adapter a pipeline has."""

import ast

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionInpaintPipeline

from conftest import ROOT
from eradiff_lite.data import to_image
from eradiff_lite.sd import (
    ADAPTERS,
    InpaintAdapter,
    SD2Inpaint,
    SDEraser,
    adapter_for,
    add_cro_lora,
    encode_triplet,
    erase_with_sd,
    get_adapter,
    latent_hw,
    load_sd_inpaint,
    native_size,
    photo_triplets,
    save_cro_lora,
)

SIZE = 32


@pytest.fixture(scope="module")
def model():
    return SD2Inpaint.tiny(seed=0, image_size=SIZE)


@pytest.fixture(scope="module")
def batch():
    pairs = photo_triplets(SIZE, 2, seed=0)
    return {k: torch.stack([pairs[i][k] for i in range(2)]) for k in ("x_obj", "x_ori", "mask")}


def test_a_pipeline_finds_its_adapter_and_sd2_is_registered(model):
    assert get_adapter("sd2") is SD2Inpaint and ADAPTERS["sd2"].pipeline_class is StableDiffusionInpaintPipeline
    found = adapter_for(model.pipe)
    assert type(found) is SD2Inpaint and found.pipe is model.pipe and adapter_for(model) is model
    with pytest.raises(TypeError, match="StableDiffusionInpaintPipeline \\(sd2\\)"):
        adapter_for(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="wraps a StableDiffusionInpaintPipeline"):
        SD2Inpaint(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="unknown inpainting model 'sdxl'"):
        get_adapter("sdxl")
    with pytest.raises(TypeError, match="needs a name and a pipeline_class"):
        from eradiff_lite.sd import register_adapter

        register_adapter(type("Nameless", (InpaintAdapter,), {}))


def test_sizes_components_and_loading(model, tmp_path):
    assert model.native_size == SIZE == native_size(model.pipe) == native_size(model)
    assert model.latent_hw(SIZE) == (SIZE // 2, SIZE // 2) == latent_hw(model.pipe, SIZE)
    with pytest.raises(ValueError, match="multiple of 4"):
        model.latent_hw(SIZE + 2)
    assert model.unet is model.pipe.unet and model.vae is model.pipe.vae
    assert torch.equal(model.alphas_cumprod, model.pipe.scheduler.alphas_cumprod)
    assert model.frozen_modules() == [model.vae, model.pipe.text_encoder]
    loaded = SD2Inpaint.load(tiny=True, tiny_image_size=SIZE)
    assert isinstance(loaded, SD2Inpaint) and isinstance(load_sd_inpaint(tiny=True), StableDiffusionInpaintPipeline)
    model.pipe.save_pretrained(tmp_path / "tiny")  # the from_pretrained path, from a local folder
    again = SD2Inpaint.load(str(tmp_path / "tiny"))
    assert type(again.scheduler).__name__ == "DDIMScheduler" and again.native_size == SIZE
    assert all(torch.equal(a, b) for a, b in zip(model.unet.parameters(), again.unet.parameters()))


def test_latents_text_and_unet_call_are_what_the_lora_code_computes(model, batch):
    """`encode_pair` and `predict_noise` reproduce `cro_lora.encode_triplet` and its UNet call exactly, so the LoRA
    code can go through the adapter without changing a number."""
    pair = model.encode_pair(batch, torch.Generator().manual_seed(0))
    triplet = encode_triplet(model.pipe, batch, torch.Generator().manual_seed(0))
    for key in ("z_ori", "z_obj", "mask", "z_masked"):
        assert torch.equal(pair[key], getattr(triplet, key)), key
    assert torch.equal(pair["conditioning"]["encoder_hidden_states"], triplet.text)
    assert pair["z_ori"].shape == (2, 4, SIZE // 2, SIZE // 2) and set(pair["mask"].unique().tolist()) == {0.0, 1.0}

    z_t = torch.randn(pair["z_ori"].shape, generator=torch.Generator().manual_seed(1))
    t = torch.tensor([500, 20])
    with torch.no_grad():
        eps = model.predict_noise(z_t, t, pair["mask"], pair["z_masked"], pair["conditioning"])
        direct = model.unet(torch.cat([z_t, triplet.mask, triplet.z_masked], 1), t,
                            encoder_hidden_states=triplet.text).sample
        decoded = model.decode_latents(pair["z_ori"])
    assert torch.equal(eps, direct) and eps.shape == z_t.shape
    assert decoded.shape == batch["x_ori"].shape and decoded.abs().max() <= 1


def test_a_second_adapter_is_what_the_eraser_and_the_lora_files_call(batch, tmp_path):
    """A model registered beside SD2 (here a subclass of its pipeline, as SDXL would be its own) is reached by the
    eraser, SRA, SDEraser and the LoRA files without a change to them."""

    class OtherPipeline(StableDiffusionInpaintPipeline):
        pass

    calls = []

    class Other(SD2Inpaint):
        name, pipeline_class = "test_other", OtherPipeline

        def inpaint(self, image, mask, size, **kwargs):
            calls.append(("inpaint", size, mask.shape))
            return super().inpaint(image, mask, size, **kwargs)

        def decode_latents(self, z):
            calls.append(("decode", tuple(z.shape)))
            return super().decode_latents(z)

        def save_lora_weights(self, folder, unet_lora_layers):
            calls.append(("save_lora", len(unet_lora_layers)))
            super().save_lora_weights(folder, unet_lora_layers)

    from eradiff_lite.sd import register_adapter

    register_adapter(Other)
    try:
        pipe = OtherPipeline(**SD2Inpaint.tiny(seed=0, image_size=SIZE).pipe.components, requires_safety_checker=False)
        pipe.set_progress_bar_config(disable=True)
        assert type(adapter_for(pipe)) is Other  # the most specific registered class wins over sd2
        image, mask = to_image(batch["x_obj"][0]), batch["mask"][0, 0].numpy() > 0.5
        out = erase_with_sd(pipe, image, mask, sra=True, num_inference_steps=2, seed=1)
        assert out.shape == (SIZE, SIZE, 3) and calls == [("inpaint", SIZE, (SIZE, SIZE))]
        SDEraser(pipe)(image, mask, num_inference_steps=2, return_trajectory=True)
        assert [c[0] for c in calls[1:]] == ["inpaint"] + ["decode"] * 5  # x_T, then x_t and x0_hat of 2 steps
        add_cro_lora(pipe.unet, rank=2)
        assert save_cro_lora(pipe, tmp_path / "lora").is_file() and calls[-1][0] == "save_lora"
    finally:
        ADAPTERS.pop("test_other")


def test_no_module_but_the_sd2_adapter_names_the_sd2_pipeline():
    """The seam holds in the source: the eraser, the LoRA training, the LoRA files, the pairs and the loader name no
    pipeline class (`sd/cro_lora.py` goes through `encode_pair`/`predict_noise`)."""
    allowed = {"eradiff_lite/sd/model.py"}
    naming = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "eradiff_lite").rglob("*.py")
                    if "StableDiffusionInpaintPipeline" in {n.id for n in ast.walk(ast.parse(p.read_text()))
                                                             if isinstance(n, ast.Name)})
    assert set(naming) <= allowed, naming
    assert "eradiff_lite/sd/model.py" in naming


def test_the_adapter_erases_as_the_stock_pipeline_does(model, batch):
    image, mask = to_image(batch["x_obj"][0]), batch["mask"][0, 0].numpy() > 0.5
    ours = erase_with_sd(model, image, mask, sra=False, num_inference_steps=2, seed=3)
    from PIL import Image

    from eradiff_lite.data import to_pil

    stock = model.pipe(prompt="", image=to_pil(image), mask_image=Image.fromarray(mask), height=SIZE, width=SIZE,
                       num_inference_steps=2, guidance_scale=1.0, generator=torch.Generator("cpu").manual_seed(3),
                       output_type="np").images[0]
    assert np.array_equal(ours, stock)
