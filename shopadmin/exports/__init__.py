"""Exporting the register (and other kinds, such as orders) to worksheets, in the background."""
