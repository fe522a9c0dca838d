"""Files written for the user: names that never clobber, checks before paying, atomic writes.

A target is either the whole new file or untouched: bytes go to a temp file beside it, are
fsynced, then linked (create-if-absent) or, with --force, renamed into place.
"""

from __future__ import annotations

import os
import re

from gradient_inference.cli.base import EXIT_FAIL, EXIT_USAGE, CliError, note
from gradient_inference.errors import UsageError

SLUG_WORDS = 6

# ---------------------------------------------------------------- file names


def slug(text: str, fallback: str = "image") -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())[:SLUG_WORDS]
    return "-".join(words)[:60].strip("-") or fallback


def numbered(path: str, count: int) -> list[str]:
    """cat.png -> [cat.png] for one image, [cat-1.png, cat-2.png, ...] for more."""
    if count == 1:
        return [path]
    root, ext = os.path.splitext(path)
    return [f"{root}-{i}{ext}" for i in range(1, count + 1)]


def default_paths(
    text: str, suffixes: list[str], numbered_names: bool, force: bool, fallback: str = "image", folder: str = ""
) -> list[str]:
    """Names from the text and UTC time, one per suffix, in folder (default the current one); a counter keeps
    them clear of files already there."""
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = os.path.join(folder, f"{slug(text, fallback)}-{stamp}")
    for attempt in range(1, 1000):
        stem = base if attempt == 1 else f"{base}-{attempt}"
        if numbered_names:
            paths = [f"{stem}-{i}{suffix}" for i, suffix in enumerate(suffixes, 1)]
        else:
            paths = [stem + suffixes[0]]
        if force or not any(os.path.lexists(p) for p in paths):
            return paths
    raise CliError("cannot find a free default file name; pass --output", kind="file_exists")


def check_output_arg(output: str) -> None:
    """Usage errors for --output that need no request: empty, a folder, or ending in a separator."""
    if not output.strip():
        raise UsageError("--output must not be empty")
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        what = "is a folder" if os.path.isdir(output) else "ends with a path separator"
        raise UsageError(f"--output {output} {what}; give a file name such as {os.path.join(output, 'image.png')}")


def check_targets(paths: list[str], force: bool, before_sending: bool = False) -> None:
    """Fail before any write (and before paying for images, when the names are known) if a target is taken.
    `before_sending`: the names came from --output, so a taken one is bad input (exit 2), as a folder is."""
    for path in paths:
        if os.path.isdir(path):
            raise CliError(f"{path} is a folder, not a file name", kind="is_a_directory", exit_code=EXIT_USAGE)
        if not force and os.path.lexists(path):
            raise exists_error(path, EXIT_USAGE if before_sending else EXIT_FAIL)
    for parent in {os.path.dirname(p) or "." for p in paths}:
        ancestor = os.path.abspath(parent)
        while not os.path.exists(ancestor) and ancestor != os.path.dirname(ancestor):
            ancestor = os.path.dirname(ancestor)
        if not os.path.isdir(ancestor):
            raise CliError(f"cannot write into {parent}: {ancestor} is not a folder", kind="write_error")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise CliError(f"cannot write into {parent}: permission denied on {ancestor}", kind="write_error")


# ---------------------------------------------------------------- writing


def _file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_all(paths: list[str], blobs: list[bytes], force: bool, warn=note) -> None:
    """Write every image to a temp file beside its target, then move them into place (a new folder is said
    through warn: a command's stderr, the Python API's logger).

    A failure (or Ctrl-C) at any point removes the temp files, so a target is either the whole
    new image or untouched.
    """
    import tempfile

    temps: list[str] = []
    try:
        for path in paths:
            parent = os.path.dirname(path) or "."
            if not os.path.exists(parent):
                try:
                    os.makedirs(parent, exist_ok=True)
                except OSError as exc:
                    raise write_error(path, exc) from None
                warn(f"created folder {parent}")
        mode = _file_mode()
        for path, blob in zip(paths, blobs):
            try:
                fd, temp = tempfile.mkstemp(
                    prefix=f".{os.path.basename(path)}.", suffix=".part", dir=os.path.dirname(path) or "."
                )
            except OSError as exc:
                raise write_error(path, exc) from None
            temps.append(temp)
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(blob)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.chmod(temp, mode)
            except OSError as exc:
                raise write_error(path, exc) from None
        for index, (path, temp) in enumerate(zip(paths, temps)):
            try:
                _commit(temp, path, force)
            except FileExistsError:
                raise exists_error(path) from None
            except OSError as exc:
                raise write_error(path, exc) from None
            temps[index] = ""
    finally:
        for temp in temps:
            if temp:
                try:
                    os.unlink(temp)
                except OSError:
                    pass


def _commit(temp: str, path: str, force: bool) -> None:
    """Move temp to path; without force, never replace a file that appeared meanwhile."""
    if force:
        os.replace(temp, path)
        return
    try:
        os.link(temp, path)  # atomic create-if-absent
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some file systems): check, then rename
        if os.path.lexists(path):
            raise FileExistsError(str(path)) from None
        os.replace(temp, path)
        return
    os.unlink(temp)


def exists_error(path: str, exit_code: int = EXIT_FAIL) -> CliError:
    return CliError(f"{path} already exists; pass --force to overwrite it", kind="file_exists", exit_code=exit_code)


def write_error(path: str, exc: OSError) -> CliError:
    return CliError(f"cannot write {path}: {exc.strerror or exc}", kind="write_error")


_HELD_LOCKS: dict[str, int] = {}  # lock file -> its open descriptor: held until unlock_outputs or the process ends


def lock_output(path: str) -> None:
    """Hold an exclusive lock on PATH.lock (flock, so it dies with the process: never stale) holding our pid.

    A second writer of the same output exits 1 at once, naming the holder, before anything is sent. The file
    is removed by unlock_outputs while still locked, so a lock taken on a file just removed (another run had
    it open) is noticed by its inode and taken again on the new file."""
    import fcntl

    lock_path = path + ".lock"
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise write_error(lock_path, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise CliError(
                f"{path} is being written by another gradient-batch run (pid {holder}); "
                "wait for it to finish or stop it, then rerun",
                kind="output_locked",
            ) from None
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the run that held it removed it as we locked it: lock the new one
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _HELD_LOCKS[lock_path] = fd


def unlock_outputs() -> None:
    """Remove every lock file this process holds (still locked as it goes, so no other run sees it free)."""
    while _HELD_LOCKS:
        lock_path, fd = _HELD_LOCKS.popitem()
        try:
            os.unlink(lock_path)
        except OSError:
            pass
        os.close(fd)
