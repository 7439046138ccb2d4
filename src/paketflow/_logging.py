"""Where paketflow's log events go when the host passes no logger.

paketflow never configures logging. With nothing configured by the host, its events go
to the standard-library logger ``paketflow``, which has a ``NullHandler``: silent
unless the host enables that logger. Once the host has configured structlog
(``structlog.configure``), they go to ``structlog.get_logger("paketflow")`` instead; a
logger passed as ``Engine(logger=...)`` always wins. The check is made per event, so
configuring structlog after creating an engine works too.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

__all__ = ["STDLIB_LOGGER", "DefaultLogger"]

STDLIB_LOGGER = logging.getLogger("paketflow")
STDLIB_LOGGER.addHandler(logging.NullHandler())


class DefaultLogger:
    """``info(event, **fields)`` to structlog when configured, else to the stdlib
    logger ``paketflow`` (message ``"<event> key=value ..."``; the record carries
    ``paketflow_event`` and ``paketflow_fields`` for structured handlers)."""

    __slots__ = ()

    def info(self, event: str, **fields: Any) -> None:
        if structlog.is_configured():
            structlog.get_logger("paketflow").info(event, **fields)
        elif STDLIB_LOGGER.isEnabledFor(logging.INFO):
            text = "".join(f" {k}={v!r}" for k, v in fields.items())
            STDLIB_LOGGER.info(
                "%s%s",
                event,
                text,
                extra={"paketflow_event": event, "paketflow_fields": fields},
            )
