"""The models layer: torch modules next to their weights (as in torchgeo).

:mod:`.geoclip` holds GeoCLIP's location encoder (module and config, projection, checkpoint
reading and writing, pre-packed inference kernels); :mod:`.weights` the named-weights registry,
its resolver and the bundled files.
"""

__all__: list[str] = []
