"""Domain errors. Each carries one clear, user-facing (Chinese) message."""
from __future__ import annotations


class DomainError(Exception):
    """Bad input or a forbidden action: nothing was changed."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """Input that fails validation (a wrong credit code, a missing field...)."""


class NotFound(DomainError):
    """The record asked for does not exist."""


class RecordLocked(DomainError):
    """The inspection is signed: its content can no longer change."""


class WorkflowError(DomainError):
    """The action is not allowed in the record's current state."""
