"""Importing customer worksheets: upload, mapping, preview, apply in the background, report and
undo. The stages (read, map, parse, plan, write, undo, report) are the modules of the same names;
`pipeline` chains them, `services` holds the rules the views, the CLI and the jobs share."""
