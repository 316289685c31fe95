"""Incident Gauntlet: practise the production-incident interview story."""

__version__ = "0.1.0"
