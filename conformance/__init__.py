"""The conformance harness: proves an integration handles what Askara will do to it."""
