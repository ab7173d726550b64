"""The Partita backend: a FastAPI app recording runs, states and logs.

``create_app()`` builds the app (see :mod:`.app`); ``run_server()`` and
``serve()`` serve it with uvicorn (see :mod:`.serving`, imported on first use:
the embedded backend never needs uvicorn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from partita_workbench.server.app import create_app

if TYPE_CHECKING:
    from partita_workbench.server.serving import run_server, serve

__all__ = ["create_app", "run_server", "serve"]


def __getattr__(name: str) -> Any:
    if name in ("run_server", "serve"):
        from partita_workbench.server import serving

        return getattr(serving, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
