"""``python -m tradesweep``: the same CLI as the ``tradesweep`` command."""

from tradesweep.cli.main import main

if __name__ == "__main__":
    main()
