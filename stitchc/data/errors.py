"""The error every data source raises for bad input."""


class DataError(Exception):
    """Data cannot be read or does not fit; the message names the file (or folder) and the cause, on one line."""


def first_line(error: Exception) -> str:
    """The first line of an exception's message (its type when the message is empty)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
