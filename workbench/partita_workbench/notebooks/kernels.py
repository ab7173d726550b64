"""Choosing the Jupyter kernel a notebook runs on.

The kernel is, in order: an explicit name (a YAML task's ``kernel:``), the
notebook's ``metadata.kernelspec.name`` (the convention of Jupyter front ends
and papermill), or ``python3`` for a notebook without a kernelspec. It must
be installed (``jupyter kernelspec list``); otherwise :class:`KernelNotFound`
is raised before anything starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from partita.exceptions import UserInputError

__all__ = ["DEFAULT_KERNEL", "KernelChoice", "KernelNotFound", "installed_kernels", "choose_kernel"]

DEFAULT_KERNEL = "python3"
"""Kernel used for a notebook whose metadata names none (ipykernel's default name)."""


class KernelNotFound(UserInputError):
    """The kernel a notebook needs is not installed.

    Attributes:
        kernel_name: the missing kernel.
        available: installed kernel names, sorted.
    """

    def __init__(self, kernel_name: str, available: list[str]) -> None:
        self.kernel_name = kernel_name
        self.available = available
        names = ", ".join(available) or "none"
        super().__init__(
            f"kernel '{kernel_name}' not found; available: {names}; set kernel: in the task to choose one"
        )


@dataclass(frozen=True)
class KernelChoice:
    """The kernel chosen for a run.

    Attributes:
        name: kernel name, as ``jupyter kernelspec list`` shows it.
        language: the kernel's language (``"python"``), which papermill needs
            to write the injected parameters.
    """

    name: str
    language: str


def installed_kernels() -> list[str]:
    """Names of the installed Jupyter kernels, sorted."""
    return sorted(KernelSpecManager().find_kernel_specs())


def choose_kernel(notebook: Any, override: str | None = None) -> KernelChoice:
    """Pick and check the kernel for ``notebook``.

    Args:
        notebook: an ``nbformat`` notebook node.
        override: a kernel name given by the user, which wins.

    Returns:
        The installed kernel's name and language.

    Raises:
        KernelNotFound: the chosen kernel is not installed.
    """
    kernelspec = notebook.get("metadata", {}).get("kernelspec") or {}
    name = override or kernelspec.get("name") or DEFAULT_KERNEL
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise KernelNotFound(name, installed_kernels()) from None
    return KernelChoice(name=name, language=spec.language or kernelspec.get("language") or "python")
