"""``python -m kg_service`` is the ``citykg`` command."""

from kg_service.cli import main

main()
