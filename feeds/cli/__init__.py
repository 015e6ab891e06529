"""The ``feeds`` command: init, demo, serve, check, build, snippet, import, export, db, worker,
outbox, stats.

One setup for every command (``feeds.cli.group``): the group reads the config once
(``--config``), a command that needs the store says which schema it needs (``with_store``),
and every error a user can fix (a bad setting, an unreachable database, a schema behind, a
refused import, a port in use, a category that does not exist) leaves as one ``Error: …``
line and exit status 1, in one place.

The schema policy: commands that write (init, db upgrade, demo, import) create or upgrade
the schema; commands that read (export, build, check, serve, snippet) need it current and
say to run ``feeds db upgrade`` otherwise.

The commands, by what they work on: ``database`` (init, db, demo), ``serving`` (serve,
check, build, snippet), ``import_export`` (import, export), ``push`` (worker, outbox), ``stats``.
"""

from __future__ import annotations

from feeds.cli.database import db_group, demo, init
from feeds.cli.group import main
from feeds.cli.import_export import export, import_group
from feeds.cli.push import outbox, worker
from feeds.cli.serving import build, check, serve, snippet
from feeds.cli.stats import stats

for _command in (
    init,
    db_group,
    demo,
    serve,
    check,
    build,
    snippet,
    import_group,
    export,
    worker,
    outbox,
    stats,
):
    main.add_command(_command)

__all__ = ["main"]
