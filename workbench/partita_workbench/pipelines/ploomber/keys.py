"""The keys of a Ploomber ``pipeline.yaml`` that Partita understands, and those it refuses.

Names and meanings follow Ploomber's Spec API documentation. A key in an
``*_UNSUPPORTED`` table is reported as "unsupported" with what it is for;
any other unknown key as "unknown", with a "did you mean" hint.
"""

from __future__ import annotations

import re

__all__ = [
    "RUNNERS",
    "TOP_KEYS",
    "TOP_UNSUPPORTED",
    "META_KEYS",
    "META_UNSUPPORTED",
    "TASK_KEYS",
    "TASK_UNSUPPORTED",
    "NB_SUFFIXES",
    "PLACEHOLDER",
    "GRID_PLACEHOLDER",
]

RUNNERS = ("NotebookRunner", "ScriptRunner", "PythonCallable")
"""Task classes Partita runs (``class:``; the default: ``PythonCallable`` for a dotted
path to a function, ``NotebookRunner`` for a script or notebook)."""

TOP_KEYS = ("meta", "executor", "tasks")
TOP_UNSUPPORTED = {
    "config": "DAG configuration",
    "clients": "database clients (SQL tasks)",
    "serializer": "serializers (Python function tasks)",
    "unserializer": "serializers (Python function tasks)",
    "on_render": "pipeline hooks",
    "on_finish": "pipeline hooks",
    "on_failure": "pipeline hooks",
    "location": "pipelines built by a factory function",
}
META_KEYS = (
    "extract_upstream",
    "extract_product",
    "product_default_class",
    "product_relative_to_source",
    "jupyter_hot_reload",
    "jupyter_functions_as_notebooks",
)
META_UNSUPPORTED = {"source_loader": "loading sources from a package", "import_tasks_from": "importing tasks from another file"}
TASK_KEYS = (
    "source",
    "product",
    "name",
    "params",
    "upstream",
    "grid",
    "class",
    "product_class",
    "kernelspec_name",
    "nbconvert_exporter_name",
    "nbconvert_export_kwargs",
    "local_execution",
)
TASK_UNSUPPORTED = {
    "client": "database clients (SQL tasks)",
    "product_client": "product clients (SQL products)",
    "on_render": "task hooks",
    "on_finish": "task hooks",
    "on_failure": "task hooks",
    "papermill_params": "extra papermill options",
    "static_analysis": "static analysis of notebooks",
    "serializer": "serializers (Python function tasks)",
    "unserializer": "serializers (Python function tasks)",
    "ext_in": "sources given as text",
    "nb_product_key": "another key than 'nb' for the executed notebook",
    "check_if_kernel_installed": "skipping the kernel check",
    "debug_mode": "debug mode",
}
NB_SUFFIXES = (".ipynb", ".html", ".pdf", ".md", ".tex", ".rst", ".py")
"""Extensions of a notebook task's ``nb`` product: the executed notebook, or an nbconvert export of it."""
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
GRID_PLACEHOLDER = re.compile(r"\[\[\s*([A-Za-z_][A-Za-z0-9_]*)\s*\]\]")
