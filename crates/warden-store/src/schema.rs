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
];
