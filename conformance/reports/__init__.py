"""Reports of a run: JSON (the contract), JUnit XML (any CI), HTML (a support ticket), terminal."""
