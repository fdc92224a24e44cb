"""The coordinator's board: a web page of every unit across every phase (``duban board``).

A thin layer like the command line: each page reads through the same domain queries as
``duban status``, each action calls the same use case as the CLI command that does it, and
every action is an event naming the signed-in user. ``accounts`` keeps who may sign in.
"""
