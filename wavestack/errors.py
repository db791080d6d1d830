"""Errors the CLI reports as one line."""


class UserError(Exception):
    """A mistake the operator can fix: printed as one line, exit status 2."""
