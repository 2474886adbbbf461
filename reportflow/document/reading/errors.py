"""The error a submitter sees when a section file cannot be taken as it is."""

from __future__ import annotations


class SectionInputError(ValueError):
    """A submitted section that the engine refuses; the message is Vietnamese and says what
    was found and what to do. ``code`` is a stable English tag for programs and tests."""

    def __init__(self, message: str, code: str = "invalid_input") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message
