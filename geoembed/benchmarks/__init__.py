"""Benchmarks that ship with geoembed and run from an installed package (``geoembed bench ...``).

- :mod:`~geoembed.benchmarks.nuswide`: NUS-WIDE multi-label mAP of geo, visual and fused features
- :mod:`~geoembed.benchmarks.downstream`: the downstream suite, location encoders x real tasks x probes
- :mod:`~geoembed.benchmarks.report`: the machine description and results files every benchmark writes

The source checkout's ``benchmarks/`` folder holds only the scripts that write
``benchmarks/results/`` (speed runs, frontiers), built on this installed code.
"""

__all__: list[str] = []  # the benchmarks are its submodules
