/**
 * Versioned SQLite migrations. Each entry runs once, in order, inside a transaction; `user_version` records
 * how far a database file has come.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE keys (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    vendor TEXT NOT NULL,
    label TEXT,
    metadata TEXT NOT NULL,
    usd_cap INTEGER,
    daily_usd_cap INTEGER,
    max_usd_per_call INTEGER,
    allowed_endpoints TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    revoked_at INTEGER,
    committed INTEGER NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0,
    day TEXT NOT NULL,
    day_committed INTEGER NOT NULL DEFAULT 0,
    calls INTEGER NOT NULL DEFAULT 0,
    denied_calls INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX keys_label ON keys(label);
  CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    amount INTEGER NOT NULL,
    day TEXT NOT NULL,
    status TEXT NOT NULL,
    idempotency_key TEXT,
    fingerprint TEXT,
    object_id TEXT,
    created_at INTEGER NOT NULL
  );
  -- Partial indexes: most reservations carry neither, and every index entry is a page written per call.
  CREATE UNIQUE INDEX reservations_claim ON reservations(key_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE INDEX reservations_object ON reservations(key_id, object_id) WHERE object_id IS NOT NULL;
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    key_id TEXT,
    label TEXT,
    vendor TEXT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    decision TEXT NOT NULL,
    code TEXT,
    upstream_status INTEGER,
    cost_reserved INTEGER,
    cost_settled INTEGER,
    settlement TEXT,
    idempotency_key TEXT,
    vendor_request_id TEXT,
    request_id TEXT NOT NULL,
    latency_ms INTEGER NOT NULL
  );
  CREATE INDEX audit_key ON audit(key_id, id);
  CREATE INDEX audit_label ON audit(label, id);
  `,
  `
  ALTER TABLE keys ADD COLUMN connected_accounts TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE keys ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
  UPDATE keys SET uncertain = coalesce(
    (SELECT sum(amount) FROM reservations r WHERE r.key_id = keys.id AND r.status = 'uncertain'), 0);
  -- One row per proxied call: journal replays insert with ON CONFLICT DO NOTHING on this.
  CREATE UNIQUE INDEX audit_request ON audit(request_id);
  -- Leases: a reservation in flight belongs to an instance, and lapses with the instance's lease.
  ALTER TABLE reservations ADD COLUMN instance_id TEXT;
  ALTER TABLE reservations ADD COLUMN request_id TEXT;
  CREATE INDEX reservations_in_flight ON reservations(instance_id) WHERE status = 'reserved';
  CREATE TABLE instances (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
  `,
  `
  -- Approval above an amount: a call estimated above this needs a person's single-use grant.
  ALTER TABLE keys ADD COLUMN approval_above_usd INTEGER;
  CREATE TABLE approvals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    account TEXT,
    amount INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    decided_at INTEGER,
    used_at INTEGER,
    reservation_id TEXT,
    -- Only the grant's hash: the grant itself is shown once, to whoever approved.
    grant_hash TEXT UNIQUE
  );
  CREATE INDEX approvals_pending ON approvals(key_id, fingerprint) WHERE status = 'pending';
  CREATE INDEX approvals_key ON approvals(key_id, seq);
  -- Abandoned calls find a reservation the reaper made uncertain by request id; few rows are ever uncertain.
  CREATE INDEX reservations_uncertain ON reservations(request_id) WHERE status = 'uncertain';
  `,
  `
  -- Budgets: pots of money that keys and child budgets draw from. path is /root/…/self/, fixed at creation.
  CREATE TABLE budgets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    parent_id TEXT,
    path TEXT NOT NULL,
    depth INTEGER NOT NULL,
    label TEXT,
    metadata TEXT NOT NULL,
    usd_cap INTEGER,
    daily_usd_cap INTEGER,
    max_usd_per_call INTEGER,
    approval_above_usd INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'active',
    revoked_at INTEGER,
    committed INTEGER NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0,
    uncertain INTEGER NOT NULL DEFAULT 0,
    day TEXT NOT NULL,
    day_committed INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX budgets_parent ON budgets(parent_id);
  CREATE INDEX budgets_label ON budgets(label);
  ALTER TABLE keys ADD COLUMN budget_id TEXT;
  ALTER TABLE keys ADD COLUMN budget_path TEXT;
  CREATE INDEX keys_budget ON keys(budget_id) WHERE budget_id IS NOT NULL;
  -- The issuer whose token issued a key: revoking the issuer revokes its keys.
  ALTER TABLE keys ADD COLUMN issuer_id TEXT;
  CREATE INDEX keys_issuer ON keys(issuer_id) WHERE issuer_id IS NOT NULL;
  -- Issuer tokens: what an agent's backend holds instead of the admin token. Only the token's hash is kept.
  CREATE TABLE issuers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    budget_id TEXT NOT NULL,
    label TEXT,
    vendors TEXT,
    max_key_usd_cap INTEGER,
    max_ttl_ms INTEGER,
    allowed_endpoints TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    status TEXT NOT NULL DEFAULT 'active',
    revoked_at INTEGER
  );
  `,
];
