"""Choosing the Jupyter kernel a notebook runs on.

The kernel is, in order: an explicit name (a YAML task's ``kernel:``), the
notebook's ``metadata.kernelspec.name`` (the convention of Jupyter front ends
and papermill), or ``python3`` for a notebook without a kernelspec. It must
be installed (``jupyter kernelspec list``); otherwise the configured fallback
kernel is used (``fallback_kernel=`` or ``PARTITA_NOTEBOOK_FALLBACK_KERNEL``),
and with none :class:`KernelNotFound` is raised before anything starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from partita.exceptions import UserInputError

__all__ = ["DEFAULT_KERNEL", "IOPUB_TIMEOUT", "use_unix_sockets", "KernelChoice", "KernelNotFound", "installed_kernels", "choose_kernel"]

DEFAULT_KERNEL = "python3"
"""Kernel used for a notebook whose metadata names none (ipykernel's default name)."""

IOPUB_TIMEOUT = 30
"""Seconds nbclient waits, after a cell's reply, for the rest of its output and the kernel's idle
status (its ``iopub_timeout``). nbclient's default of 4 s is meant for remote kernels; ours are
local, so a longer wait only happens on a loaded machine, where 4 s drops the cell's late output and
shuts the kernel down while it is still finishing the cell (it then logs "KeyboardInterrupt caught
in kernel")."""


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
            f"kernel '{kernel_name}' not found; available: {names}; choose one with --kernel (partita run) "
            "or kernel: (pipeline task), or configure a fallback kernel with PARTITA_NOTEBOOK_FALLBACK_KERNEL"
        )


@dataclass(frozen=True)
class KernelChoice:
    """The kernel chosen for a run.

    Attributes:
        name: kernel name, as ``jupyter kernelspec list`` shows it.
        language: the kernel's language (``"python"``), which papermill needs
            to write the injected parameters.
        replaces: the kernel the notebook asked for when it is not installed
            and ``name`` is the fallback; else ``None``.
        display_name: the kernel's display name (``"Python 3 (ipykernel)"``).
    """

    name: str
    language: str
    replaces: str | None = None
    display_name: str = ""

    def kernelspec(self) -> dict[str, str]:
        """The notebook ``metadata.kernelspec`` naming this kernel (nbformat's shape)."""
        return {"name": self.name, "display_name": self.display_name or self.name, "language": self.language}


def installed_kernels() -> list[str]:
    """Names of the installed Jupyter kernels, sorted."""
    return sorted(KernelSpecManager().find_kernel_specs())


def choose_kernel(notebook: Any, override: str | None = None, fallback: str | None = None) -> KernelChoice:
    """Pick and check the kernel for ``notebook``.

    Args:
        notebook: an ``nbformat`` notebook node.
        override: a kernel name given by the user, which wins.
        fallback: kernel to use when the chosen one is not installed;
            default ``PARTITA_NOTEBOOK_FALLBACK_KERNEL`` (unset: no fallback).

    Returns:
        The installed kernel's name and language (and, for a fallback, the
        name it replaces).

    Raises:
        KernelNotFound: the chosen kernel is not installed and there is no
            installed fallback (the message names the chosen kernel).
    """
    kernelspec = notebook.get("metadata", {}).get("kernelspec") or {}
    name = override or kernelspec.get("name") or DEFAULT_KERNEL
    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec(name)
    except NoSuchKernel:
        if fallback is None:
            from partita.settings import get_settings

            fallback = get_settings().notebook_fallback_kernel
        if not fallback:
            raise KernelNotFound(name, installed_kernels()) from None
        try:
            spec = manager.get_kernel_spec(fallback)
        except NoSuchKernel:
            raise KernelNotFound(name, installed_kernels()) from None
        return KernelChoice(name=fallback, language=spec.language or "python", replaces=name, display_name=spec.display_name)
    return KernelChoice(name=name, language=spec.language or kernelspec.get("language") or "python",
                        display_name=spec.display_name)


_UNIX_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux, 104 on macOS


def ipc_stem() -> str | None:
    """A new, unique path stem in jupyter's runtime directory for a kernel's files, or ``None``.

    ``None`` when ``<stem>-ipc-<port>`` would be too long for a unix socket
    name (or there is no unix socket), so the caller keeps TCP.
    """
    import os
    import uuid

    from jupyter_core.paths import jupyter_runtime_dir

    if os.name != "posix":
        return None
    runtime = jupyter_runtime_dir()
    stem = os.path.join(runtime, f"kernel-partita-{uuid.uuid4().hex[:12]}")
    if len(os.fsencode(stem)) + len("-ipc-99999") > _UNIX_SOCKET_PATH_MAX:
        return None
    os.makedirs(runtime, exist_ok=True)
    return stem


def use_unix_sockets(km: Any) -> Any:
    """Set a kernel manager (before it starts the kernel) to talk over unix sockets: jupyter's ``ipc`` transport.

    Over TCP, two kernels starting at once can pick the same free port
    ("Address already in use", then "Kernel died before replying to
    kernel_info"): ports are chosen before the kernel binds them, and the
    kernel warns that it runs "over TCP without encryption". Socket files
    named after the kernel's own connection file cannot collide, and nothing
    listens on the network. TCP stays when the runtime directory's path is
    too long for a unix socket name. Returns ``km``.
    """
    stem = ipc_stem()
    if stem is not None:
        km.transport = "ipc"
        km.connection_file = f"{stem}.json"
        km.ip = f"{stem}-ipc"
    return km
