"""The one error settings raise."""


class SettingsError(Exception):
    """One bad variable; the message is the whole story, on one line."""
