"""Bringing news in: import files, poll sources on their schedule, keep each source's health."""
