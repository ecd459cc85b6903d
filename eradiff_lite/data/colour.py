"""Colour profiles: a picture is read as sRGB, whatever profile it carries.

A photo from a phone or a camera often embeds an ICC profile (Display P3, Adobe RGB, a CMYK press profile): the
same numbers mean other colours there. Reading its numbers as if they were sRGB, as a plain ``convert("RGB")``
does, and saving them without the profile, changes how every pixel looks, the kept ones included. So
`to_srgb` **converts** the pixels to sRGB on load (Pillow's ImageCms, LittleCMS; relative colorimetric intent,
alpha kept as it is): the model works in sRGB, which is what it was trained on, and the erased picture is saved as
plain sRGB (PNG without a profile), so it displays as the original did. A picture whose profile is sRGB itself is
left bit for bit as it is (a conversion would only add rounding); one whose profile cannot be read is read as sRGB,
with a warning. Masks are never converted: their numbers are levels, not colours (`load_mask`).
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageCms

#: The profile's colour space -> the PIL mode its pixels must have for the conversion.
SPACE_MODES = {"RGB": "RGB", "GRAY": "L", "CMYK": "CMYK"}
#: Modes whose pixels can be converted (16-bit and float images are read as they are).
CONVERTIBLE = {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "RGBX"}

_SRGB = ImageCms.createProfile("sRGB")


def embedded_profile(im: Image.Image) -> ImageCms.ImageCmsProfile | None:
    """The picture's ICC profile, or None when it has none."""
    data = im.info.get("icc_profile")
    return ImageCms.ImageCmsProfile(io.BytesIO(data)) if data else None


def is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    """Whether a profile describes sRGB (by its description: "sRGB IEC61966-2.1", "sRGB built-in", ...)."""
    return "srgb" in ImageCms.getProfileDescription(profile).lower().replace(" ", "")


def to_srgb(im: Image.Image, what: str = "the picture") -> Image.Image:
    """``im`` with its pixels converted from its embedded ICC profile to sRGB (mode RGB, or RGBA when it had
    transparency); returned unchanged when it has no profile, an sRGB one, or a mode that is not converted."""
    if not im.info.get("icc_profile") or im.mode not in CONVERTIBLE:
        return im
    try:
        profile = embedded_profile(im)
        if is_srgb(profile):
            return im
        space = profile.profile.xcolor_space.strip()
        if space not in SPACE_MODES:
            raise ImageCms.PyCMSError(f"a {space} profile is not a picture's colour space")
        if im.mode in ("P", "PA", "1"):
            im = im.convert("RGBA" if im.mode != "1" else "L")
        alpha = im.getchannel("A") if "A" in im.getbands() else None
        base = im if im.mode == SPACE_MODES[space] else im.convert(SPACE_MODES[space])
        out = ImageCms.profileToProfile(base, profile, _SRGB, outputMode="RGB",
                                        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    except (OSError, ValueError, ImageCms.PyCMSError) as err:
        warnings.warn(f"{what}: its colour profile could not be applied ({err}); its pixels are read as sRGB",
                      stacklevel=3)
        return im
    if alpha is not None:
        out.putalpha(alpha)
    out.info.pop("icc_profile", None)
    return out
