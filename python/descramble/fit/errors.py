"""The one exception ``descramble fit`` turns into a one-line message and exit code 2."""

from __future__ import annotations


class FitError(ValueError):
    """A bad option, an unreadable checkpoint or a file-system failure: the message says which."""
