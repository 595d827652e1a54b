"""Helpers shared by the tests (and by scripts/, which put the repository on sys.path): import
them as `tests.support.<module>`, never from conftest, so each is loaded once under one name."""
