"""Compile: the summary workbook (汇总表) and the bulletin (通报) of one deliverable period."""
