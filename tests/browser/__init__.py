"""Browser tests: a package, so their module names cannot clash with the unit tests' (test_reply.py)."""
