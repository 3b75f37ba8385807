"""`python -m helpers`: the command line (helpers.cli.main)."""

from .cli.main import main


main()
