"""The one error type the CLI turns into a single line on stderr and exit status 2, and
the file reading every user-named file goes through."""
from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Something the user asked for cannot be done; the message names what and why."""


def read_text(path: str | Path, flag: str) -> str:
    """The text of a file the user named with `flag`, or a UserError saying why not."""
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        raise UserError(f"{flag}: no such file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{flag}: cannot read {path}: {exc}") from None
