"""``python -m duban`` runs the CLI, for machines where the ``duban`` script is not on PATH."""

from duban.cli.app import main

main()
