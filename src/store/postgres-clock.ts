// Parameter $1 of every statement that needs the time is the injected clock's value, or NULL for the
// database clock. statement_timestamp() is stable within a statement, so an UPDATE cannot test expiry and
// pick the day at two different instants (clock_timestamp() could straddle midnight); now() would be
// frozen at the start of a transaction.
export const NOW = `COALESCE($1::bigint, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint)`;
export const TODAY = `(DATE '1970-01-01' + (${NOW} / 86400000)::int)`;
