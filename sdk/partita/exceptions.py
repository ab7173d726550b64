"""Partita's exceptions.

Every error a user can cause is one of these, with a message that names the
place (file:line:col, flow, task, parameter, notebook cell) and says what to do::

    PartitaError
    ├── UserInputError               bad input given by the user
    │   ├── ConfigurationError       a PARTITA_* setting, or what it points at, is wrong
    │   ├── ParameterTypeError       flow parameters that do not match the signature
    │   ├── InvalidTarget            a run target that cannot be found or loaded
    │   ├── ValidationError          a pipeline / notebook that fails validation
    │   └── PipelineEditError        an edit of a pipeline file that cannot be made
    ├── RunError                     raised by running things (``details``: the failure as data)
    │   ├── FailedRun                a run ended FAILED / CRASHED / CANCELLED
    │   ├── UpstreamTaskError        a task's upstream did not complete
    │   ├── TaskTimeoutError         a run exceeded ``timeout_seconds``
    │   └── UnfinishedRun            a result was asked of a run not finished
    ├── MissingResult                a result was not persisted and is not in memory
    ├── MissingContextError          a run-only function called outside a run
    ├── ConcurrencySlotAcquisitionError  ``partita.concurrency`` timed out waiting for slots
    └── BackendError                 the backend refused or could not be reached
        ├── ObjectNotFound           an id the backend does not know
        ├── ObjectAlreadyExists      a name the backend already has (409)
        ├── Unauthorized             the API key or auth string is missing or wrong (401)
        └── SlotsUnavailable         a concurrency limit has no room now (423)

    TerminationSignal (a BaseException) SIGTERM received while a flow ran
    FlowRunCancelled (a BaseException)  the flow run was cancelled while it ran
"""

from __future__ import annotations


class PartitaError(Exception):
    """Base of every Partita error."""


class UserInputError(PartitaError):
    """Input given by the user is wrong; the message says where and how to fix it."""


class ConfigurationError(UserInputError):
    """A setting (``PARTITA_*`` variable) or the environment it names is wrong: the message says which and what to do."""


class ParameterTypeError(UserInputError):
    """Flow parameters do not match the flow's signature (as Prefect's ``ParameterTypeError``)."""


class InvalidTarget(UserInputError):
    """A run target (file, ``file.py:flow`` reference, notebook) cannot be found or loaded."""


class ValidationError(UserInputError):
    """A pipeline or notebook failed validation.

    Attributes:
        problems: one line per problem, each ``path:line:col: message``.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found:"
        super().__init__("\n".join([head, *self.problems]))


class PipelineEditError(UserInputError):
    """An edit of a pipeline file cannot be made (unknown task, missing key...); the file is unchanged."""


class RunError(PartitaError):
    """Raised by running flows and tasks.

    Attributes:
        details: JSON-ready data describing the failure (for a notebook cell:
            cell index and id, exception name and value, traceback...), or
            ``None``. A task run that fails with this error stores it in its
            FAILED state's ``state_details["failure"]``, so clients read the
            failure as data rather than parsing the message.
    """

    details: dict | None = None


class FailedRun(RunError):
    """A run ended in a FAILED, CRASHED or CANCELLED state."""


class UpstreamTaskError(RunError):
    """A task could not start because a task it depends on did not complete."""


class TaskTimeoutError(RunError, TimeoutError):
    """A task run or flow run exceeded its ``timeout_seconds``."""


class UnfinishedRun(RunError):
    """A result was requested from a run that has not finished."""


class MissingResult(PartitaError):
    """A result was neither persisted nor kept in memory."""


class MissingContextError(PartitaError):
    """A function that needs a running flow or task was called outside one."""


class BackendError(PartitaError):
    """The backend refused a request or could not be reached."""


class ObjectNotFound(BackendError):
    """The backend has no object with the requested id."""


class ObjectAlreadyExists(BackendError):
    """The backend already has an object with this name (HTTP 409)."""


class Unauthorized(BackendError):
    """The backend refused the credentials: set ``PARTITA_API_KEY`` (or ``PARTITA_API_AUTH_STRING``)."""


class SlotsUnavailable(BackendError):
    """A concurrency limit has too few free slots right now (HTTP 423); try again later."""


class ConcurrencySlotAcquisitionError(PartitaError):
    """``partita.concurrency(...)`` could not take its slots within ``timeout_seconds`` (as Prefect's)."""


class TerminationSignal(BaseException):
    """The process received ``SIGTERM`` while a flow ran (as Prefect's ``TerminationSignal``).

    Like ``KeyboardInterrupt`` it derives from ``BaseException``, so ``except
    Exception`` in user code does not swallow it; the flow run ends CRASHED.

    Attributes:
        signal: the signal number.
    """

    def __init__(self, signal: int) -> None:
        import signal as _signal

        self.signal = signal
        try:
            name = _signal.Signals(signal).name
        except ValueError:
            name = f"signal {signal}"
        super().__init__(f"the process received {name}")


class FlowRunCancelled(BaseException):
    """Raised in a flow run's own code when the flow run is cancelled (``partita flow-run cancel``).

    A ``BaseException``, as :class:`TerminationSignal`, so ``except Exception``
    in user code does not swallow it; the engine catches it and the flow run
    ends CANCELLED.
    """
