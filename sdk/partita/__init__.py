"""Partita: workflow orchestration with every run recorded."""
