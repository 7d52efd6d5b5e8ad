"""Output-path checks, made before any work: an output that would replace an input (the same
file under another name included), an existing output without permission to replace it, a folder
that cannot be written. Every command and job that writes a file uses these.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["check_output_path", "check_writable_folder", "same_file"]


def same_file(first, second) -> bool:
    """Whether two paths name the same file.

    Parameters
    ----------
    first, second : str or Path

    Returns
    -------
    bool
        When both exist: the same device and inode (so a symlink, a hard link or another
        spelling of the path counts as the same file). Otherwise: the same fully resolved path.
    """
    try:
        return os.path.samefile(first, second)
    except OSError:  # at least one does not exist (or cannot be examined)
        pass
    try:
        return Path(first).resolve() == Path(second).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return os.path.abspath(first) == os.path.abspath(second)


def check_output_path(
    output, inputs=(), *, overwrite: bool = True, directory: bool = False, overwrite_hint: str = "overwrite=True"
) -> Path:
    """Check, before any work, that ``output`` can be written without harm.

    Parameters
    ----------
    output : str or Path
        The file (or folder, with ``directory=True``) about to be written.
    inputs : iterable of str, Path or None, default=()
        Files the job reads; None entries are skipped.
    overwrite : bool, default=True
        Whether an existing ``output`` may be replaced.
    directory : bool, default=False
        ``output`` is a folder (e.g. a ``.zarr`` store) rather than a file.
    overwrite_hint : str, default="overwrite=True"
        How the caller spells the permission to overwrite, for the error message (the CLI
        passes ``"--overwrite"``).

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    ValueError
        ``output`` is one of ``inputs``, under any path (symlink, hard link, ``..``).
    FileExistsError
        ``output`` exists and ``overwrite`` is False.
    FileNotFoundError
        The folder of ``output`` does not exist.
    IsADirectoryError
        A file output names an existing folder.
    PermissionError
        The folder of ``output`` is not writable.
    """
    output = Path(output)
    for source in inputs:
        if source is not None and same_file(output, source):
            raise ValueError(
                f"refusing to write {output} over the input {source} (the same file); choose another output path"
            )
    if not overwrite and (output.exists() or output.is_symlink()):
        raise FileExistsError(f"{output} already exists; pass {overwrite_hint} to replace it")
    if not output.parent.is_dir():
        raise FileNotFoundError(f"cannot write {output}: folder {output.parent} does not exist")
    if not directory and output.is_dir():
        raise IsADirectoryError(f"cannot write {output}: it is a folder")
    if not os.access(output.parent, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {output}: folder {output.parent} is not writable")
    return output


def check_writable_folder(folder, *, what: str = "folder") -> Path:
    """Check, before any work, that files can be written in ``folder``, existing or to be created.

    Parameters
    ----------
    folder : str or Path
        The folder (it and missing parents are created later, by the writer).
    what : str, default="folder"
        What the folder is, for messages, e.g. "checkpoint folder".

    Returns
    -------
    pathlib.Path
        ``folder``.

    Raises
    ------
    NotADirectoryError
        ``folder`` or one of its parents is a file.
    PermissionError
        The nearest existing folder (``folder`` itself, or the parent it would be created in)
        is not writable for this user. (For root, as for ``os.access``, only a read-only file
        system counts.)
    """
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"cannot write the {what} {folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write the {what} {folder}: folder {existing} is not writable")
    return folder
