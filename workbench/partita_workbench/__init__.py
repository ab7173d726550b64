"""Partita workbench: pipeline compilers, the backend server and the CLI."""
