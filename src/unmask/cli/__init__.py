"""Command-line interface: thin shells over the library (``unmask --help``)."""
