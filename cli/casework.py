"""``paperwork`` actions for the case papers (core.casework): filled in below as they are built."""
from __future__ import annotations


def register_casework(actions) -> None:
    """Add the case-paper actions to ``paperwork``."""
