"""em-sim for pytest: the ``em_sim`` fixture and the ``em_sim_pods`` marker (see plugin.py)."""

from .plugin import EmSim, EmSimError

__all__ = ["EmSim", "EmSimError"]
