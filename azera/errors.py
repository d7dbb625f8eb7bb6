"""Errors every layer may raise: the message is for the user (bad input, unknown id, name clash)."""


class ServiceError(ValueError):
    """A request the user can fix: bad input, unknown id, name clash. Message is user-facing."""


class NotFoundError(ServiceError):
    """The requested record does not exist."""


class TooLongError(ServiceError):
    """The input does not fit (the API answers 413 with the limit)."""
