"""Errors of the curation: each names the feed, issue or item involved; none knows about HTTP."""

from __future__ import annotations


class CurationError(Exception):
    """Base of every error raised by `curation/`."""


class NotFound(CurationError, LookupError):
    """No such feed source, issue or item (names which)."""


class FrozenIssue(CurationError, ValueError):
    """A published issue cannot be edited, scheduled or pulled back."""


class BadEdit(CurationError, ValueError):
    """An edit that cannot be applied (names the issue, the item and why)."""


class NothingToDraft(CurationError):
    """A build found no candidate in its window (nothing fetched, or all of it featured
    before): no draft is made."""
