"""Exit statuses of the ``geoembed`` command."""

__all__ = ["EXIT_FAILURE", "EXIT_USAGE"]

#: Exit status of usage and input errors (argparse's own).
EXIT_USAGE = 2
#: Exit status of any other failure.
EXIT_FAILURE = 1
