"""Molmo text formats shared by the pipelines (to write labels) and the trainer (to read them)."""
