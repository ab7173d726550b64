"""Clients of the Partita backend."""
