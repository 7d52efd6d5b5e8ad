"""Running a command: exit statuses, signals, one-line errors and warnings."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import warnings

from geoembed.cli._exits import EXIT_FAILURE, EXIT_USAGE
from geoembed.cli._parser import build_parser

__all__ = ["main"]


_INPUT_OS_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError)


class _Terminated(SystemExit):
    """Raised by the signal handler, so that ``finally`` blocks and atomic writers clean up."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_raise(signums=("SIGTERM", "SIGHUP")):
    """Turn SIGTERM (and SIGHUP) into :class:`_Terminated` while the block runs; yields the signals received.

    Only signals left at their default action are taken over (not ones the parent process
    chose to ignore, as ``nohup`` does), and only in the main thread, where Python runs
    handlers. A second termination signal during the clean-up is ignored. Ctrl-C keeps
    raising ``KeyboardInterrupt`` and is recorded too: some C extensions replace the
    exception a handler raises with one of their own, and the record still tells main why
    the command stopped.
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def terminate(signum, frame):
        if not received:
            received.append(signum)
            raise _Terminated(signum)

    def interrupt(signum, frame):
        received.append(signum)
        raise KeyboardInterrupt

    previous = {}
    for name in signums:
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, terminate)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, interrupt)
    try:
        yield received
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _is_input_error(err: BaseException) -> bool:
    if isinstance(err, (ValueError, *_INPUT_OS_ERRORS)):
        return True
    backbone = sys.modules.get("geoembed.retrieval.backbone")  # loaded whenever it could have raised
    return backbone is not None and isinstance(err, backbone.BackboneNotAvailableError)


#: The library's spelling of a parameter in a message -> the command line's (errors and warnings
#: come from the estimators, which name their parameters; a user of the command types options).
#: A name inside quotes, a path or a longer word (a column named "n_components", a file
#: n_components.csv) is left as it is.
_OUTSIDE = r"(?<![-\w/.'\"\\])"
_CLI_SPELLINGS = [
    (r"\bThe '(\w+)' parameter of \w+ must be", lambda m: f"{_option(m[1])} must be"),
    (_OUTSIDE + r"wrap_longitude=True\b", "--wrap-longitude"),
    (_OUTSIDE + r"on_invalid='(nan|raise)'", r"--on-invalid \1"),
    (_OUTSIDE + r"use interpolation_km=None\b", "leave out --interpolation-km"),
    (_OUTSIDE + r"interpolation_km=None\b", "without --interpolation-km"),
    (
        _OUTSIDE + r"(interpolation_km|interpolation_cache_gb|n_components)=([0-9][0-9.e+-]*)(?![\w.'\"])",
        lambda m: f"{_option(m[1])} {m[2]}",
    ),
    (_OUTSIDE + r"(interpolation_km|interpolation_cache_gb|n_components)(?![\w.'\"/=])", lambda m: _option(m[1])),
    (_OUTSIDE + r"(device|precision)='([\w:]+)'", lambda m: f"{_option(m[1])} {m[2]}"),
    (_OUTSIDE + r"weights='([\w.:-]+)'", r"--weights \1"),
    (_OUTSIDE + r"(lat|lon)_col=(\.\.\.)?", r"--\1-col"),
    (r"\(given as (lat|lon)_col\)", r"(given as --\1-col)"),
]


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _cli_spelling(text: str) -> str:
    """``text`` with the library's parameter spellings replaced by the command line's options."""
    import re

    for pattern, replacement in _CLI_SPELLINGS:
        text = re.sub(pattern, replacement, text)
    return text


def _one_line(err: BaseException) -> str:
    text = _cli_spelling("; ".join(line.strip() for line in str(err).splitlines() if line.strip()))
    if isinstance(err, (ValueError, OSError, ImportError)) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _debug_requested(args) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("GEOEMBED_DEBUG", "").strip() not in ("", "0")


def main(argv=None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments after the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 2 for usage and input errors, 1 for other failures
        (and for ``locate`` when some images could not be read), 130 after Ctrl-C, 128 + N
        after signal N. With ``--debug`` or ``GEOEMBED_DEBUG=1`` errors propagate instead.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # a usage error (already printed), or --help
        return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
    debug = _debug_requested(args)
    with _signals_raise() as received, warnings.catch_warnings():
        if not debug:  # the source line of a warning would be the package's, not the user's command
            warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except (Exception, KeyboardInterrupt, _Terminated) as err:
            if debug:
                raise
            return _report(err, received)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one line, ``geoembed: warning: ...``, like errors (the full form with --debug)."""
    kind = "" if issubclass(category, (UserWarning, DeprecationWarning, FutureWarning)) else f"{category.__name__}: "
    text = _cli_spelling("; ".join(part.strip() for part in str(message).splitlines() if part.strip()))
    print(f"geoembed: warning: {kind}{text}", file=file or sys.stderr)


def _report(err: BaseException, received: list) -> int:
    """Print the one-line message for ``err`` and return the exit status."""
    if received or isinstance(err, (KeyboardInterrupt, _Terminated)):
        signum = received[0] if received else getattr(err, "signum", signal.SIGINT)
        name = signal.Signals(signum).name
        print(
            "geoembed: interrupted" if signum == signal.SIGINT else f"geoembed: terminated by {name}", file=sys.stderr
        )
        return 128 + signum
    if _is_input_error(err):
        print(f"geoembed: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    print(f"geoembed: error: {_one_line(err)} (run with --debug for the traceback)", file=sys.stderr)
    return EXIT_FAILURE
