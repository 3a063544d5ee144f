"""The errors a user can fix: a bad param, a missing or broken input, a wrong command line.

`cli.run` turns exactly these into `error: <sentence>` and exit 1. Anything else is a bug in the
project and keeps its traceback, so it gets reported instead of explained away.
"""


class UserError(Exception):
    """Something the user can fix, said as one sentence that names the file or the param."""


class ConfigError(UserError):
    """A bad value in params.yaml, naming the key and what is allowed."""


class DataError(UserError):
    """A dataset that cannot be read as its layout says: missing, malformed or inconsistent."""


class FetchError(DataError):
    """Raw data that cannot be fetched: no network, no credentials, a broken archive."""


class TrainingError(UserError):
    """Data or settings that cannot be trained on, or a device that is not there."""


class ModelFileError(UserError):
    """A model.pt that cannot be used: missing, truncated, not this project's, or carrying code."""


class AnalysisError(UserError):
    """A missing or malformed input of evaluation, figures or the report."""


class PredictionError(UserError):
    """A model, input or option of `expressions predict`, export or release that cannot be used."""
