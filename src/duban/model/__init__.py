"""The campaign as the office declares it, and the rules that follow from it alone.

The campaign file and its forms, the roster, the official calendar, due rules and periods, who
owes what (assignment), the reminder ladder, cell validation and where every duty stands
(status and its rates). Nothing here sends, receives or knows a phase's use case: every phase
reads the model, and the model imports none of them (an import-linter contract checks it).
"""
