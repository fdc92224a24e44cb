"""Phase 1, mobilize (动员部署): every assigned unit gets its notice and personalised template.

``notices`` builds the notice and the workbook of one unit; ``send`` plans, previews, approves
and sends them, each exactly once, through ``duban.sending``.
"""
