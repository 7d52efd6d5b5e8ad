"""The foundation layer: what every other layer builds on and that imports nothing above it.

:mod:`.geo` (coordinate validation, bounding boxes, projections, distances), :mod:`.inputs`
(reading coordinates by column name), :mod:`.geometry` (geometries in any CRS), :mod:`.params`
(parameter constraints), :mod:`.errors`, :mod:`.cache`, :mod:`.utils` (devices, hashes, optional
imports, the deprecation mechanism) and :mod:`.data` (bundled sample data).
"""

__all__: list[str] = []
