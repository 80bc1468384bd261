"""``python -m simengine`` runs the command line."""

from simengine.cli import main

main()
