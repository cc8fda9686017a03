"""What a use case can refuse, in its own words. The services raise these; `hyperapi.web` maps each
to its status and error body (SPEC §4), and the command line prints its message."""

from __future__ import annotations


class DomainError(Exception):
    """A use case refused: `message` says why, in a sentence a person can act on."""

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Invalid(DomainError):
    """The data does not hold: `errors` maps each offending field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("Invalid data.", errors)


class Conflict(DomainError):
    """The data clashes with what exists (a taken name, an attachment already there)."""


class Refused(DomainError):
    """The caller may see this, but not do this to it (an archived entity, a superuser's right)."""


class Unsupported(DomainError):
    """An uploaded file of a type that is not accepted, or that is not what it claims to be."""


class TooLarge(DomainError):
    """More bytes than the configured limit."""

    def __init__(self, limit: int, what: str = "The request body"):
        super().__init__(f"{what} is larger than this server accepts ({limit} bytes).")
        self.limit = limit


class TooManyAttempts(DomainError):
    """Too many failed password checks: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many sign-in attempts; try again in {retry_after} seconds.")
        self.retry_after = retry_after
