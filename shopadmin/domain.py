"""The error a broken rule raises, with no Flask in it (the import's stages raise it too)."""


class DomainError(Exception):
    """A rule was broken. `field` names the form field the message belongs to, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
