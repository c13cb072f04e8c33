"""Benchmark of import and search at scale: ``python -m bench.run --help``.

The benchmark synthesises realistic finews posts from real sentences (the bundled seeds and, when
present, ``../shared/corpus/finews``), imports them with the real ``finews-bot import`` command
(its whole process tree's memory watched), and times the product's search beside a
``LIKE '%…%'`` scan of the same database.

Modules: :mod:`bench.corpus` (sentences), :mod:`bench.synth` (posts on disk),
:mod:`bench.import_run` (the measured import), :mod:`bench.import_profile` (where its time goes),
:mod:`bench.import_order` (the import by arrival order), :mod:`bench.cli_latency` (a command's
whole process beside the bare interpreter), :mod:`bench.service_load` (the service's reply time
while it imports and sends digests), :mod:`bench.digests` (a day's digests), :mod:`bench.measure`
(queries and database size), :mod:`bench.report` (tables and targets), :mod:`bench.run` (the CLI).
Nothing here is imported by the product.
"""
