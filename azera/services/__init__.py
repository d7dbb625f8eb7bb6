"""Plain-Python services: testable without Reflex, called by the UI, API and CLI."""


class ServiceError(ValueError):
    """A request the user can fix: bad input, unknown id, name clash. Message is user-facing."""


class NotFoundError(ServiceError):
    """The requested record does not exist."""
