"""Orchestration: which proposed state transitions the backend accepts, and what they change.

:mod:`.rules` holds the machinery (contexts, verdicts, the rule base class),
:mod:`.core` the core policy and its rules, :mod:`.caching` and
:mod:`.concurrency` the rules that read the database, :mod:`.accounting` the
run accounting applied to an accepted transition (pure).
"""
