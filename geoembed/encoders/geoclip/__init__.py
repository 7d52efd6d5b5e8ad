"""GeoCLIP's location encoder as a scikit-learn transformer (:mod:`.estimator`), with the torch
model's names re-exported from :mod:`geoembed.models.geoclip`, where the model lives.
"""

from geoembed.encoders.geoclip.estimator import GeoCLIPEncoder
from geoembed.models.geoclip import (
    ARCHITECTURE,
    FourierBranch,
    GeoCLIPLocationEncoder,
    LocationEncoderConfig,
    convert_official_state_dict,
    geoclip_projection,
    infer_config,
)
from geoembed.models.kernels import bfloat16_is_fast

__all__ = [
    "ARCHITECTURE",
    "FourierBranch",
    "GeoCLIPEncoder",
    "GeoCLIPLocationEncoder",
    "LocationEncoderConfig",
    "bfloat16_is_fast",
    "convert_official_state_dict",
    "geoclip_projection",
    "infer_config",
]
