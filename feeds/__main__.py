"""``python -m feeds``: the feeds command."""

from feeds.cli import main

main()
