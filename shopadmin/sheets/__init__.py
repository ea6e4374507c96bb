"""Reading and writing worksheets (CSV, XLSX, ODS): formats, encodings, cells and the formula
guard. Nothing here knows customers; the import and the exports build on it."""
