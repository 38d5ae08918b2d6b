-- The statements the service runs to write a batch of one booking (bookings/writer.py), issued straight to PostgreSQL by pgbench in prepared mode, one transaction
-- per booking. (The service writes all the bookings queued for an event in one such transaction.)
-- bench_plan holds, per :scenario, numbered rows of (session, user, event, ticket type, quantity); each
-- transaction takes the next row (sequence :seq), as each HTTP request of the service run takes the
-- next user.
\set taken 0
BEGIN;
-- The callers' login sessions (the service checks a whole batch in one query; here one row, also
-- reading the plan).
SELECT u.id AS uid, u.email AS email, p.session_id AS sid, p.event_id AS eid, p.ticket_type_id AS tid,
       p.quantity AS q, p.n AS n
  FROM bench_plan p
  JOIN auth_session s ON s.id = p.session_id
  JOIN user_account u ON u.id = s.user_id
 WHERE p.scenario = :scenario AND p.n = (SELECT nextval(:seq)) AND s.revoked_at IS NULL AND u.is_active \gset
-- The event and its ticket types under the event's KEY SHARE lock; too few seats is sold out at once,
-- writing nothing.
SELECT e.id AS e_id, e.organizer_id, e.status, e.starts_at, e.sales_start_at, e.sales_end_at, e.published_at,
       e.deleted_at, e.max_tickets_per_booking, e.currency, t.id AS t_id, t.name, t.price, t.capacity, t.sold,
       t.held, t.position, (t.capacity - t.sold - t.held >= :q)::int AS seats_there
  FROM event e LEFT JOIN ticket_type t ON t.event_id = e.id WHERE e.id = :eid ORDER BY t.position
   FOR KEY SHARE OF e \gset
\if :seats_there
INSERT INTO booking (id, code, event_id, ticket_type_id, user_id, quantity, status, active_key,
                     holder_name, holder_email, unit_price, total_price, currency, created_at, updated_at)
VALUES (gen_random_uuid(), left(md5(:scenario), 4) || lpad(:n::text, 7, '0'), :eid, :tid, :uid, :q, 'confirmed', 1,
        'Bench Holder', :email, 10.00, 10.00 * :q, 'EUR', now(), now())
    ON CONFLICT DO NOTHING RETURNING id;
INSERT INTO outbox_message (id, kind, dedupe_key, recipient, payload, status, attempts, next_attempt_at,
                            created_at)
VALUES (gen_random_uuid(), 'booking_confirmed', 'booking_confirmed:' || gen_random_uuid(), :email,
        '{"booking": {"code": "DB", "quantity": 1, "ticket_type": "General", "holder_name": "Bench Holder", "total_price": "10.00", "currency": "EUR"}, "event": {"title": "Flash sale", "starts_at": "2031-01-01T20:00:00+00:00", "ends_at": null, "timezone": "UTC", "venue": "Hall", "address": null, "city": "Berlin"}}',
        'pending', 0, now(), now());
INSERT INTO audit_entry (id, created_at, actor_id, action, target_type, target_id, ip_address, request_id,
                         details)
VALUES (gen_random_uuid(), now(), :uid, 'booking.created', 'booking', gen_random_uuid()::text, '127.0.0.1',
        md5(random()::text), '{"event_id": "x", "quantity": 1}');
-- last, the hot row: take the seats if they are there
UPDATE ticket_type SET sold = sold + :q, held = held + 0
 WHERE id = :tid AND sold + held + :q <= capacity AND sold + :q >= 0 AND held + 0 >= 0 RETURNING 1 AS taken \aset
\if :taken
COMMIT;
\else
-- Taken meanwhile by another transaction: the service writes the batch again with the ticket types
-- locked; here the booking is given up.
ROLLBACK;
\endif
\else
COMMIT;
\endif
