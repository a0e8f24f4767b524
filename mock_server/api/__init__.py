"""The public API: one module per Askara resource, and OAuth2 (:mod:`.oauth`)."""
