"""The web layer: HTTP helpers, validation, middleware, collections, error handlers, OpenAPI."""
