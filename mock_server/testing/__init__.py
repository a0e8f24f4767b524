"""Helpers for tests, the bench and vendors: in-process sender contexts and loopback receivers."""
