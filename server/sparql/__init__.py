"""The SPARQL 1.1 endpoint: ``/sparql`` (query operation only, read-only) and its editor page.

Entry points: ``endpoint.bp`` (the blueprint), ``runner.QueryRunner`` (query worker processes with a
time limit, ``worker`` is what runs inside one), ``forwarder.Forwarder`` (the same for an external
store), ``checks`` (updates and SERVICE refused), ``cache.ResultCache`` (answers per build),
``service_description`` and ``examples`` (the example queries in docs/queries/). Uses ``store``.
"""
