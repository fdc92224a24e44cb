"""The campaign archive (归档, issue 19): one BagIt bag (RFC 8493) holding everything a
campaign asked, received, sent, decided and published, with SHA-256 and SM3 manifests side by
side, that a person can check without duban.

``sources`` keeps the campaign file and its roster in the raw store when ``init`` registers
them; ``digests`` hashes files in streams (and says where SM3 is missing); ``tables`` exports
the campaign's ledger rows table by table (ballots without their evaluators); ``events`` writes
and checks the event log as JSON lines; ``write`` builds the bag; ``verify`` checks one.
"""
