"""The Partita backend: a FastAPI app recording runs, states and logs.

``create_app()`` builds the app (see :mod:`.app`); ``run_server()`` and
``serve()`` serve it with uvicorn (see :mod:`.serving`).
"""

from partita_workbench.server.app import create_app
from partita_workbench.server.serving import run_server, serve

__all__ = ["create_app", "run_server", "serve"]
