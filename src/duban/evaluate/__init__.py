"""Phase 4 (评议考核): the pure core of the evaluation, over plain dataclasses.

``ballots`` counts public-evaluation ballots; ``figures`` turns each source's records (duties,
inspection rounds, items, ballots, bonuses and penalties) into a raw figure with the evidence
behind it; ``scores`` normalises, weights and adds; ``ranking`` ranks within groups, breaks
ties, flags and commends; ``explain`` writes every unit's score sheet (得分说明) as data.
Nothing here reads the ledger or the clock: the same inputs give the same bytes a year later.
"""
