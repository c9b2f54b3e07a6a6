"""The two kinds of failure an adapter reports, so the engine knows whether to retry."""


class AdapterError(Exception):
    """A failure talking to an external system, with a message a person can act on."""

    permanent = False

    def __init__(self, message: str, *, retry_after: float | None = None, detail: str = ""):
        super().__init__(message)
        self.message = message
        # Seconds the peer asked us to wait (HTTP 429/503 Retry-After), if it said.
        self.retry_after = retry_after
        self.detail = detail


class TransientError(AdapterError):
    """Worth retrying later: timeouts, refused connections, 5xx, 429, locks."""


class PermanentError(AdapterError):
    """Retrying will not help: validation errors, 4xx, a business rule in the target."""

    permanent = True


class DestinationRefused(PermanentError):
    """Junction's outbound policy forbids the destination (integrations/outbound.py).

    Unlike other whole-batch failures it is not retried: the destination will
    not become allowed by waiting, so the engine quarantines the records.
    """
