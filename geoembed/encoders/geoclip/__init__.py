"""GeoCLIP's location encoder: the torch model and checkpoints (:mod:`.model`) and the
scikit-learn transformer (:mod:`.estimator`).
"""

from geoembed.encoders.geoclip.estimator import GeoCLIPEncoder
from geoembed.models.geoclip import (
    ARCHITECTURE,
    FourierBranch,
    GeoCLIPLocationEncoder,
    LocationEncoderConfig,
    bfloat16_is_fast,
    convert_official_state_dict,
    geoclip_projection,
    infer_config,
)

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
