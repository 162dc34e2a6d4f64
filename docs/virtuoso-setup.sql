-- Virtuoso Open Source 7 for kg push and the KIK server (see docs/external-store.md). Run once, as dba:
--   isql-vt 1111 dba "$DBA_PASSWORD" docs/virtuoso-setup.sql -u PASSWORD="$KIK_STORE_PASSWORD"
-- tests/stores.py runs this same file against the Virtuoso of the integration test.

-- 1. The user `kg push` authenticates as (HTTP Digest at /sparql-graph-crud-auth): may write graphs.
DB.DBA.USER_CREATE ('kik', '$U{PASSWORD}');
GRANT SPARQL_UPDATE TO "kik";

-- 2. The default graph must be the union of the build's graphs, as in the embedded store. A Virtuoso
--    query without FROM reads every graph the reader may see, and a fresh database holds three graphs of
--    its own; make them private, so anonymous readers (/sparql) see only the data loaded with kg push.
DB.DBA.RDF_GRAPH_GROUP_CREATE ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 1);
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 'http://www.openlinksw.com/schemas/virtrdf#');
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 'http://www.w3.org/ns/ldp#');
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 'http://localuriqaserver/sparql');
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);

checkpoint;
