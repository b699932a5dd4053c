"""Comprehensive acceptance window ledgers: validate, flag, submit and consolidate."""

__version__ = "0.1.0"
TEMPLATE_VERSION = "2026.11-1"
