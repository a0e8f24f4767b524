"""The public Askara resources, one module each."""
