"""A small publish/subscribe for follow-ups inside a unit of work.

A service announces what happened (``InspectionSigned``); another area reacts in the same
transaction (tasks: close the task, follow up the order). The announcing module does not
import the reacting one, so the domain has no import circles. Subscriptions are made
explicitly where the application is assembled (``AppContext.open``).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.context import AppContext
    from db.models import Inspection


@dataclass(frozen=True)
class InspectionSigned:
    """An inspection was signed and locked; handlers run inside the signing transaction."""

    session: Session
    ctx: AppContext
    inspection: Inspection


class EventBus:
    """Handlers by event type, called in the order they subscribed."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = defaultdict(list)

    def subscribe(self, kind: type, handler: Callable[[Any], None]) -> None:
        self._handlers[kind].append(handler)

    def publish(self, event: object) -> None:
        """Call every handler; an exception propagates and so rolls the transaction back."""
        for handler in self._handlers.get(type(event), ()):
            handler(event)
