"""The seam between the course's Stable Diffusion code and one latent inpainting model: `InpaintAdapter`.

The eraser (`sd.removal`), the LoRA files (`sd.lora`) and the loader (`sd.model`) never name a diffusers pipeline
class; they ask the adapter of the pipeline they are given (`adapter_for`) for what differs between latent
inpainting models:

- loading: ``from_pretrained`` of the real weights (what runs on Colab), or tiny random components offline;
- the VAE: ``z = scaling_factor * E(x)`` and back, the image side per latent cell (``vae_scale_factor``);
- the text: the UNet's conditioning for a prompt, as the keyword arguments of the UNet call;
- the UNet's inpainting input: ``[z_t (4), mask at latent size (1), latents of the masked image (4)]``;
- the scheduler (DDIM, with the model's own noise schedule) and its ``alphas_cumprod``;
- the stock pipeline's inpainting call, and its LoRA file format.

SD2-Inpaint (`eradiff_lite.sd.model.SD2Inpaint`) is the one implementation. A second model is one subclass in one
new module, registered with `register_adapter`: for SDXL inpainting, ``pipeline_class =
StableDiffusionXLInpaintPipeline``, a `conditioning` that adds the pooled text embeddings and the size ``time_ids``
(``added_cond_kwargs``), `tiny` components with two text encoders, and `decode_latents` upcasting its fp16 VAE.
Nothing else changes: the eraser, SRA, the LoRA and the pairs take whichever pipeline the adapter loaded.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled
from PIL import Image

from ..models.lite import masked_image

#: Registered adapters by name (``"sd2"``); `adapter_for` finds a pipeline's by its class.
ADAPTERS: dict[str, type[InpaintAdapter]] = {}


class InpaintAdapter:
    """A latent inpainting pipeline (``self.pipe``, a diffusers pipeline) behind the calls the course makes.

    Subclasses set `name`, `pipeline_class`, `default_model` and `load_options`, and write `tiny` and
    `conditioning`; the rest holds for any pipeline with a ``unet``, a ``vae`` and a ``scheduler``.
    """

    name: ClassVar[str] = ""
    pipeline_class: ClassVar[type] = type(None)
    default_model: ClassVar[str] = ""
    load_options: ClassVar[dict[str, Any]] = {}  # extra from_pretrained arguments (e.g. no safety checker)

    def __init__(self, pipe):
        if not isinstance(pipe, self.pipeline_class):
            raise TypeError(f"the {self.name} adapter wraps a {self.pipeline_class.__name__}, got "
                            f"{type(pipe).__name__}")
        self.pipe = pipe

    # ------------------------------------------------------------------------------------------ loading
    @classmethod
    def load(cls, model_id: str | None = None, revision: str | None = None, *,
             torch_dtype: torch.dtype = torch.float32, variant: str | None = None,
             device: str | torch.device | None = None, tiny: bool = False, tiny_image_size: int = 32,
             seed: int = 0) -> InpaintAdapter:
        """The model's weights from the Hub, its cache or a local folder (``model_id``, default `default_model`),
        with a DDIM scheduler; ``tiny=True``: `tiny` components instead. A failed download ends in a RuntimeError
        that says what to do; ``variant="fp16"`` takes half-size files where the repository has them."""
        if tiny:
            pipe = cls.tiny(seed=seed, image_size=tiny_image_size).pipe
            pipe = pipe.to(dtype=torch_dtype) if torch_dtype != torch.float32 else pipe
            return cls(pipe.to(device) if device is not None else pipe)
        model_id = model_id or cls.default_model
        try:
            pipe = cls.pipeline_class.from_pretrained(model_id, revision=revision, torch_dtype=torch_dtype,
                                                      variant=variant, **cls.load_options)
        except (OSError, HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled) as err:
            if isinstance(err, OSError) and err.errno is not None:
                raise  # a real I/O failure (a full disk, no permission): not a missing model
            raise cls.hub_failure(model_id, revision, err) from err
        pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)  # deterministic sampling (eta = 0)
        pipe.set_progress_bar_config(leave=False)
        return cls(pipe.to(device) if device is not None else pipe)

    @classmethod
    def hub_failure(cls, model_id: str, revision: str | None, err: Exception) -> RuntimeError:
        reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        alternatives = (cls.default_model, "a local folder saved with save_pretrained",
                        "tiny=True (offline, random weights)")
        return RuntimeError(
            f"could not load {model_id!r} (revision {revision or 'main'}) from the Hugging Face Hub, the cache in "
            f"HF_HOME or a local folder ({type(err).__name__}: {reason}); use one of: {'; '.join(alternatives)}")

    @classmethod
    def tiny(cls, seed: int = 0, image_size: int = 32) -> InpaintAdapter:
        """The same pipeline class from tiny random components built from config (offline; pictures are noise)."""
        raise NotImplementedError(f"{cls.__name__} has no tiny components")

    # ------------------------------------------------------------------------------------ the components
    @property
    def unet(self) -> torch.nn.Module:
        return self.pipe.unet

    @property
    def vae(self) -> torch.nn.Module:
        return self.pipe.vae

    @property
    def scheduler(self):
        return self.pipe.scheduler

    @property
    def alphas_cumprod(self) -> torch.Tensor:
        return self.pipe.scheduler.alphas_cumprod

    def frozen_modules(self) -> list[torch.nn.Module]:
        """What a LoRA fine-tune of the UNet leaves untouched: the VAE and every text encoder."""
        return [m for m in (self.vae, getattr(self.pipe, "text_encoder", None),
                            getattr(self.pipe, "text_encoder_2", None)) if m is not None]

    # ------------------------------------------------------------------------------------------- sizes
    @property
    def vae_scale_factor(self) -> int:
        return int(self.pipe.vae_scale_factor)

    @property
    def native_size(self) -> int:
        """The image side the UNet was built for: ``sample_size * vae_scale_factor`` (512 for SD2)."""
        return int(self.unet.config.sample_size) * self.vae_scale_factor

    def latent_hw(self, size: int) -> tuple[int, int]:
        """The latent grid of a ``size`` x ``size`` image (64 x 64 for SD2 at 512); refuses a side the UNet's
        downsampling cannot take."""
        factor = self.vae_scale_factor * 2 ** (len(self.unet.config.block_out_channels) - 1)
        if size % factor:
            raise ValueError(f"size {size} must be a multiple of {factor} (VAE factor x UNet downsampling) for this "
                             f"model")
        return size // self.vae_scale_factor, size // self.vae_scale_factor

    # --------------------------------------------------------------------------------- latents and text
    def encode_images(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """``scaling_factor * E(x)`` (a sample of the VAE's posterior) for images ``x`` in [-1, 1]."""
        vae = self.vae
        return vae.config.scaling_factor * vae.encode(x.to(vae.dtype)).latent_dist.sample(generator)

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        """Latents back to images in [-1, 1] (float32, on the CPU)."""
        vae = self.vae
        return vae.decode(z.to(vae.dtype) / vae.config.scaling_factor).sample.float().clamp(-1, 1).cpu()

    def conditioning(self, prompt: str, batch: int, size: int | None = None) -> dict[str, Any]:
        """The UNet's keyword arguments for ``prompt`` (no classifier-free guidance), ``batch`` copies."""
        raise NotImplementedError

    def inpaint_inputs(self, x: torch.Tensor, mask: torch.Tensor,
                       generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(mask at the latent grid, latents of the masked image)`` for images ``x`` in [-1, 1] and ``mask``
        ``[B, 1, H, W]`` (1 = erase), as the stock pipeline prepares them (nearest resize, the hole blanked)."""
        latents = self.encode_images(masked_image(x, (mask > 0.5).to(x.dtype)), generator)
        return F.interpolate(mask.to(latents.dtype), size=latents.shape[-2:]), latents

    @torch.no_grad()
    def encode_pair(self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None,
                    prompt: str = "") -> dict[str, Any]:
        """A batch of training pairs (``x_obj``, ``x_ori`` in [-1, 1], ``mask`` ``[B, 1, H, W]``) in latent space:
        ``z_obj``, ``z_ori``, the UNet's ``mask`` and ``z_masked``, and its ``conditioning`` for ``prompt``."""
        device, dtype = self.unet.device, self.vae.dtype
        x_obj, x_ori = (batch[k].to(device=device, dtype=dtype) for k in ("x_obj", "x_ori"))
        mask = batch["mask"].to(device=device, dtype=dtype)
        z_obj, z_ori = self.encode_images(x_obj, generator), self.encode_images(x_ori, generator)
        small, z_masked = self.inpaint_inputs(x_obj, mask, generator)
        return {"z_obj": z_obj, "z_ori": z_ori, "mask": small, "z_masked": z_masked,
                "conditioning": self.conditioning(prompt, x_obj.shape[0], x_obj.shape[-1])}

    # ------------------------------------------------------------------------------------------ the UNet
    @staticmethod
    def unet_input(z_t: torch.Tensor, mask: torch.Tensor, z_masked: torch.Tensor) -> torch.Tensor:
        """The inpainting UNet's input: ``[z_t, mask, z_masked]`` along the channels (4 + 1 + 4 for SD2)."""
        return torch.cat([z_t, mask.to(z_t.dtype), z_masked.to(z_t.dtype)], dim=1)

    def predict_noise(self, z_t: torch.Tensor, t: torch.Tensor, mask: torch.Tensor, z_masked: torch.Tensor,
                      conditioning: dict[str, Any], unet: torch.nn.Module | None = None) -> torch.Tensor:
        """The UNet's noise estimate for ``z_t`` at steps ``t`` (``unet``: another UNet of the same model, e.g.
        one under a LoRA; default the pipeline's)."""
        unet = unet or self.unet
        cond = {k: v.to(unet.dtype) if torch.is_tensor(v) else v for k, v in conditioning.items()}
        return unet(self.unet_input(z_t, mask, z_masked).to(unet.dtype), t, **cond).sample

    # ------------------------------------------------------------------------------- the stock pipeline
    def inpaint(self, image, mask: np.ndarray, size: int, *, prompt: str = "", num_inference_steps: int = 25,
                guidance_scale: float = 1.0, generator: torch.Generator | None = None) -> np.ndarray:
        """The pipeline's own inpainting of ``image`` (a PIL picture, ``size`` x ``size``) under ``mask`` (bool,
        True = erase): ``size`` x ``size`` x 3 floats in [0, 1]."""
        return self.pipe(prompt=prompt, image=image, mask_image=Image.fromarray(np.asarray(mask, bool)),
                         height=size, width=size, num_inference_steps=num_inference_steps,
                         guidance_scale=guidance_scale, generator=generator, output_type="np").images[0]

    def save_lora_weights(self, folder, unet_lora_layers: dict) -> None:
        """The UNet's LoRA state in the pipeline's own file format (``pytorch_lora_weights.safetensors``)."""
        self.pipeline_class.save_lora_weights(folder, unet_lora_layers=unet_lora_layers, safe_serialization=True)


def register_adapter(cls: type[InpaintAdapter]) -> type[InpaintAdapter]:
    """Register an adapter class under its ``name`` (a class decorator)."""
    if not cls.name or not isinstance(cls.pipeline_class, type) or cls.pipeline_class is type(None):
        raise TypeError(f"{cls.__name__}: an adapter needs a name and a pipeline_class")
    ADAPTERS[cls.name] = cls
    return cls


def adapter_for(model) -> InpaintAdapter:
    """The adapter of ``model``: an `InpaintAdapter` as it is, or a pipeline wrapped by the registered adapter of
    its class (the most specific one, so a subclass of a pipeline can have its own)."""
    if isinstance(model, InpaintAdapter):
        return model
    fits = [cls for cls in ADAPTERS.values() if isinstance(model, cls.pipeline_class)]
    if not fits:
        known = ", ".join(f"{c.pipeline_class.__name__} ({n})" for n, c in ADAPTERS.items())
        raise TypeError(f"expected a latent inpainting pipeline with an adapter ({known}; see eradiff_lite.sd."
                        f"adapter), got {type(model).__name__}")
    return max(fits, key=lambda c: len(c.pipeline_class.__mro__))(model)


def get_adapter(name: str) -> type[InpaintAdapter]:
    """The adapter class registered as ``name``."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise ValueError(f"unknown inpainting model {name!r}: one of {sorted(ADAPTERS)}") from None
