"""A tiny filesystem for DATA_ROOT: a tmpfs mounted by the test (root only), to run out of space."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


class TinyFS:
    """A mounted tmpfs; ``fill`` leaves only so many bytes free, ``free`` gives the room back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler.bin"  # outside the product folders: check_data ignores it

    def available(self) -> int:
        stats = os.statvfs(self.root)
        return stats.f_bavail * stats.f_frsize

    def fill(self, *, leave: int) -> None:
        """Write a filler file so that about ``leave`` bytes stay free."""
        size = self.available() - leave
        with open(self.filler, "ab") as handle:
            handle.write(b"\0" * max(0, size))

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def remount(self, size: str) -> None:
        subprocess.run(["mount", "-o", f"remount,size={size}", str(self.root)], check=True)


def mount_tiny_fs(folder: Path, size: str) -> TinyFS:
    """Mount a tmpfs of ``size`` on ``folder``, or skip the test saying why it cannot be done."""
    if os.geteuid() != 0:
        pytest.skip("disk-full tests mount a tmpfs, which needs root")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    return TinyFS(folder)


def unmount(fs: TinyFS) -> None:
    subprocess.run(["umount", "-l", str(fs.root)], check=False)


def tiny_data_root(tmp_path: Path, settings, size: str = "2m"):  # noqa: ANN001, ANN201 - pytest-django settings
    """DATA_ROOT on a tmpfs of ``size``, unmounted afterwards (``yield from`` it in a fixture)."""
    fs = mount_tiny_fs(tmp_path / "tiny", size)
    settings.DATA_ROOT = fs.root
    try:
        yield fs
    finally:
        unmount(fs)
