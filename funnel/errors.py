"""One error family for everything a user can get wrong.

Each error carries a stable ``code`` (tests and the UI key on it) and a message that says what
happened and what to do, so pages can show it verbatim instead of a traceback.
"""
from __future__ import annotations


class FunnelError(Exception):
    code = "funnel_error"

    def __init__(self, message: str, *, hint: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code:
            self.code = code

    def __str__(self) -> str:  # the CLI and the pages print this as is
        return f"{self.message} {self.hint}" if self.hint else self.message


class ConfigError(FunnelError):
    code = "config_error"


class ImportValidationError(FunnelError):
    """An import was refused; nothing was written. ``problems`` lists every bad row found."""

    code = "import_invalid"

    def __init__(self, message: str, *, problems=None, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.problems = list(problems or [])


class RuleError(FunnelError):
    code = "rule_invalid"


class NoDataError(FunnelError):
    code = "no_data"
