"""Pure rules: normalising values, the 2-hour clock, periods, validation, consolidation, figures.

`now` and policy are arguments; no file, no Excel. Imports only `model`."""
