"""What support takes away from a mock: the HAR transcript, redaction, the recorded story, bundles.

Pure functions over the mock's records (no web framework): :mod:`.redact` (secrets out, patients
pseudonymised), :mod:`.har` (the two-way transcript as HAR 1.2), :mod:`.story` (control actions
as scenario steps), :mod:`.bundle` (the reproduction bundle's zip file).
"""
