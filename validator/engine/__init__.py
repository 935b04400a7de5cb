"""The rule engine: the rule model and compiler (model), evaluation over typed tables (runner) and their helpers."""
