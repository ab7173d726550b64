"""Side-by-side benchmarks of Partita and Prefect 3.

``python -m benchmarks run`` from the repository root. Layout:

* :mod:`benchmarks.cases` — one module per case: what to run, what to read, what to expect;
* ``benchmarks/workloads/`` — the scripts a case runs, standalone, one JSON line out;
* :mod:`benchmarks.systems` — the systems under test and their environments (the Prefect venv);
* :mod:`benchmarks.runner` — alternating fresh-process runs, database counts, summaries;
* :mod:`benchmarks.report` — tables and the results JSON; :mod:`benchmarks.live` — progress.

See ``docs/performance.md`` for what each case measures and the latest figures.
"""
