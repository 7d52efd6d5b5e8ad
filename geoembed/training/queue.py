"""GeoCLIP's dynamic queue of past GPS coordinates (raw, re-encoded at every step)."""

from __future__ import annotations

import torch

__all__ = ["GPSQueue"]


class GPSQueue:
    """A ring buffer of the last ``size`` (lat, lon) pairs seen in training.

    ``push`` overwrites the oldest entries first and wraps around; ``coordinates()`` returns
    the filled part. Stored raw, so every step encodes them with the current encoder.
    """

    def __init__(self, size: int):
        if size < 0:
            raise ValueError(f"queue size must be >= 0; got {size}")
        self.size = size
        self.buffer = torch.zeros(size, 2)
        self.pointer = 0
        self.filled = 0

    def push(self, latlon: torch.Tensor) -> None:
        if self.size == 0:
            return
        latlon = latlon.detach().to(self.buffer.dtype).cpu()[-self.size :]
        n = latlon.shape[0]
        end = self.pointer + n
        if end <= self.size:
            self.buffer[self.pointer : end] = latlon
        else:
            first = self.size - self.pointer
            self.buffer[self.pointer :] = latlon[:first]
            self.buffer[: n - first] = latlon[first:]
        self.pointer = end % self.size
        self.filled = min(self.size, self.filled + n)

    def coordinates(self) -> torch.Tensor:
        return self.buffer[: self.filled]

    def state_dict(self) -> dict:
        return {
            "buffer": self.buffer.clone(),
            "pointer": torch.tensor(self.pointer),
            "filled": torch.tensor(self.filled),
        }

    def load_state_dict(self, state: dict) -> None:
        if state["buffer"].shape != self.buffer.shape:
            raise ValueError(
                f"queue state has shape {tuple(state['buffer'].shape)}, expected {tuple(self.buffer.shape)}"
            )
        self.buffer = state["buffer"].clone()
        self.pointer, self.filled = int(state["pointer"]), int(state["filled"])
