"""Reading images from paths, folders, PIL images and arrays, with per-item errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geoembed.core.utils import optional_import

__all__ = ["IMAGE_SUFFIXES", "ImageLoadError", "check_image_files", "expand_image_inputs", "load_rgb"]

#: File suffixes (lower case) taken as images when a folder is expanded.
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"}


class ImageLoadError(ValueError):
    """An image could not be read; ``reason`` says why."""


def _pil():
    return optional_import("PIL.Image", extra="images", purpose="reading images")


def expand_image_inputs(images) -> list[tuple[str, object]]:
    """(id, item) pairs: a folder becomes its image files (sorted), a single item a list of one."""
    if isinstance(images, (str, Path)) or not isinstance(images, (list, tuple)):
        images = [images]
    items = []
    for i, item in enumerate(images):
        if isinstance(item, (str, Path)):
            path = Path(item)
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
                items.extend((str(p), p) for p in files)
                continue
            items.append((str(path), path))
        else:
            items.append((f"image_{i}", item))
    return items


def _as_rgb(image):
    """``image`` upright and in RGB: turned as its EXIF orientation says (as photo viewers show it;
    phones store many photos sideways with that tag), and transparency blended onto white, as
    CLIP's image processor in ``transformers`` does (dropping the alpha channel would show the
    colours hidden under transparent pixels).
    """
    from PIL import ImageOps

    Image = _pil()
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):  # 16-bit or wider grey: PIL's RGB clips it white
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        peak = values.max(initial=0.0)
        if image.mode == "F" and peak <= 1.0:  # a float image in [0, 1]
            top = 1.0
        elif peak <= 255.0 and not image.mode.startswith("I;16"):  # 8-bit values in a wider mode
            top = 255.0
        else:
            top = 65535.0
        image = Image.fromarray(np.clip(np.rint(values * (255.0 / top)), 0, 255).astype(np.uint8), mode="L")
    if image.mode in ("RGBA", "LA", "PA", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return image.convert("RGB")


def load_rgb(item):
    """A PIL RGB image from a path, a PIL image or an (H, W[, 3|4]) array; raises ImageLoadError.

    Images are turned upright by their EXIF orientation, and transparent pixels are blended onto
    white (as CLIP's image processor does); animated images give their first frame.
    """
    Image = _pil()
    if isinstance(item, Image.Image):
        try:
            return _as_rgb(item)
        except Exception as err:  # a malformed EXIF block, an unusual mode
            raise ImageLoadError(f"unusable image ({item.mode}, {item.size}): {type(err).__name__}: {err}") from err
    if isinstance(item, np.ndarray):
        array = item
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
            raise ImageLoadError(f"array of shape {array.shape} is not an (H, W) or (H, W, 3|4) image")
        if array.dtype == np.uint16:  # 16-bit: its shades, as for a 16-bit image file
            array = np.rint(array / 257.0).astype(np.uint8)
        elif array.dtype != np.uint8:
            array = np.clip(array * (255.0 if array.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        return _as_rgb(Image.fromarray(array))
    path = Path(item)
    if not path.is_file():
        raise ImageLoadError(f"file not found: {path}")
    try:
        with Image.open(path) as image:
            image.load()
            return _as_rgb(image)
    except Exception as err:  # PIL raises several types for broken files
        raise ImageLoadError(f"unreadable image {path.name}: {type(err).__name__}: {err}") from err


def check_image_files(images, *, max_listed: int = 20) -> list[tuple[str, object]]:
    """Check that every image file can be read, before any model is loaded; one error names them all.

    Each path (folders expanded to their image files, as :func:`expand_image_inputs` does) must
    exist and open as an image (``PIL.Image.open`` and ``verify``: the header and, for some
    formats, checksums; it decodes no pixels, so a file damaged inside its pixel data can still
    fail later, as a reported row). PIL images and arrays pass unchecked.

    Parameters
    ----------
    images : path, folder, PIL image, array, or a list of them
        As for :meth:`~geoembed.retrieval.GeoLocator.predict`.
    max_listed : int, default=20
        At most this many problems are spelled out; the rest are counted.

    Returns
    -------
    list of (str, object)
        The (id, item) pairs of :func:`expand_image_inputs`.

    Raises
    ------
    ImageLoadError
        Naming every missing or unreadable file and why.
    """
    Image = _pil()
    items = expand_image_inputs(images)
    problems = []
    for item_id, item in items:
        if not isinstance(item, Path):
            continue
        if not item.exists():
            problems.append(f"{item_id}: no such file or folder")
            continue
        if not item.is_file():
            problems.append(f"{item_id}: not a file")
            continue
        try:
            with Image.open(item) as image:
                image.verify()
        except Exception as err:  # PIL raises several types for broken files
            reason = (str(err).strip().splitlines() or [""])[0]
            kind = "not an image PIL can identify" if isinstance(err, Image.UnidentifiedImageError) else reason
            problems.append(f"{item_id}: unreadable image ({type(err).__name__}: {kind})")
    if problems:
        listed = "; ".join(problems[:max_listed])
        if len(problems) > max_listed:
            listed += f"; and {len(problems) - max_listed} more"
        raise ImageLoadError(f"{len(problems)} of {len(items)} images cannot be read: {listed}")
    return items
