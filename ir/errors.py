"""Errors the IR reports about user-supplied models."""


class ModelLoadError(Exception):
    """A model file could not be read or imported; the message names the file and the cause."""

    def __init__(self, path: str, cause: str):
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause


class ExecutionError(Exception):
    """ONNX Runtime refused or failed to run a model; the message is its cause, on one line."""


class FineTuneError(Exception):
    """Training a graph through its torch lowering cannot run or diverged; the message names what and why."""


class NonFiniteOutput(ExecutionError):
    """A model's output holds NaN or Inf values: an error, never a score; the message names the model."""
