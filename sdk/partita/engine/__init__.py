"""The run engine: one state machine for flow runs and task runs, two thin drivers."""
