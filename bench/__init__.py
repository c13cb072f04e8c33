"""Benchmark of import and search at scale: ``python -m bench.run --help``.

The benchmark synthesises realistic finews posts from real sentences (the bundled seeds and, when
present, ``../shared/corpus/finews``), imports them through the product's own import path in a
child process, and times the product's search beside a ``LIKE '%…%'`` scan of the same database.

Modules: :mod:`bench.corpus` (sentences), :mod:`bench.synth` (posts on disk),
:mod:`bench.import_child` (the measured import, and a per-phase profile), :mod:`bench.measure`
(queries and database size), :mod:`bench.report` (tables and targets), :mod:`bench.run` (the CLI).
Nothing here is imported by the product.
"""
