"""OAuth2 as Askara runs it: authorization code, refresh rotation, device code; RS256 JWT access tokens."""
