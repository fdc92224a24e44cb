"""Real servers on loopback and helpers, for duban's tests, its demo and its benchmarks.

``mailserver`` (SMTP, aiosmtpd), ``imapserver`` (Debian's dovecot, run privately),
``botserver`` (group-bot webhooks over HTTP) and ``helpers`` (temporary PostgreSQL databases,
campaign copies, filled templates and replies). None of this is needed to run a campaign:
aiosmtpd comes with the ``testing`` extra.
"""
