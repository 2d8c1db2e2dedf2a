"""Typed errors of the matching package."""

from __future__ import annotations


class MatchingError(Exception):
    """Base class of every error raised by ``matching``."""


class UnderstandError(MatchingError, ValueError):
    """The text can't be turned into an intent (empty, too long, no words); the message says why."""


class EmbedderMismatchError(MatchingError):
    """Vectors of two different models (or dimensions) were mixed."""


class EmbedderUnavailableError(MatchingError):
    """The requested embedding backend is not installed or its model can't be found locally."""


class IndexFormatError(MatchingError):
    """A saved index directory is missing, corrupt, or of an unknown format version."""
