"""The pages for people: landing page, measures, comparison, grids, and an HTML page for every resource.

Entry points: ``views.bp`` (the blueprint; registers ``views.resource_html`` for dereferenced IRIs),
``page_data`` (what the pages show, read once per build), ``deployment`` (the whole deployment:
slugs, heat map over all concepts, the municipality list, paging), ``resource_view``, ``measure_filter``,
``profiles`` with ``profile_svg`` and ``chart_svg`` (the pictures), ``labels`` and ``i18n``;
``check.template_bp`` (``/vorlage/<id>.xlsx``) and ``check.bp`` (``/pruefen``, when switched on) for
city staff's measures tables.
Its templates are in ``templates/pages/``. Uses ``store`` and ``publishing``; nothing imports it but
the app factory.
"""
