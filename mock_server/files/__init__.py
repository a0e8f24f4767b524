"""The files origin: where pre-signed PDF links point, answering as object storage does."""
