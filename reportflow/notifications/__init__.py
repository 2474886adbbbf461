"""The apprise wrapper: channels per person, attachments, and redaction of secrets."""
