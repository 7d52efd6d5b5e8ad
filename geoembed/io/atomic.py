"""Atomic writes: a file or folder appears at its path complete, or not at all.

Every writer in the package writes into a temporary sibling of its target and moves it into
place only when the write has finished. An error or Ctrl-C half way leaves the previous
target (if any) untouched and no temporary file behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from pathlib import Path

__all__ = ["AtomicOutput", "atomic_output"]


class AtomicOutput:
    """A temporary path that replaces ``target`` on :meth:`commit` and vanishes on :meth:`discard`.

    Usually made by :func:`atomic_output` and used as a context manager; writers that outlive
    one ``with`` block (e.g. a writer object with ``write``/``close`` methods) call
    :meth:`open`, :meth:`commit` and :meth:`discard` themselves.

    Parameters
    ----------
    target : str or os.PathLike
        The final path of the file or folder. Its parent folder must exist.
    directory : bool, default=False
        The output is a folder (e.g. a ``.zarr`` store): the temporary path is an empty folder.
        Otherwise it is an empty file.
    overwrite : bool, default=True
        Replace an existing target. With False, an existing target raises ``FileExistsError``
        when the output is opened, before anything is written, and again at commit if one
        appeared in the meantime.
    fsync : bool, default=True
        Flush the written data (every file of a folder) and the parent folder to disk at
        commit, so that a power cut cannot leave a complete-looking but empty target.

    Attributes
    ----------
    target : pathlib.Path
        The final path.
    temporary_path : pathlib.Path or None
        Where to write: ``<parent>/.<name>.<random>.tmp<suffix>``, in the target's folder (so
        the final rename stays on one file system) and ending with the target's suffix (so
        writers that pick a format from the suffix, or append one, behave). None before
        :meth:`open` and after :meth:`commit` or :meth:`discard`.

    Notes
    -----
    A file target is replaced with one ``os.replace``, atomic on POSIX and Windows. A folder
    cannot be swapped atomically onto an existing folder: the old one is first renamed to a
    temporary name, the new one renamed into place, and only then is the old one deleted; if
    the second rename fails, the old folder is put back. Readers may therefore briefly see no
    folder at the target, but never a partial one.
    """

    def __init__(self, target, *, directory: bool = False, overwrite: bool = True, fsync: bool = True):
        self.target = Path(target)
        self.directory = directory
        self.overwrite = overwrite
        self.fsync = fsync
        self.temporary_path: Path | None = None

    def open(self) -> Path:
        """Create the empty temporary file or folder and return its path."""
        if self.temporary_path is not None:
            raise RuntimeError(f"the atomic output for {self.target} is already open")
        parent = self.target.parent
        if not parent.is_dir():
            raise FileNotFoundError(f"cannot write {self.target}: folder {parent} does not exist")
        self._refuse_existing_target()
        for _ in range(100):
            candidate = parent / f".{self.target.name}.{secrets.token_hex(4)}.tmp{self.target.suffix}"
            try:  # created with the umask's permissions, unlike tempfile's private 0600/0700
                if self.directory:
                    os.mkdir(candidate, 0o777)
                else:
                    os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            except FileExistsError:
                continue
            # the umask's permissions, to give back at commit to what a writer made private
            self._mode = stat.S_IMODE(os.stat(candidate).st_mode)
            self.temporary_path = candidate
            return candidate
        raise FileExistsError(f"no free temporary name next to {self.target}")

    def commit(self) -> Path:
        """Move the finished temporary output onto the target; returns the target.

        On failure the temporary output is removed and the error re-raised.
        """
        temporary = self._open_path()
        try:
            self._refuse_existing_target()
            _restore_modes(temporary, self._mode, self.directory)
            if self.fsync:
                _fsync_tree(temporary)
            if self.directory:
                self._replace_directory(temporary)
            else:
                os.replace(temporary, self.target)
            if self.fsync:
                _fsync_directory(self.target.parent)
        except BaseException:
            self.discard()
            raise
        self.temporary_path = None
        return self.target

    def finish(self, close) -> Path:
        """For a writer that keeps the temporary output open: ``close()`` it (flush, close its handles,
        check it), then :meth:`commit`; if ``close`` raises, the temporary output is removed and the
        error re-raised. Returns the target.
        """
        try:
            close()
        except BaseException:
            self.discard()
            raise
        return self.commit()

    def abandon(self, close) -> None:
        """For a writer that keeps the temporary output open: ``close()`` its handles, then
        :meth:`discard`, even if ``close`` raises.
        """
        try:
            close()
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary output (a no-op when none is open); the target is left as it was."""
        temporary, self.temporary_path = self.temporary_path, None
        if temporary is not None:
            _remove(temporary)

    def __enter__(self) -> Path:
        return self.open()

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc_type is None:
            self.commit()
        else:
            self.discard()
        return False

    def _open_path(self) -> Path:
        if self.temporary_path is None:
            raise RuntimeError(f"the atomic output for {self.target} is not open")
        return self.temporary_path

    def _refuse_existing_target(self) -> None:
        if not self.overwrite and (self.target.exists() or self.target.is_symlink()):
            raise FileExistsError(f"{self.target} exists; pass overwrite=True to replace it")

    def _replace_directory(self, temporary: Path) -> None:
        if not self.target.exists() and not self.target.is_symlink():
            os.replace(temporary, self.target)
            return
        if not self.target.is_dir() or self.target.is_symlink():
            os.replace(temporary, self.target)  # a folder cannot replace a file: the OS raises
            return
        retired = self.target.with_name(f".{self.target.name}.{secrets.token_hex(4)}.old")
        os.replace(self.target, retired)
        try:
            os.replace(temporary, self.target)
        except BaseException:
            os.replace(retired, self.target)
            raise
        shutil.rmtree(retired, ignore_errors=True)


def atomic_output(target, *, directory: bool = False, overwrite: bool = True, fsync: bool = True) -> AtomicOutput:
    r"""Write a file or folder atomically: ``with atomic_output(path) as tmp: write(tmp)``.

    The ``with`` block gets a temporary path next to ``target``; when the block ends normally
    the temporary output is flushed to disk and renamed onto ``target``. When it raises
    (any exception, ``KeyboardInterrupt`` included) the temporary output is removed, the
    target is left as it was, and the exception propagates.

    Parameters
    ----------
    target : str or os.PathLike
        Final path of the file or folder; its parent folder must exist.
    directory : bool, default=False
        Write a folder (e.g. a ``.zarr`` store) instead of a file. An existing folder at
        ``target`` is deleted only after the new one is complete and in place.
    overwrite : bool, default=True
        Replace an existing target; with False an existing target raises ``FileExistsError``
        before anything is written.
    fsync : bool, default=True
        Flush data and the parent folder to disk before returning.

    Returns
    -------
    AtomicOutput
        A context manager whose ``__enter__`` returns the temporary :class:`pathlib.Path`:
        ``<parent>/.<name>.<random>.tmp<suffix>``, e.g. ``.out.csv.k2j9x1.tmp.csv``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_output(folder / "table.csv") as tmp:
    ...     _ = tmp.write_text("a,b\\n1,2\\n")
    >>> sorted(p.name for p in folder.iterdir())
    ['table.csv']
    """
    return AtomicOutput(target, directory=directory, overwrite=overwrite, fsync=fsync)


def _restore_modes(path: Path, mode: int, directory: bool) -> None:
    """Give the umask's permissions back to files (and folders) a writer made private.

    Some writers (safetensors' ``save_file``, anything built on ``tempfile``) write a private
    0600 file, or a 0700 folder, and rename it over the path they were given, so the output
    would be unreadable to everyone but its owner, unlike every other file the user makes.
    Only permissions missing from the umask's are added (execute bits and wider permissions
    stay); symbolic links are not followed. Best effort, one pass with one ``lstat`` per
    entry: a file system that refuses ``chmod`` keeps the output as written. POSIX only
    (elsewhere ``chmod`` only toggles read-only).
    """
    if os.name != "posix":
        return

    def widen(entry_path, wanted):
        try:
            current = stat.S_IMODE(os.lstat(entry_path).st_mode)
            if current | wanted != current:
                os.chmod(entry_path, current | wanted)
        except OSError:
            pass

    if not directory:
        if not path.is_symlink():
            widen(path, mode)
        return
    for root, folders, files in os.walk(path):  # os.walk does not descend into linked folders
        for name in folders:
            if not os.path.islink(os.path.join(root, name)):
                widen(os.path.join(root, name), mode)
        for name in files:
            file = os.path.join(root, name)
            if not os.path.islink(file):
                widen(file, mode & 0o666)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _fsync_file(path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(path) -> None:
    if os.name != "posix":  # folders cannot be opened for fsync on Windows
        return
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _fsync_tree(path: Path) -> None:
    if not path.is_dir():
        _fsync_file(path)
        return
    for folder, _, files in os.walk(path):
        for name in files:
            _fsync_file(os.path.join(folder, name))
        _fsync_directory(folder)
