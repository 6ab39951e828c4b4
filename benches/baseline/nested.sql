-- The nested read of benches/requests/nested.json written by hand: one statement that builds
-- the gateway's whole answer in PostgreSQL. Employees see every row, so there is no scope.
-- Customers by id; each one's 5 newest interactions (opened_at, then id, descending), each
-- with its department. Timestamps are written as chrono's to_rfc3339 writes them; ids are
-- Relay global ids, base64 of "Type:id" (graphql::types::node).
SELECT json_build_object('data', json_build_object('customers', json_build_object('nodes',
         COALESCE(json_agg(json_build_object(
           'id', encode(convert_to('Customer:' || c.id, 'UTF8'), 'base64'),
           'name', c.name,
           'segment', c.segment,
           'status', c.status,
           'interactions', json_build_object('nodes', i.nodes)
         ) ORDER BY c.id), '[]'::json))))::text AS body
FROM (SELECT id, name, segment, status FROM customer ORDER BY id LIMIT 50) c
CROSS JOIN LATERAL (
  SELECT COALESCE(json_agg(json_build_object(
           'id', encode(convert_to('Interaction:' || x.id, 'UTF8'), 'base64'),
           'subject', x.subject,
           'channel', x.channel,
           'kind', x.kind,
           'status', x.status,
           'openedAt', to_char(x.opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
             || CASE
                  WHEN date_part('microseconds', x.opened_at)::bigint % 1000000 = 0 THEN ''
                  WHEN date_part('microseconds', x.opened_at)::bigint % 1000 = 0
                    THEN to_char(x.opened_at, '.MS')
                  ELSE to_char(x.opened_at, '.US')
                END || '+00:00',
           'department', json_build_object('id', encode(convert_to('Department:' || d.id, 'UTF8'), 'base64'), 'name', d.name)
         ) ORDER BY x.opened_at DESC, x.id DESC), '[]'::json) AS nodes
  FROM (
    SELECT id, subject, channel, kind, status, opened_at, department_id
    FROM interaction
    WHERE customer_id = c.id
    ORDER BY opened_at DESC, id DESC
    LIMIT 5
  ) x
  JOIN department d ON d.id = x.department_id
) i
