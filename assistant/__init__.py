"""Clause-citing guidance assistant: answers questions with the clauses of a guidance document."""

__version__ = "0.1.0"
