"""Image-to-GPS retrieval with GeoCLIP: locator, galleries, CLIP backbone and evaluation."""

from .gallery import GPSGallery
from .locator import GeoLocator

__all__ = ["GPSGallery", "GeoLocator"]
