"""``python -m partita_workbench.cli`` is the ``partita`` command."""

from partita_workbench.cli import main

main()
