"""Definitions: the ledger schema, labels, the findings catalogue, the configuration, the ledger row types.

Imports nothing else of the package; every other layer imports from here."""
