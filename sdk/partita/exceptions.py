"""Partita's exceptions.

Every error a user can cause is one of these, with a message that names the
place (file:line:col, flow, task, parameter, notebook cell) and says what to do::

    PartitaError
    ├── UserInputError               bad input given by the user
    │   ├── ParameterTypeError       flow parameters that do not match the signature
    │   ├── InvalidTarget            a run target that cannot be found or loaded
    │   └── ValidationError          a pipeline / notebook that fails validation
    ├── RunError                     raised by running things
    │   ├── FailedRun                a run ended FAILED / CRASHED / CANCELLED
    │   ├── UpstreamTaskError        a task's upstream did not complete
    │   ├── TaskTimeoutError         a run exceeded ``timeout_seconds``
    │   └── UnfinishedRun            a result was asked of a run not finished
    ├── MissingResult                a result was not persisted and is not in memory
    ├── MissingContextError          a run-only function called outside a run
    └── BackendError                 the backend refused or could not be reached
        └── ObjectNotFound           an id the backend does not know

An exception raised by a task may carry a ``state_details`` dict of JSON
data: it is merged into the ``state_details`` of the task run's FAILED state,
so a failure is stored as data and not only as a message (the notebook cells
compiler records the failing cell, line and traceback this way).
"""

from __future__ import annotations


class PartitaError(Exception):
    """Base of every Partita error."""


class UserInputError(PartitaError):
    """Input given by the user is wrong; the message says where and how to fix it."""


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


class RunError(PartitaError):
    """Raised by running flows and tasks."""


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
