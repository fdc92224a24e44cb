"""Phase 2, implement (组织推进), and the loop every later phase reuses: take in what units send,
decide it, answer it, chase who is late.

``intake`` stores, reads and decides received messages and files; ``collect`` runs it over a
mail source and answers; ``review`` is the coordinator's decision on held items; ``chase``
sends the rungs of the reminder ladder; ``duties`` records extensions and exemptions.
"""
