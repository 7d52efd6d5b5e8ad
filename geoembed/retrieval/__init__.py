"""Image-to-GPS retrieval with GeoCLIP: locator, galleries, CLIP backbone and evaluation."""

from geoembed.retrieval.gallery import GPSGallery
from geoembed.retrieval.locator import GeoLocator

__all__ = ["GPSGallery", "GeoLocator"]
