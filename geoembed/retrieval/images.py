"""Reading images from paths, folders, PIL images and arrays, with per-item errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._utils import optional_import

__all__ = ["IMAGE_SUFFIXES", "ImageLoadError", "expand_image_inputs", "load_rgb"]

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


def load_rgb(item):
    """A PIL RGB image from a path, a PIL image or an (H, W[, 3]) array; raises ImageLoadError."""
    Image = _pil()
    if isinstance(item, Image.Image):
        return item.convert("RGB")
    if isinstance(item, np.ndarray):
        array = item
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
            raise ImageLoadError(f"array of shape {array.shape} is not an (H, W) or (H, W, 3|4) image")
        if array.dtype != np.uint8:
            array = np.clip(array * (255.0 if array.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        return Image.fromarray(array).convert("RGB")
    path = Path(item)
    if not path.is_file():
        raise ImageLoadError(f"file not found: {path}")
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("RGB")
    except Exception as err:  # PIL raises several types for broken files
        raise ImageLoadError(f"unreadable image {path.name}: {type(err).__name__}: {err}") from err
