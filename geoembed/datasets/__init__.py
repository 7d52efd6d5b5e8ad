"""Datasets: real-data downstream tasks (``downstream``)."""

from .downstream import DownstreamTask, list_tasks, load_task

__all__ = ["DownstreamTask", "list_tasks", "load_task"]
