"""The conformance harness: drivers, generated sequences, checks, reports and the CLI."""
