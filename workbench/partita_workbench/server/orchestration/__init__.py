"""State-transition rules (:mod:`.rules`) and run accounting (:mod:`.accounting`); pure, no I/O."""
