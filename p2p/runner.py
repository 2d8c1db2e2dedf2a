"""Running a long-lived trio service until SIGTERM/SIGINT (the bootstrap node and the agent peer)."""

from __future__ import annotations

import logging
import signal
from collections.abc import Awaitable, Callable

import trio

log = logging.getLogger(__name__)


def leaf_exceptions(exc: BaseException) -> list[BaseException]:
    """The exceptions inside a (possibly nested) exception group, or ``[exc]``."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for sub in exc.exceptions for leaf in leaf_exceptions(sub)]
    return [exc]


def run_until_signal(
    serve: Callable[[], Awaitable[object]], expected: tuple[type[Exception], ...]
) -> list[BaseException]:
    """Run ``serve()`` under trio until it returns or SIGTERM/SIGINT arrives, then shut down cleanly.

    Args:
        serve: the service's main coroutine function.
        expected: error types that are the operator's problem (a busy port, a bad option): they are
            returned, not raised, so the caller prints one line instead of a traceback.

    Returns:
        The expected errors raised by the service (empty on a clean shutdown).
    """

    async def main() -> None:
        async with trio.open_nursery() as nursery:

            async def service() -> None:
                await serve()
                nursery.cancel_scope.cancel()

            with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                nursery.start_soon(service)
                async for signum in signals:
                    log.info("received %s, shutting down", signal.Signals(signum).name)
                    nursery.cancel_scope.cancel()
                    break

    failures: list[BaseException] = []
    try:
        trio.run(main)
    except* expected as group:  # raised inside the nursery: they come in a group
        failures.extend(leaf_exceptions(group))
    return failures
