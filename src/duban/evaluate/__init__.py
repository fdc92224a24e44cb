"""Phase 4 (评议考核): the evaluation, a pure core with its ledger and mail at the edges.

The pure core, over plain dataclasses (the same inputs give the same bytes a year later):
``ballots`` counts public-evaluation ballots; ``figures`` turns each source's records (duties,
inspection rounds, items, ballots, bonuses and penalties) into a raw figure with the evidence
behind it; ``scores`` normalises, weights and adds; ``ranking`` ranks within groups, breaks
ties, flags and commends; ``explain`` writes every unit's score sheet (得分说明) as data;
``adjustments`` and ``ballotcheck`` read the coordinator's and the evaluators' spreadsheets.

Around it: ``gather`` reads the figures from the ledger as of the close; ``runs`` records each
computation, the appeals and the freezing; ``ballot_send``, ``ballot_intake`` and
``ballot_ledger`` send the ballots and take them back; ``commands`` composes them with a
``Runtime`` for the CLI and the flows.
"""
