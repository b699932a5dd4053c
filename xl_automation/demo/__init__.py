"""The demo: synthetic windows and months, end to end."""
