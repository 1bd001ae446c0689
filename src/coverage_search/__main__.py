"""`python -m coverage_search` is the `coverage-search` command."""

from .cli import main

raise SystemExit(main())
