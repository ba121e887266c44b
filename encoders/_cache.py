"""Where numba may keep its compiled kernels when grokevo is installed read-only.

numba caches next to the source, in `__pycache__`. In a read-only install (a system
site-packages, a container image) that fails, and numba's own fallback (~/.cache/numba via
appdirs) fails too where HOME is read-only, which turns `cache=True` into an import-time
error. So before numba is imported we pick a writable directory ourselves. This module must
not import numba: it decides the setting numba reads when it is first imported.
"""
from __future__ import annotations

import os
import sys
import tempfile
from typing import Mapping


def is_writable_dir(path: str) -> bool:
    """Whether `path` is, or can be made, a directory we can write into.

    Probes by writing, as numba does, because os.access ignores permissions for root and
    misses read-only mounts of some kinds.
    """
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def choose_cache_dir(package_dir: str, env: Mapping[str, str]) -> str | None:
    """The NUMBA_CACHE_DIR to set, or None where numba's in-tree cache works or the user chose.

    Candidates, first writable wins: $XDG_CACHE_HOME/grokevo/numba, $HOME/.cache/grokevo/numba,
    <tempdir>/grokevo-numba-<uid>. The last is returned even if the probe fails, so that
    numba's error names a concrete path instead of a missing locator.
    """
    if env.get("NUMBA_CACHE_DIR") or is_writable_dir(os.path.join(package_dir, "__pycache__")):
        return None
    candidates = []
    if env.get("XDG_CACHE_HOME"):
        candidates.append(os.path.join(env["XDG_CACHE_HOME"], "grokevo", "numba"))
    if env.get("HOME"):
        candidates.append(os.path.join(env["HOME"], ".cache", "grokevo", "numba"))
    uid = os.getuid() if hasattr(os, "getuid") else "user"  # Windows: tempdir is per-user
    last = os.path.join(tempfile.gettempdir(), f"grokevo-numba-{uid}")
    return next((c for c in candidates if is_writable_dir(c)), last)


def configure(package_dir: str) -> None:
    """Set NUMBA_CACHE_DIR for this process if the package's own cache dir is unusable.

    If numba was imported before us, it has already read its config, so it is told to
    re-read it; its kernels' cache locators are chosen only when our modules decorate them.
    """
    chosen = choose_cache_dir(package_dir, os.environ)
    if chosen is None:
        return
    os.environ["NUMBA_CACHE_DIR"] = chosen
    numba = sys.modules.get("numba")
    if numba is not None:
        numba.core.config.reload_config()
