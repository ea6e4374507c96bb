"""Notification templates per language, sending mails one by one or in batches, the mail log
and the local outbox."""
