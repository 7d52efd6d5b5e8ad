"""Moved to :mod:`geoembed.models.weights` in 0.3; this path warns and is removed in 0.4."""

from geoembed.core.utils import moved_attribute

#: Every public name of this module, and where it lives now.
MOVED = dict.fromkeys(
    [
        "DEFAULT_WEIGHTS",
        "GPS_GALLERY_FILE",
        "IMAGE_MLP_FILE",
        "LOCATION_ENCODER_FILE",
        "Weights",
        "get_weights",
        "list_weights",
        "load_gps_gallery",
        "load_image_mlp_state",
        "load_pca_basis",
        "provenance",
        "ResolvedWeights",
        "register_weights",
        "resolve_location_weights",
        "resolve_weights",
        "verify_bundled_files",
        "verify_weights_file",
        "weights_for_file",
    ],
    "geoembed.models.weights",
) | {"load_location_encoder": "geoembed.models.geoclip"}
__all__ = sorted(MOVED)


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)
