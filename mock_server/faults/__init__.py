"""Faults on demand: the shared list and registry (:mod:`.registry`), the API kinds, the delivery kinds."""
