"""`python -m curation.cli`: the `curation` command."""

from curation.cli import main

raise SystemExit(main())
