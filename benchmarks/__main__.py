"""Entry point: ``python -m benchmarks run`` (see :mod:`benchmarks.cli`)."""

from benchmarks.cli import main

raise SystemExit(main())
