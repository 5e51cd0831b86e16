"""The workspace jail: every path a tool touches is inside ``WORKSPACE_ROOT``.

Assumes: the root exists when the jail is made (its real path is taken then).
Guarantees: ``resolve`` refuses ``..`` components, NUL bytes, absolute paths outside the root,
and paths whose symlinks lead outside it; ``read_bytes`` and ``write_text`` re-walk the resolved
path one component at a time from a descriptor of the root with ``O_NOFOLLOW``, so a directory
swapped for a symlink between the check and the use is refused, not followed (no check-then-use
race). Never: follows a symlink at open time, or writes anything but through a temporary file
renamed into place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path, PurePosixPath

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class PathRefused(ValueError):
    """A path outside the workspace, or one that cannot be used safely; the message says why."""


class Jail:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve(strict=True)

    def resolve(self, path: str) -> Path:
        """The real path of ``path`` (relative to the root, or absolute inside it)."""
        if not isinstance(path, str) or not path.strip():
            raise PathRefused("a path must be a non-empty string")
        if "\x00" in path:
            raise PathRefused("a path must not contain NUL bytes")
        if ".." in PurePosixPath(path).parts:
            raise PathRefused(f"{path!r}: '..' is not allowed in workspace paths")
        candidate = Path(path).expanduser() if path.startswith("~") else Path(path)
        full = candidate if candidate.is_absolute() else self.root / candidate
        try:
            resolved = full.resolve(strict=False)
        except (OSError, RuntimeError) as error:  # a symlink loop (RuntimeError before 3.13)
            raise PathRefused(f"{path!r} cannot be resolved: {error}") from None
        if not resolved.is_relative_to(self.root):
            reason = (
                "is outside"
                if not full.is_relative_to(self.root)
                else "leads outside (through a symlink)"
            )
            raise PathRefused(f"{path!r} {reason} the workspace root")
        return resolved

    def relative(self, path: str) -> str:
        """``path`` as a root-relative POSIX path ("." for the root)."""
        return self.resolve(path).relative_to(self.root).as_posix()

    def read_bytes(self, path: str, limit: int) -> bytes:
        """At most ``limit`` bytes of a file inside the jail, opened without following links."""
        _, parent, name = self._open_parent(path)
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
        except OSError as error:
            raise _refusal(path, error) from None
        finally:
            os.close(parent)
        try:
            with os.fdopen(fd, "rb") as handle:
                return handle.read(limit)
        except OSError as error:
            raise _refusal(path, error) from None

    def write_text(self, path: str, text: str) -> Path:
        """Write ``text`` through a temporary file renamed over ``path``; the real path."""
        target, parent, name = self._open_parent(path, create_dirs=True)
        temp = f".{name}.lynkr-{secrets.token_hex(4)}"
        try:
            fd = os.open(
                temp,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o644,
                dir_fd=parent,
            )
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except OSError as error:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=parent)
            raise _refusal(path, error) from None
        finally:
            os.close(parent)
        return target

    def _open_parent(self, path: str, *, create_dirs: bool = False) -> tuple[Path, int, str]:
        """The resolved path, a descriptor of its directory reached from the root one
        component at a time without following symlinks, and the last component's name."""
        resolved = self.resolve(path)
        parts = resolved.relative_to(self.root).parts
        if not parts:
            raise PathRefused(f"{path!r} is the workspace root, not a file")
        fd = os.open(self.root, _DIR)
        try:
            for part in parts[:-1]:
                if create_dirs:
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o755, dir_fd=fd)
                next_fd = os.open(part, _DIR, dir_fd=fd)
                os.close(fd)
                fd = next_fd
        except OSError as error:
            os.close(fd)
            raise _refusal(path, error) from None
        return resolved, fd, parts[-1]


def _refusal(path: str, error: OSError) -> PathRefused:
    if error.errno in (errno.ELOOP, errno.ENOTDIR):  # O_NOFOLLOW met a symlink
        return PathRefused(
            f"{path!r} passes through a symlink (or a file where a folder "
            "should be) at the time of use; refused"
        )
    return PathRefused(f"{path!r}: {error.strerror or error}")
