"""The core: clock, store, errors, settings, time formats, tokens, vocabulary; no web framework."""
