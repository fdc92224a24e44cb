"""Exactly-once sending, shared by every phase: every outgoing message or bot post is a ledger
row (an idempotency key and a Message-ID) before it goes out, and is claimed by one sender.
"""
