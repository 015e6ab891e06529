"""Importers and export: foreign records (a WordPress export, an existing feed, JSON Lines)
turned into the store's write calls, and the store written out as JSON Lines.

Each importer (``wxr.WXR_IMPORTER``, ``feed.FEED_IMPORTER``, ``jsonl.JSONL_IMPORTER``) reads
a Source into Records; ``runner.run_import`` writes them through the write path, each in its
own savepoint, committing in batches. Nothing here writes to the database around the
write path.
"""
