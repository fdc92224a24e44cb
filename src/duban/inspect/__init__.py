"""Phase inspection (督查检查): who is inspected and by whom, drawn so anyone can re-check it.

双随机: units are drawn at random from the unit register, and each drawn unit's team from the
inspector register, by a documented deterministic function of the committed inputs and a seed
given later (README, *Inspections: the draw*). ``registers`` turns both registers and the
previous round's assignments into canonical bytes whose SHA-256 is their hash; ``commitment``
binds those hashes, the parameters and the algorithm version before the seed is known;
``draw`` orders units and inspectors by SHA-256 keys, applies avoidance (回避) and logs every
skip, and replaces one recused inspector without moving anyone else; ``verify`` recomputes a
recorded draw and says, in words a coordinator reads, which part differs.

Those four are pure: no I/O, no ledger, no clock. ``inputs`` builds a round's inputs from the
campaign and the ledger (and reads them back from a commitment), ``rounds`` reads and writes
rounds, commitments, draws and assignments, and ``drawing`` holds the coordinator's steps
(commit, draw, approve, recuse, verify) as the command line and the flow run them; ``notify``
sends an approved round's teams their units and signed scoresheets (``sheets``), and
``results`` records the sheets inspectors return through intake, checked by ``sheetcheck``,
their findings becoming rectification items.
"""
