"""Gradebook: nbgrader's record, the kit's ledger beside it, and the batch that fills both."""
