"""Benchmarks: scripts that print figures (`python benchmarks/NAME.py`); never run as tests."""
