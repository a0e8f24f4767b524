"""pytest plugin (entry point ``pytest11``): fixtures for a running mock and scenarios."""
