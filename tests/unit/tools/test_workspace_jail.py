"""The workspace jail: escapes refused (table), symlinks leaving the root refused, and the
check-then-use race closed (a directory swapped for a symlink between the check and the
open is refused, never followed), both injected at the worst moment and raced for real."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from lynkr.tools.workspace.jail import Jail, PathRefused

SECRET = b"outside secret"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Jail, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "a.txt").write_bytes(b"a")
    (root / "sub" / "b.txt").write_bytes(b"b")
    (outside / "secret.txt").write_bytes(SECRET)
    (outside / "b.txt").write_bytes(SECRET)
    (tmp_path / "root-evil").mkdir()  # a sibling sharing the root's name as a prefix
    (tmp_path / "root-evil" / "x").write_bytes(SECRET)
    (root / "link_in").symlink_to(root / "sub")
    (root / "link_rel_in").symlink_to("sub/b.txt")
    (root / "link_out").symlink_to(outside)
    (root / "link_file_out").symlink_to(outside / "secret.txt")
    (root / "link_rel_out").symlink_to("../outside/secret.txt")
    (root / "sub" / "deep_out").symlink_to("../../outside")
    (root / "loop").symlink_to(root / "loop")
    return Jail(root), tmp_path


ALLOWED = [
    ("a.txt", "a.txt"),
    ("sub/b.txt", "sub/b.txt"),
    ("./sub/b.txt", "sub/b.txt"),
    ("sub//b.txt", "sub/b.txt"),
    ("{root}/a.txt", "a.txt"),
    ("link_in/b.txt", "sub/b.txt"),  # a symlink that stays inside resolves to its target
    ("link_rel_in", "sub/b.txt"),
    ("new/file.md", "new/file.md"),  # not there yet: fine for writing
]
REFUSED = [
    ("../outside/secret.txt", "'..' is not allowed"),
    ("sub/../a.txt", "'..' is not allowed"),
    ("sub/../../outside/secret.txt", "'..' is not allowed"),
    ("/etc/passwd", "is outside the workspace root"),
    ("{tmp}/root-evil/x", "is outside the workspace root"),
    ("{tmp}/outside/secret.txt", "is outside the workspace root"),
    ("link_out/secret.txt", "leads outside (through a symlink)"),
    ("link_file_out", "leads outside (through a symlink)"),
    ("link_rel_out", "leads outside (through a symlink)"),
    ("sub/deep_out/secret.txt", "leads outside (through a symlink)"),
    ("loop", "cannot be resolved"),
    ("~/.ssh/id_rsa", "is outside the workspace root"),
    ("", "non-empty string"),
    ("   ", "non-empty string"),
    ("a\x00.txt", "NUL bytes"),
]


@pytest.mark.parametrize(("path", "relative"), ALLOWED)
def test_paths_inside_the_root_resolve(layout: tuple[Jail, Path], path: str, relative: str) -> None:
    jail, tmp = layout
    assert jail.relative(path.format(root=jail.root, tmp=tmp)) == relative


@pytest.mark.parametrize(("path", "reason"), REFUSED)
def test_escapes_are_refused(layout: tuple[Jail, Path], path: str, reason: str) -> None:
    jail, tmp = layout
    with pytest.raises(PathRefused, match=reason.replace("(", r"\(").replace(")", r"\)")):
        jail.resolve(path.format(root=jail.root, tmp=tmp))


@pytest.mark.parametrize("path", [p for p, _ in REFUSED if p.strip() and "\x00" not in p])
def test_refused_paths_are_neither_read_nor_written(layout: tuple[Jail, Path], path: str) -> None:
    jail, tmp = layout
    path = path.format(root=jail.root, tmp=tmp)
    with pytest.raises(PathRefused):
        jail.read_bytes(path, 100)
    with pytest.raises(PathRefused):
        jail.write_text(path, "overwritten")
    assert (tmp / "outside" / "secret.txt").read_bytes() == SECRET


def test_reads_and_writes_inside(layout: tuple[Jail, Path]) -> None:
    jail, _ = layout
    assert jail.read_bytes("link_in/b.txt", 100) == b"b"
    assert jail.read_bytes("a.txt", 0) == b""
    written = jail.write_text("docs/new/SUMMARY.md", "hello")
    assert written == jail.root / "docs" / "new" / "SUMMARY.md"
    assert written.read_text() == "hello"
    assert sorted(p.name for p in written.parent.iterdir()) == ["SUMMARY.md"]  # no temp left


def test_the_root_itself_is_not_a_file(layout: tuple[Jail, Path]) -> None:
    jail, _ = layout
    with pytest.raises(PathRefused, match="is the workspace root"):
        jail.read_bytes(".", 10)


def _swap_to_symlink(directory: Path, target: Path) -> None:
    os.rename(directory, directory.with_name(directory.name + ".moved"))
    directory.symlink_to(target)


@pytest.mark.parametrize("operation", ["read", "write"])
def test_a_directory_swapped_for_a_symlink_after_the_check_is_refused(
    layout: tuple[Jail, Path], monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    jail, tmp = layout
    checked = Jail.resolve

    def resolve_then_swap(self: Jail, path: str) -> Path:
        resolved = checked(self, path)  # the check passes: sub is a real directory ...
        if (self.root / "sub").is_dir() and not (self.root / "sub").is_symlink():
            _swap_to_symlink(self.root / "sub", tmp / "outside")  # ... then the attacker
        return resolved

    monkeypatch.setattr(Jail, "resolve", resolve_then_swap)
    with pytest.raises(PathRefused, match="at the time of use"):
        if operation == "read":
            jail.read_bytes("sub/b.txt", 100)
        else:
            jail.write_text("sub/b.txt", "pwned")
    assert (tmp / "outside" / "b.txt").read_bytes() == SECRET
    assert sorted(p.name for p in (tmp / "outside").iterdir()) == ["b.txt", "secret.txt"]


def test_a_real_race_never_reads_outside(layout: tuple[Jail, Path]) -> None:
    jail, tmp = layout
    directory, moved = jail.root / "sub", jail.root / "sub.moved"
    stop = threading.Event()

    def attacker() -> None:
        while not stop.is_set():
            os.rename(directory, moved)
            directory.symlink_to(tmp / "outside")
            directory.unlink()
            os.rename(moved, directory)
            time.sleep(0.0002)  # the real folder stays a moment: reads can also succeed

    thread = threading.Thread(target=attacker)
    thread.start()
    outcomes: dict[str, int] = {"inside": 0, "refused": 0}
    try:
        for _ in range(20_000):  # until both outcomes were seen often enough
            if min(outcomes.values()) >= 50:
                break
            try:
                data = jail.read_bytes("sub/b.txt", 100)
            except PathRefused:
                outcomes["refused"] += 1
                continue
            assert data == b"b", "read through a symlink that leaves the root"
            outcomes["inside"] += 1
    finally:
        stop.set()
        thread.join()
    assert min(outcomes.values()) > 0, outcomes  # the race ran both ways
