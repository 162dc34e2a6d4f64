"""Linked-data publishing: every IRI dereferences, in the format the client negotiates.

Entry points: ``dereference.bp`` (the blueprint for dataset IRIs, with ``downloads.bp`` nested),
``negotiation`` (Accept and ``?format``), ``describe`` (what an IRI's description holds), the
build's files as documents: ``downloads``, ``catalog`` (DCAT-AP.de), ``void``, ``ontology_docs``,
``validation_report``; ``page_cache`` (rendered answers kept per build, for these documents and
for the pages); and the helpers ``iri`` (local ↔ dataset IRIs), ``terms``, ``build_info``.
Uses ``store``; an HTML page for a resource comes from whatever the app registered as
``kik.resource_html`` (the pages do), so this package never imports ``pages``.
"""
