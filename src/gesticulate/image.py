"""Reading the reference photo: any common format, EXIF rotation applied, alpha and grey handled,
size checked before the pixels are decoded."""

from __future__ import annotations

import os
import warnings

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gesticulate.errors import InputError, OptionError, input_file

MIN_SIDE = 64            # px; smaller photos hold too few pixels for a face and a body
MAX_PIXELS = 80_000_000  # checked from the header, before decoding (decompression bombs)


def load_image(path: str | os.PathLike, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read a photo as RGB uint8 ``(H, W, 3)``, upright (EXIF orientation applied).

    RGBA and LA photos are composited on white; greyscale, palette and CMYK become RGB.
    Raises :class:`InputError` for a missing, unreadable, tiny (< 64 px) or huge
    (> ``max_pixels``) image.
    """
    path = input_file(path, "photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
            w, h = im.size
            if w * h > max_pixels:
                raise InputError(f"photo {path} is {w}x{h} pixels, more than this tool reads "
                                 f"({max_pixels / 1e6:.0f} MP); downscale it first")
            if min(w, h) < MIN_SIDE:
                raise InputError(f"photo {path} is only {w}x{h} pixels; use a photo at least "
                                 f"{MIN_SIDE} px on its short side (256 or more looks good)")
            if im.format == "JPEG" and w * h > 4 * 2048 * 2048:
                im.draft("RGB", (w // 4, h // 4))  # decode huge JPEGs at reduced scale
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit or float greyscale
                im = Image.fromarray(_to_uint8(np.asarray(im)))
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                im = im.convert("RGBA")
                bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(bg, im)
            rgb = np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InputError(f"{path} is not an image this tool can read; give a JPEG, PNG, WebP, "
                         "BMP or TIFF photo") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"photo {path} is corrupt or truncated ({e}); re-save or re-download it") from None
    return np.ascontiguousarray(rgb)


def _to_uint8(a: np.ndarray) -> np.ndarray:
    """Scale a high-bit-depth greyscale image to 0..255 (PIL's convert("RGB") clips instead)."""
    a = a.astype(np.float64)
    top = 65535.0 if a.max() > 255 and a.max() <= 65535 and a.min() >= 0 else float(a.max())
    low = 0.0 if a.min() >= 0 else float(a.min())
    return np.clip((a - low) / max(top - low, 1e-9) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def output_size(width: int, height: int, *, size: int) -> tuple[int, int]:
    """(width, height) with the longer side ``size`` and the aspect kept, both even (H.264)."""
    if not 64 <= size <= 4096:
        raise OptionError(f"--size {size} is out of range; use 64..4096 pixels (512 is the default)")
    s = size / max(width, height)
    return max(2, int(round(width * s / 2)) * 2), max(2, int(round(height * s / 2)) * 2)


def resize_to(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize RGB ``image`` to ``size`` (width, height) with area averaging when shrinking."""
    h, w = image.shape[:2]
    if (w, h) == tuple(size):
        return image
    interp = cv2.INTER_AREA if size[0] < w else cv2.INTER_CUBIC
    return cv2.resize(image, tuple(size), interpolation=interp)
