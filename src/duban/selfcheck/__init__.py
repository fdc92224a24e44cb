"""Phase self-check (自查自纠): the rectification ledger (整改台账).

Each problem a unit finds (or an inspection finds, or the coordinator hands down) becomes an
item tracked to closure: ``items`` says what an item is and how a problem list's rows become
items, ``states`` how an item moves (each move an event) and when it is overdue, ``ledger``
keeps items in the ledger, ``rates`` counts them per unit and tag (``overview`` for
``status``), ``workbook`` writes the 整改台账, ``importing`` reads the problems the coordinator
hands down in a spreadsheet, ``commands`` is what the CLI runs. Nothing here imports Prefect
or sends anything; the use cases that send and read workbooks build on it.
"""
