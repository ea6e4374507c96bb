"""Import and export of customer worksheets."""
