"""The frozen CLIP backbone (ViT-L/14 for GeoCLIP), loaded through ``transformers``."""

from __future__ import annotations

import torch

from geoembed.core.utils import optional_import

__all__ = ["BackboneNotAvailableError", "CLIPBackbone", "DEFAULT_BACKBONE"]

#: The Hugging Face name of the CLIP model GeoCLIP was trained with (ViT-L/14).
DEFAULT_BACKBONE = "openai/clip-vit-large-patch14"


class BackboneNotAvailableError(OSError):
    """The CLIP backbone is neither a local folder nor in the local Hugging Face cache."""


def _transformers():
    return optional_import("transformers", extra="images", purpose="the CLIP backbone")


def _as_tensor(output) -> torch.Tensor:
    """Projected features across transformers versions (tensor, or an output with pooler_output)."""
    if isinstance(output, torch.Tensor):
        return output
    for name in ("image_embeds", "text_embeds", "pooler_output"):
        value = getattr(output, name, None)
        if isinstance(value, torch.Tensor):
            return value
    raise TypeError(f"unexpected CLIP feature output of type {type(output).__name__}")


class CLIPBackbone:
    """CLIP image and text towers giving ``get_image_features`` / ``get_text_features`` (n, 768).

    Build it with :meth:`from_pretrained`. Nothing is downloaded unless ``allow_download=True``.
    """

    def __init__(self, model, image_processor, tokenizer=None, *, device="cpu"):
        self.model = model.eval().to(device)
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.image_processor = image_processor
        self.tokenizer = tokenizer
        self.device = torch.device(device)

    @property
    def feature_dim(self) -> int:
        return int(self.model.config.projection_dim)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str = DEFAULT_BACKBONE, *, allow_download: bool = False, device="cpu"
    ) -> CLIPBackbone:
        """Load a CLIP model from a local folder, the local Hugging Face cache, or (only when
        ``allow_download=True``) the Hugging Face Hub.
        """
        transformers = _transformers()
        options = {"local_files_only": not allow_download}
        try:
            model = transformers.CLIPModel.from_pretrained(name_or_path, **options)
            processor = transformers.CLIPImageProcessor.from_pretrained(name_or_path, **options)
        except OSError as err:
            if allow_download:
                reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise BackboneNotAvailableError(
                    f"CLIP backbone {name_or_path!r} is not available locally and downloading it from the Hugging "
                    f"Face Hub failed: {reason}. Check the network (and the model id), or download it elsewhere, "
                    f"e.g. `hf download {DEFAULT_BACKBONE} --local-dir clip-vit-l14`, and pass that folder."
                ) from err
            raise BackboneNotAvailableError(
                f"CLIP backbone {name_or_path!r} was not found locally and downloads are off. Either pass "
                f"allow_download=True (the CLI: --allow-download) to fetch it from the Hugging Face Hub "
                f"(about 1.7 GB for ViT-L/14), or download it yourself, e.g. "
                f"`hf download {DEFAULT_BACKBONE} --local-dir clip-vit-l14`, and pass that folder."
            ) from err
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(name_or_path, **options)
        except (OSError, ValueError):
            tokenizer = None  # image-only use still works
        return cls(model, processor, tokenizer, device=device)

    @torch.inference_mode()
    def image_features(self, images) -> torch.Tensor:
        """(n, projection_dim) float32 features of a list of PIL RGB images."""
        pixels = self.image_processor(images=images, return_tensors="pt")["pixel_values"].to(self.device)
        return _as_tensor(self.model.get_image_features(pixel_values=pixels)).float()

    @torch.inference_mode()
    def text_features(self, texts: list[str]) -> torch.Tensor:
        """(n, projection_dim) float32 features of a list of strings."""
        if self.tokenizer is None:
            raise ValueError("this CLIP backbone was loaded without a tokenizer; text queries need one")
        tokens = self.tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt").to(self.device)
        return _as_tensor(self.model.get_text_features(**tokens)).float()
