"""The errors a user can fix. Library code raises these; only the faces (CLI, app, HTTP API) turn
them into messages. Anything else is a bug and keeps its traceback.

Every message says what is wrong and what to do, on one line.
"""
from __future__ import annotations


class DocqaError(Exception):
    """Base of every problem the user can fix: a bad file, query, setting, or a stale or damaged index."""


class SettingsError(DocqaError, ValueError):
    """A setting out of range or of the wrong kind; raised when the settings object is built."""


class QueryError(DocqaError, ValueError):
    """A query or filter the index cannot answer; the message says why."""


class UsageError(DocqaError):
    """A command used wrongly (a missing argument, a bad file of queries)."""
