//! Versioned migrations, applied in order at start-up, each in its own transaction and recorded
//! in `schema_migrations`. The SQL is written once for both SQLite and PostgreSQL: text, 64-bit
//! integers, no auto-increment, no engine-specific types. Records are kept as JSON `body` text;
//! the columns beside it exist for keys, uniqueness and lookups.

/// `(version, statements)`. Never edit a released migration; add a new one.
pub const MIGRATIONS: &[(i64, &[&str])] = &[
    (
        1,
        &[
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "CREATE TABLE store_revision (id BIGINT PRIMARY KEY, value BIGINT NOT NULL)",
            "INSERT INTO store_revision (id, value) VALUES (1, 0)",
            "CREATE TABLE environments (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
            "CREATE TABLE principals (uid TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, handle TEXT UNIQUE, body TEXT NOT NULL)",
            "CREATE TABLE user_groups (uuid TEXT PRIMARY KEY, name_folded TEXT NOT NULL UNIQUE, body TEXT NOT NULL)",
            "CREATE TABLE memberships (uid TEXT NOT NULL, group_uuid TEXT NOT NULL, PRIMARY KEY (uid, group_uuid))",
            "CREATE INDEX memberships_by_group ON memberships (group_uuid)",
            "CREATE TABLE policies (uuid TEXT PRIMARY KEY, level_type TEXT NOT NULL, level_id TEXT NOT NULL, \
         name_folded TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (level_type, level_id, name_folded))",
            "CREATE TABLE boundaries (uuid TEXT PRIMARY KEY, name_folded TEXT NOT NULL UNIQUE, body TEXT NOT NULL)",
            "CREATE TABLE bindings (binding_key TEXT PRIMARY KEY, group_uuid TEXT NOT NULL, policy_uuid TEXT NOT NULL, \
         body TEXT NOT NULL)",
            "CREATE INDEX bindings_by_group ON bindings (group_uuid)",
            "CREATE INDEX bindings_by_policy ON bindings (policy_uuid)",
            "CREATE TABLE tokens (id TEXT PRIMARY KEY, owner_uid TEXT NOT NULL, body TEXT NOT NULL)",
            "CREATE INDEX tokens_by_owner ON tokens (owner_uid)",
            "CREATE TABLE custom_services (name TEXT PRIMARY KEY, body TEXT NOT NULL)",
            "CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, revision BIGINT NOT NULL, at BIGINT NOT NULL, \
         actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL, before_state TEXT, after_state TEXT, \
         request_id TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
            "CREATE INDEX audit_by_revision ON audit_log (revision)",
        ],
    ),
    (
        2,
        &[
            "CREATE TABLE oauth_clients (client_id TEXT PRIMARY KEY, owner_uid TEXT NOT NULL, body TEXT NOT NULL)",
            "CREATE INDEX oauth_clients_by_owner ON oauth_clients (owner_uid)",
            // Usage counters are telemetry, not directory data: written in the background, additively.
            "CREATE TABLE usage_counters (principal TEXT NOT NULL, permission TEXT NOT NULL, last_used BIGINT NOT NULL, \
         last_allowed BIGINT NOT NULL, allows BIGINT NOT NULL, denies BIGINT NOT NULL, PRIMARY KEY (principal, permission))",
        ],
    ),
    (
        3,
        &[
            "CREATE TABLE workflows (id TEXT PRIMARY KEY, actor_uid TEXT NOT NULL, body TEXT NOT NULL)",
            "CREATE INDEX workflows_by_actor ON workflows (actor_uid)",
            "CREATE TABLE consents (uid TEXT NOT NULL, environment TEXT NOT NULL, body TEXT NOT NULL, \
             PRIMARY KEY (uid, environment))",
        ],
    ),
    (
        4,
        &[
            // The operations of every write, by revision: replicas replay them to catch up.
            "CREATE TABLE changes (revision BIGINT PRIMARY KEY, at BIGINT NOT NULL, ops TEXT NOT NULL)",
        ],
    ),
    (
        5,
        &[
            // The audit log tied to the revision and the change log. Every commit (a write or a
            // recorded check) updates the revision row, so the log's last entry is kept there too,
            // and new entries chain onto it rather than onto whatever row is last: a removed tail
            // stays visible after later writes.
            "ALTER TABLE store_revision ADD COLUMN audit_seq BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE store_revision ADD COLUMN audit_hash TEXT NOT NULL DEFAULT ''",
            // Revisions up to this one were committed before the change log named audit entries.
            "ALTER TABLE store_revision ADD COLUMN tied_from BIGINT NOT NULL DEFAULT 0",
            "UPDATE store_revision SET tied_from = value, \
             audit_seq = COALESCE((SELECT MAX(seq) FROM audit_log), 0), \
             audit_hash = COALESCE((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), \
             '0000000000000000000000000000000000000000000000000000000000000000')",
            // A store that has not written yet gets its head now: from here on it is required.
            "INSERT INTO meta (key, value) SELECT 'audit_head', \
             '0:0000000000000000000000000000000000000000000000000000000000000000' \
             WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'audit_head') \
             AND NOT EXISTS (SELECT 1 FROM audit_log)",
            // Each write's change-log row names its audit entry.
            "ALTER TABLE changes ADD COLUMN audit_seq BIGINT",
            "ALTER TABLE changes ADD COLUMN audit_hash TEXT",
        ],
    ),
    (
        6,
        &[
            // Console sessions, shared by every replica. Keyed by the SHA-256 of the session id
            // (the id itself is never stored); not directory data, so outside the revision.
            "CREATE TABLE console_sessions (session_key TEXT PRIMARY KEY, uid TEXT NOT NULL, \
             credential TEXT NOT NULL, scopes TEXT NOT NULL, created_at BIGINT NOT NULL, \
             expires_at BIGINT NOT NULL, last_seen BIGINT NOT NULL, flash TEXT, \
             revoked BIGINT NOT NULL DEFAULT 0)",
            "CREATE INDEX console_sessions_by_uid ON console_sessions (uid)",
            "CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at)",
        ],
    ),
    (
        7,
        &[
            // What allowed requests carried, per principal and permission: a bounded sample of
            // attribute values, the attributes some request lacked or whose values were not all
            // kept, and the environments. Telemetry like the usage counters: written in the
            // background, outside the revision; rows older than the retention are removed.
            "CREATE TABLE usage_samples (principal TEXT NOT NULL, permission TEXT NOT NULL, \
             kind TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, last_seen BIGINT NOT NULL, \
             PRIMARY KEY (principal, permission, kind, name, value))",
            "CREATE INDEX usage_samples_by_last_seen ON usage_samples (last_seen)",
        ],
    ),
    (
        8,
        &[
            // When each principal was last used (a decision about it, or its credential
            // presented): telemetry like the usage counters, outside the revision, only ever
            // moved forward. Seeded from the counters, which knew the last decision already.
            "CREATE TABLE last_used (principal TEXT PRIMARY KEY, at BIGINT NOT NULL)",
            "INSERT INTO last_used (principal, at) \
             SELECT principal, MAX(last_used) FROM usage_counters GROUP BY principal",
        ],
    ),
];

/// Every table of the latest schema, for the operator's row counts.
pub const TABLES: &[&str] = &[
    "meta",
    "store_revision",
    "environments",
    "principals",
    "user_groups",
    "memberships",
    "policies",
    "boundaries",
    "bindings",
    "tokens",
    "custom_services",
    "audit_log",
    "oauth_clients",
    "usage_counters",
    "workflows",
    "consents",
    "changes",
    "console_sessions",
    "usage_samples",
    "last_used",
];

#[cfg(test)]
mod tests {
    use super::{MIGRATIONS, TABLES};
    use crate::audit::GENESIS;

    #[test]
    fn every_created_table_is_counted() {
        let created: Vec<&str> = MIGRATIONS
            .iter()
            .flat_map(|(_, statements)| statements.iter())
            .filter_map(|statement| statement.strip_prefix("CREATE TABLE "))
            .filter_map(|rest| rest.split_whitespace().next())
            .collect();
        assert_eq!(created, TABLES);
    }

    #[test]
    fn the_tie_starts_from_the_genesis_hash() {
        let tie = MIGRATIONS
            .iter()
            .find(|(version, _)| *version == 5)
            .map(|(_, statements)| statements.join("\n"))
            .unwrap_or_default();
        assert_eq!(tie.matches(GENESIS).count(), 2);
    }
}
