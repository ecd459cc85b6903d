"""Data: loading and checking images, the erase mask (`EraseMask`), matting, transforms and pasting, procedural
scenes, Datasets."""

from .compose import Triplet, choose_position, make_triplet, mask_from_alpha, paste, stamp, transform_cutout
from .dataset import PhotoTripletDataset, SceneDataset, load_triplets, save_triplets, triplet_to_tensors
from .drawing import BACKGROUNDS
from .erase_mask import EraseMask, as_erase_mask, check_mask, load_mask, mask_batch, unet_mask
from .io import (
    IMAGE_SUFFIXES,
    ImageError,
    MaskError,
    image_files,
    load_cutout,
    load_image,
    mask_to_tensor,
    save_image,
    to_image,
    to_pil,
    to_tensor,
)
from .matting import Matte, cut_out, matte, matte_classical, matte_rembg
from .procedural import FAMILIES, HELDOUT_FAMILIES, TRAIN_FAMILIES, Scene, make_scene

__all__ = [
    "BACKGROUNDS", "FAMILIES", "HELDOUT_FAMILIES", "IMAGE_SUFFIXES", "TRAIN_FAMILIES", "EraseMask", "ImageError",
    "MaskError", "Matte", "PhotoTripletDataset", "Scene", "SceneDataset", "Triplet", "as_erase_mask", "check_mask",
    "choose_position", "cut_out", "image_files", "load_cutout", "load_image", "load_mask", "load_triplets",
    "make_scene", "make_triplet", "mask_batch", "mask_from_alpha", "mask_to_tensor", "matte", "matte_classical",
    "matte_rembg", "paste", "save_image", "save_triplets", "stamp", "to_image", "to_pil", "to_tensor",
    "transform_cutout", "triplet_to_tensors", "unet_mask",
]
