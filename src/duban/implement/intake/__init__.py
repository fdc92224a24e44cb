"""Intake: what units send back, from the mailbox (or a drop folder) to the ledger.

Nothing is lost: every raw message and every file found in it is written to the content-
addressed store and recorded before anything parses it. Parsing happens in isolated worker
processes, because a hostile workbook can kill the process that reads it.
"""
