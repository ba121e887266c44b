"""The one error type the CLI turns into a single line on stderr and exit status 2."""


class UserError(Exception):
    """Something the user asked for cannot be done; the message names what and why."""
