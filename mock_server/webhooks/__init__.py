"""The webhook sender: Askara's deliveries, retries and failure queue, on the injected clock."""
