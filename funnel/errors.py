"""One error family for everything a user can get wrong.

Each error carries a stable ``code`` (tests and the UI key on it) and a message that says what
happened and what to do, so pages can show it verbatim instead of a traceback.

The message and the hint may be given as :class:`funnel.i18n.Message` objects: the error then
reads in English (``message``, ``hint``, ``str(err)``: the CLI and the logs print these) and a page
says it in the reader's language (``i18n.render(err.message_obj, lang)``, or :meth:`FunnelError.text`).
"""
from __future__ import annotations

from .i18n import Message, render


class FunnelError(Exception):
    code = "funnel_error"

    def __init__(self, message: str | Message, *, hint: str | Message | None = None, code: str | None = None):
        #: The message and hint as given: a Message, or English text (rendered as is in every language).
        self.message_obj = message
        self.hint_obj = hint
        self.message = render(message, "en")
        self.hint = render(hint, "en") if hint is not None else None
        super().__init__(self.message)
        if isinstance(message, Message) or isinstance(hint, Message):
            # the sentence and the hint, for ui.guard (as scoring's and stage settings' errors carry them)
            self.messages = [message] + ([hint] if hint is not None else [])
        if code:
            self.code = code

    def text(self, lang: str = "en", sep: str = " ") -> str:
        """The message and the hint in ``lang``, joined by ``sep``."""
        hint = render(self.hint_obj, lang) if self.hint_obj is not None else ""
        return render(self.message_obj, lang) + (sep + hint if hint else "")

    def __str__(self) -> str:  # the CLI and the pages print this as is
        return f"{self.message} {self.hint}" if self.hint else self.message


class ConfigError(FunnelError):
    code = "config_error"


class ImportValidationError(FunnelError):
    """An import was refused; nothing was written. ``problems`` lists every bad row found."""

    code = "import_invalid"

    def __init__(self, message: str | Message, *, problems=None, hint: str | Message | None = None):
        super().__init__(message, hint=hint)
        self.problems = list(problems or [])


class RuleError(FunnelError):
    code = "rule_invalid"


class NoDataError(FunnelError):
    code = "no_data"
