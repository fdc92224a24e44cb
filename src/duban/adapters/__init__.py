"""The edges: everything that talks to the world outside the ledger, passed into the use cases.

Mail out (SMTP), mail sources in (IMAP, Maildir, drop folder), group bots (httpx), Excel
workbooks (openpyxl and raw XML), Jinja rendering and server URLs. Adapters import the model
and each other, never a use case.
"""
