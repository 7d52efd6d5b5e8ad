"""Moved to :mod:`geoembed.models.geoclip` in 0.3; this path warns and is removed in 0.4."""

from geoembed.core.utils import moved_attribute

#: Every public name of this module, and where it lives now.
MOVED = dict.fromkeys(
    [
        "ARCHITECTURE",
        "FourierBranch",
        "GeoCLIPLocationEncoder",
        "LocationEncoderConfig",
        "bfloat16_is_fast",
        "convert_official_state_dict",
        "geoclip_projection",
        "infer_config",
    ],
    "geoembed.models.geoclip",
)
__all__ = sorted(MOVED)


def __getattr__(name):
    return moved_attribute(__name__, name, MOVED)
