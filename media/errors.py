"""The one exception media raises: an expected failure of one input, with a reason a person can act on."""

from typing import Any


class MediaError(Exception):
    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details
