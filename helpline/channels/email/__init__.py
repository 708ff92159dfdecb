"""Email: an SMTP server that takes mail for the helpline's addresses in, an SMTP relay that sends replies out.

Only the text is kept. Headers are read for threading and then dropped; the sender's address goes to the
conversation's vault; the subject and the Message-IDs a reply must quote are sealed there beside it.
"""
