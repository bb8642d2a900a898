//! Who acts: the authenticated caller of a use case, what their credential lets them use, and
//! the request's trace context. Built by the transports (a bearer token, a console session) or,
//! for start-up and the operator's commands, as the system.

/// What a caller's credential lets it use of its owner's permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scopes {
    /// Everything the owner holds: a console session signed in with a password, the
    /// administrator token written at first start or by `warden admin recover`.
    All,
    /// Only these permissions (∩ the owner's). An empty list allows nothing.
    Only(Vec<String>),
}

impl Scopes {
    /// Whether the credential may use `permission` at all.
    pub fn allow(&self, permission: &str) -> bool {
        match self {
            Scopes::All => true,
            Scopes::Only(scopes) => scopes.iter().any(|s| s == permission),
        }
    }

    /// The limit as a list (`None`: no limit).
    pub fn limit(&self) -> Option<&[String]> {
        match self {
            Scopes::All => None,
            Scopes::Only(scopes) => Some(scopes),
        }
    }

    /// The permissions listed, for display (empty for [`Scopes::All`]).
    pub fn listed(&self) -> &[String] {
        self.limit().unwrap_or_default()
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub uid: String,
    pub token_id: String,
    pub scopes: Scopes,
}

/// Who made a request and how it is traced.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Recorded as the audit entry's actor.
    pub actor: String,
    pub request_id: String,
    pub now_ms: i64,
}

/// The caller and the request's trace context: the actor of every use case.
#[derive(Debug, Clone)]
pub struct Authed {
    pub caller: Caller,
    pub context: RequestContext,
    /// Warden itself (start-up) or the operator on the store: not a principal, not subject to
    /// authorisation. Never built from a request.
    pub system: bool,
}

impl Authed {
    /// A principal acting through a credential.
    pub fn principal(caller: Caller, request_id: String, now_ms: i64) -> Authed {
        Authed {
            context: RequestContext {
                actor: caller.uid.clone(),
                request_id,
                now_ms,
            },
            caller,
            system: false,
        }
    }

    /// Warden itself or the operator, recorded in the audit log as `actor`.
    pub fn system(actor: &str, request_id: String, now_ms: i64) -> Authed {
        Authed {
            caller: Caller {
                uid: actor.to_owned(),
                token_id: String::new(),
                scopes: Scopes::All,
            },
            context: RequestContext {
                actor: actor.to_owned(),
                request_id,
                now_ms,
            },
            system: true,
        }
    }
}
