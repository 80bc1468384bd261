"""Every error and warning class simengine raises, in one place.

Errors say what was received, what was expected and what to do instead. The command line
turns any :class:`SimengineError` into a message and exit status 2 (input problems) or 1
(run-time problems) without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BatchError",
    "CalibrationError",
    "ComparisonError",
    "ConvergenceWarning",
    "DataError",
    "ExplosiveDynamicsWarning",
    "ExtremeInputWarning",
    "Issue",
    "LimitError",
    "ModelFileError",
    "NumericalError",
    "OutputExistsError",
    "PosteriorMismatchError",
    "ResultVerificationError",
    "SimengineError",
    "ScenarioWarning",
    "SimengineWarning",
    "SimulationError",
    "SpecError",
    "StoreError",
    "TimeStepError",
    "UsageError",
]


class SimengineError(Exception):
    """Base class of every simengine error."""

    exit_code: int = 1


@dataclass(frozen=True)
class Issue:
    """One problem found in an input file.

    Attributes
    ----------
    file : str
        Path of the file the problem is in (as given by the user).
    line : int | None
        1-based line number, when known.
    field : str
        Dotted field path, e.g. ``events[1].change_bp``.
    message : str
        What is wrong: what was received and what was expected.
    hint : str
        What to do instead (valid choices, "did you mean ...?"). May be empty.
    """

    file: str
    line: int | None
    field: str
    message: str
    hint: str = ""

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )
        return f"{text} ({self.hint})" if self.hint else text


class SpecError(SimengineError):
    """A scenario, sweep or model file is invalid. Carries every problem found, not just the first."""

    exit_code = 2

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        n = len(self.issues)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        super().__init__("\n".join([head, *("  " + i.format() for i in self.issues)]))


class ModelFileError(SpecError):
    """A model (parameter) file is invalid."""


class LimitError(SimengineError):
    """A request exceeds a safety limit (paths, horizon, file size, memory)."""

    exit_code = 2


class DataError(SimengineError):
    """Historical data is missing, malformed or does not cover what was asked."""

    exit_code = 2


class CalibrationError(SimengineError):
    """Calibration failed, or its diagnostics failed under ``--strict``."""


class PosteriorMismatchError(SimengineError):
    """A posterior file was fitted for another model, another data table or is incomplete."""

    exit_code = 2


class SimulationError(SimengineError):
    """The simulation could not be run as asked."""


class NumericalError(SimengineError):
    """A numerical guard tripped: NaN/inf, a matrix that is not positive definite, overflow."""


class ResultVerificationError(SimengineError):
    """A saved result failed verification on load (hash or content mismatch)."""

    exit_code = 2


class OutputExistsError(SimengineError):
    """Writing would overwrite something that already exists; pass ``force=True`` / ``--force``."""

    exit_code = 2


class UsageError(SimengineError):
    """An option or path cannot be used as given (a file where a folder is expected, a link,
    a name outside the output folder)."""

    exit_code = 2


class StoreError(SimengineError):
    """A result store (batch output folder) is missing, incomplete or unreadable."""

    exit_code = 2


class BatchError(SimengineError):
    """A batch run failed as a whole (individual scenario failures are recorded, not raised)."""


class SimengineWarning(UserWarning):
    """Base class of every simengine warning."""


class ExtremeInputWarning(SimengineWarning):
    """An accepted input drives the model far outside the range it was built for."""


class ConvergenceWarning(SimengineWarning):
    """MCMC diagnostics (R-hat, ESS, divergences, BFMI) miss their thresholds."""


class UnitsWarning(SimengineWarning):
    """A scenario value looks like it was meant in other units (a level pinned on a change)."""


class ExplosiveDynamicsWarning(SimengineWarning):
    """The factor VAR has spectral radius >= 1: paths may explode."""


class ScenarioWarning(SimengineWarning):
    """A scenario is valid but leaves something implicit or goes beyond history (file:line)."""


class ComparisonError(SimulationError):
    """Scenarios that cannot be compared (same names, other models); bad input, exit status 2."""

    exit_code = 2


class TimeStepError(SimengineError, IndexError):
    """A date or step that is not a step of the result's time grid (bad input, exit 2)."""

    exit_code = 2
