"""The four-properties report (四性检测报告, DA/T 70-2018): authentic (真实性), complete (完整性),
usable (可用性) and secure (安全性), each a list of checks run on the bag alone: what ran, on how
many items, and which failed. ``duban archive write`` files it in the bag as tag files
(``four-properties.json``, ``四性检测报告.txt``); ``duban archive verify`` runs the same checks
again and names each result that differs from the one filed.

``bagview`` is what every check reads (the manifests, ``bag-info.txt``, the event log read
once); ``authentic``, ``complete``, ``usable`` and ``secure`` the checks; ``formats`` the readers
by format; ``model`` the report and its JSON; ``text`` the report for a person; ``run`` writes
and compares.
"""
