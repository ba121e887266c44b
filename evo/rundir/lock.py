"""One writer per run directory: an advisory lock (flock) on RUN_DIR/.lock, held for the
whole of `evo run`. The kernel drops a flock when its process ends, however it ends, so a
run killed with kill -9 leaves no lock that blocks its resume; the pid written in the file
is only there to name the holder in the message."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from evo.errors import UserError

LOCK = ".lock"


class RunLock:
    """A context manager; entering it raises UserError naming the holder's pid when another
    process holds the directory, before anything is written."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK
        self._fh: IO[str] | None = None

    def __enter__(self) -> "RunLock":
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+")
        except OSError as exc:
            raise UserError(f"--out: cannot write to {self.path.parent}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise UserError(f"--out: {self.path.parent} is in use by process {holder} (lock {self.path}); "
                            "wait for it to end or stop it") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
