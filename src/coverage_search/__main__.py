"""`python -m coverage_search` is the `coverage-search` command."""

from coverage_search.cli import main

raise SystemExit(main())
