"""Datasets: real-data downstream tasks (``downstream``) and the held-out task pool (``heldout``)."""

from geoembed.datasets.downstream import DownstreamTask, list_tasks, load_task
from geoembed.datasets.heldout import heldout_split, list_heldout_tasks, load_heldout_task

__all__ = ["DownstreamTask", "heldout_split", "list_heldout_tasks", "list_tasks", "load_heldout_task", "load_task"]
