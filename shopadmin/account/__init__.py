"""The customer's side: public pages to set a password, and the reset tokens (tokens.py)."""
