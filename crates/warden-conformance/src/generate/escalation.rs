//! Random no-escalation cases (SPEC §6): a world drawn as for the differential tests, an author,
//! one write, and probes (attribute assignments and times) to ask decisions with.
//!
//! The world gains what an author needs to hold something: a group `g-author` bound to a random
//! policy `p-author` (ALLOW and DENY statements with conditions and parameters, often with an
//! unconditional ALLOW of every permission the generator uses, at account level or in one
//! environment, sometimes narrowed by a boundary), a delegate `uid-3` in it, and an unbound
//! policy `p-spare` made of the author's statements with more conditions — so that some grants
//! lie within what the author holds and some do not. An administrator `uid-admin` (every
//! permission of the catalogue, unconditionally) joins when the author is one. The author is the
//! delegate, a principal of the world (in `g-author` or not), the administrator, or the delegate
//! deactivated; sometimes with token scopes, an empty list included.
//!
//! The write is one API call, as plain data ([`Write`]): a policy added, edited (a statement or a
//! DENY dropped, a condition dropped, widened or replaced, an effect flipped, statements added or
//! replaced) or deleted; a binding added (with parameters and boundaries), removed, or given
//! other boundaries; a boundary edited or deleted; a membership added or removed; a group deleted;
//! a principal deactivated, reactivated or created in some groups. Its texts are realised by the
//! same [`Realiser`] as the world's, so the probes draw on the values the write uses too.
//!
//! Probes give each request attribute nothing, an empty list, one value or a list, from the values
//! the conditions on it use (and values matching them), the values of every attribute, or new
//! ones; and a time in the span the generated time conditions talk about.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use warden_policy::ast::StringPart;

use super::{
    ATTRIBUTES, CaseChoice, ConditionChoice, ENVIRONMENTS, GROUPS, ItemChoice, PERMISSIONS,
    ParamChoice, ParameterUses, Realised, Realiser, Sel, StatementChoice, TIME_BASE, TIME_SPAN,
    case_choices, condition, item, pick, pick_str, realise_world, short, statement, values,
};
use crate::engine;
use crate::model::{
    AttrValue, AuthorDef, BindingDef, BoundaryDef, EscalationCase, Level, PolicyDef, PrincipalDef,
    Probe, World, Write,
};

pub const AUTHOR_GROUP: &str = "g-author";
pub const AUTHOR_POLICY: &str = "p-author";
/// Unbound: the author's statements with more conditions, for writes to bind.
pub const SPARE_POLICY: &str = "p-spare";
pub const ADMIN_GROUP: &str = "g-admin";
pub const ADMIN_POLICY: &str = "p-admin";
/// A principal in `g-author` (and some world groups) in every case.
pub const DELEGATE: (&str, &str) = ("uid-3", "carol@example.com");
pub const ADMIN: (&str, &str) = ("uid-admin", "root@example.com");
/// Created by [`Write::CreatePrincipal`].
pub const NEWCOMER: (&str, &str) = ("uid-new", "dave@example.com");

#[derive(Debug, Clone)]
struct AuthorChoice {
    /// 0–19 a delegate (a principal in `g-author`), 20–57 a delegate whose policy also allows
    /// every permission of [`PERMISSIONS`] unconditionally, 58–69 a principal of the world as
    /// drawn, 70–94 an administrator, 95–99 the delegate deactivated.
    kind: u8,
    principal: Sel,
    statements: Vec<StatementChoice>,
    environment: Option<Sel>,
    boundary: Option<Sel>,
    parameters: Vec<ParamChoice>,
    /// The delegate's world groups.
    groups: Vec<bool>,
    /// The spare policy: an author statement each, with these conditions added.
    spare: Vec<(Sel, Vec<ConditionChoice>)>,
    /// 0–69 no scopes, 70–92 [`PERMISSIONS`] but those picked, 93–99 an empty list.
    scopes: u8,
    scope_picks: Vec<Sel>,
}

#[derive(Debug, Clone)]
enum EditChoice {
    DropStatement {
        deny: bool,
        which: Sel,
    },
    DropCondition {
        statement: Sel,
        condition: Sel,
    },
    AddItem {
        statement: Sel,
        condition: Sel,
        item: ItemChoice,
    },
    ReplaceCondition {
        statement: Sel,
        condition: Sel,
        with: ConditionChoice,
    },
    FlipEffect(Sel),
    AddStatement(StatementChoice),
    Replace(Vec<StatementChoice>),
}

#[derive(Debug, Clone)]
enum BoundaryEdit {
    DropLine(Sel),
    AddLine(ConditionChoice),
    Replace(Vec<ConditionChoice>),
}

#[derive(Debug, Clone)]
struct BindChoice {
    policy: Sel,
    group: Sel,
    environment: Option<Sel>,
    boundaries: Vec<Sel>,
    parameters: Vec<ParamChoice>,
    /// Fill the parameters as the author's binding does.
    authors_parameters: bool,
}

#[derive(Debug, Clone)]
enum WriteChoice {
    EditPolicy { policy: Sel, edit: EditChoice },
    AddPolicy(Vec<StatementChoice>),
    DeletePolicy(Sel),
    Bind(BindChoice),
    Unbind(Sel),
    Rebound { binding: Sel, boundaries: Vec<Sel> },
    EditBoundary { boundary: Sel, edit: BoundaryEdit },
    DeleteBoundary(Sel),
    Join { principal: Sel, group: Sel },
    Leave { principal: Sel, group: Sel },
    DeleteGroup(Sel),
    ToggleActive(Sel),
    CreatePrincipal(Vec<bool>),
}

/// One attribute of a probe. Shape 0–2: missing, 3: an empty list, 4–6: one value, 7–9: a list.
/// Each value's source 0–5: the attribute's pool, 6–8: the pool of every attribute, 9: new.
#[derive(Debug, Clone)]
struct ProbeAttribute {
    shape: u8,
    values: Vec<(u8, Sel, String)>,
}

#[derive(Debug, Clone)]
struct ProbeChoice {
    /// One per name of [`ATTRIBUTES`].
    attributes: Vec<ProbeAttribute>,
    time: i64,
}

#[derive(Debug, Clone)]
struct EscalationChoice {
    world: CaseChoice,
    author: AuthorChoice,
    write: WriteChoice,
    probes: Vec<ProbeChoice>,
}

// ---- strategies -----------------------------------------------------------------------------

fn parameters() -> impl Strategy<Value = Vec<ParamChoice>> {
    prop::collection::vec(
        (any::<bool>(), prop::bool::weighted(0.1), values())
            .prop_map(|(many, long, values)| ParamChoice { many, long, values }),
        1..3,
    )
}

fn author() -> impl Strategy<Value = AuthorChoice> {
    (
        (
            0..100u8,
            any::<Sel>(),
            prop::collection::vec(statement(), 1..5),
            prop::option::weighted(0.2, any::<Sel>()),
            prop::option::weighted(0.2, any::<Sel>()),
            parameters(),
        ),
        (
            prop::collection::vec(prop::bool::weighted(0.3), GROUPS.len()),
            prop::collection::vec(
                (any::<Sel>(), prop::collection::vec(condition(), 0..3)),
                1..4,
            ),
            0..100u8,
            prop::collection::vec(any::<Sel>(), 0..3),
        ),
    )
        .prop_map(
            |(
                (kind, principal, statements, environment, boundary, parameters),
                (groups, spare, scopes, scope_picks),
            )| AuthorChoice {
                kind,
                principal,
                statements,
                environment,
                boundary,
                parameters,
                groups,
                spare,
                scopes,
                scope_picks,
            },
        )
}

fn edit() -> impl Strategy<Value = EditChoice> {
    prop_oneof![
        3 => (prop::bool::weighted(0.7), any::<Sel>())
            .prop_map(|(deny, which)| EditChoice::DropStatement { deny, which }),
        3 => (any::<Sel>(), any::<Sel>())
            .prop_map(|(statement, condition)| EditChoice::DropCondition { statement, condition }),
        2 => (any::<Sel>(), any::<Sel>(), item()).prop_map(|(statement, condition, item)| {
            EditChoice::AddItem { statement, condition, item }
        }),
        1 => (any::<Sel>(), any::<Sel>(), condition()).prop_map(|(statement, condition, with)| {
            EditChoice::ReplaceCondition { statement, condition, with }
        }),
        1 => any::<Sel>().prop_map(EditChoice::FlipEffect),
        2 => statement().prop_map(EditChoice::AddStatement),
        1 => prop::collection::vec(statement(), 1..4).prop_map(EditChoice::Replace),
    ]
}

fn boundary_edit() -> impl Strategy<Value = BoundaryEdit> {
    prop_oneof![
        2 => any::<Sel>().prop_map(BoundaryEdit::DropLine),
        2 => condition().prop_map(BoundaryEdit::AddLine),
        1 => prop::collection::vec(condition(), 1..4).prop_map(BoundaryEdit::Replace),
    ]
}

fn bind() -> impl Strategy<Value = BindChoice> {
    (
        any::<Sel>(),
        any::<Sel>(),
        prop::option::weighted(0.25, any::<Sel>()),
        prop::collection::vec(any::<Sel>(), 0..3),
        parameters(),
        prop::bool::weighted(0.5),
    )
        .prop_map(
            |(policy, group, environment, boundaries, parameters, authors_parameters)| BindChoice {
                policy,
                group,
                environment,
                boundaries,
                parameters,
                authors_parameters,
            },
        )
}

fn write() -> impl Strategy<Value = WriteChoice> {
    prop_oneof![
        // Mostly writes that may grant: a write that only takes access away is always accepted.
        8 => (any::<Sel>(), edit())
            .prop_map(|(policy, edit)| WriteChoice::EditPolicy { policy, edit }),
        1 => prop::collection::vec(statement(), 1..3).prop_map(WriteChoice::AddPolicy),
        1 => any::<Sel>().prop_map(WriteChoice::DeletePolicy),
        10 => bind().prop_map(WriteChoice::Bind),
        2 => any::<Sel>().prop_map(WriteChoice::Unbind),
        2 => (any::<Sel>(), prop::collection::vec(any::<Sel>(), 0..3))
            .prop_map(|(binding, boundaries)| WriteChoice::Rebound { binding, boundaries }),
        3 => (any::<Sel>(), boundary_edit())
            .prop_map(|(boundary, edit)| WriteChoice::EditBoundary { boundary, edit }),
        1 => any::<Sel>().prop_map(WriteChoice::DeleteBoundary),
        6 => (any::<Sel>(), any::<Sel>())
            .prop_map(|(principal, group)| WriteChoice::Join { principal, group }),
        2 => (any::<Sel>(), any::<Sel>())
            .prop_map(|(principal, group)| WriteChoice::Leave { principal, group }),
        1 => any::<Sel>().prop_map(WriteChoice::DeleteGroup),
        2 => any::<Sel>().prop_map(WriteChoice::ToggleActive),
        3 => prop::collection::vec(prop::bool::weighted(0.4), GROUPS.len() + 2)
            .prop_map(WriteChoice::CreatePrincipal),
    ]
}

fn probe() -> impl Strategy<Value = ProbeChoice> {
    let attribute = (
        0..10u8,
        prop::collection::vec((0..10u8, any::<Sel>(), short()), 1..4),
    )
        .prop_map(|(shape, values)| ProbeAttribute { shape, values });
    (
        prop::collection::vec(attribute, ATTRIBUTES.len()),
        0..TIME_SPAN,
    )
        .prop_map(|(attributes, time)| ProbeChoice {
            attributes,
            time: TIME_BASE + time,
        })
}

/// No-escalation cases: a world with an author, one write, and 11–16 probes.
pub fn cases() -> impl Strategy<Value = EscalationCase> {
    (
        case_choices(0.0),
        author(),
        write(),
        prop::collection::vec(probe(), 10..16),
    )
        .prop_map(|(world, author, write, probes)| {
            realise(&EscalationChoice {
                world,
                author,
                write,
                probes,
            })
        })
}

// ---- realisation ----------------------------------------------------------------------------

/// A policy as statement choices, to edit and write again.
#[derive(Debug, Clone)]
struct Editable {
    id: String,
    level: Level,
    statements: Vec<StatementChoice>,
    /// Statements written after them, which edits keep.
    tail: String,
}

fn realise(choice: &EscalationChoice) -> EscalationCase {
    let Some(Realised {
        mut world,
        mut realiser,
        mut named,
        mut uses,
    }) = realise_world(&choice.world)
    else {
        return EscalationCase {
            world: super::empty_world(),
            kind: "none",
            write: Write::DeleteGroup(String::new()),
            author: AuthorDef {
                principal: String::new(),
                scopes: None,
                full: false,
                kind: "none",
            },
            probes: Vec::new(),
            values: BTreeMap::new(),
        };
    };
    let mut editable: Vec<Editable> = choice
        .world
        .policies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.global.is_none())
        .map(|(index, p)| Editable {
            id: format!("p{index}"),
            level: p.environment.map_or(Level::Account, |env| {
                Level::Environment(pick_str(&ENVIRONMENTS, env).to_owned())
            }),
            statements: p.statements.clone(),
            tail: String::new(),
        })
        .collect();

    // The author's group, policy and binding; the spare policy.
    let author = &choice.author;
    world.groups.push(AUTHOR_GROUP.to_owned());
    let broad = (20..58).contains(&author.kind);
    let spare: Vec<StatementChoice> = author
        .spare
        .iter()
        .filter_map(|(which, extra)| {
            let mut statement = pick(&author.statements, *which)?.clone();
            statement.conditions.extend(extra.iter().cloned());
            Some(statement)
        })
        .collect();
    let mut author_uses = ParameterUses::new();
    for (id, statements) in [(AUTHOR_POLICY, &author.statements), (SPARE_POLICY, &spare)] {
        let mut policy_uses = ParameterUses::new();
        let mut policy_named = BTreeSet::new();
        let mut text = policy_text(
            &mut realiser,
            statements,
            &mut policy_uses,
            &mut policy_named,
        );
        let tail = if broad && id == AUTHOR_POLICY {
            policy_named.extend(PERMISSIONS.iter().map(|p| (*p).to_owned()));
            format!("ALLOW {};\n", PERMISSIONS.join(", "))
        } else {
            String::new()
        };
        text.push_str(&tail);
        world.policies.push(PolicyDef {
            id: id.to_owned(),
            level: Level::Account,
            text,
        });
        if id == AUTHOR_POLICY {
            author_uses.clone_from(&policy_uses);
        }
        named.push(policy_named);
        uses.push(policy_uses);
        editable.push(Editable {
            id: id.to_owned(),
            level: Level::Account,
            statements: statements.clone(),
            tail,
        });
    }
    let author_level = author.environment.map_or(Level::Account, |env| {
        Level::Environment(pick_str(&ENVIRONMENTS, env).to_owned())
    });
    let author_boundaries: Vec<String> = author
        .boundary
        .and_then(|b| pick(&world.boundaries, b))
        .map(|b| vec![b.id.clone()])
        .unwrap_or_default();
    let author_binding = BindingDef {
        group: AUTHOR_GROUP.to_owned(),
        policy: AUTHOR_POLICY.to_owned(),
        level: author_level,
        parameters: parameters_for(&mut realiser, &author_uses, &author.parameters),
        boundaries: author_boundaries,
    };
    world.bindings.push(author_binding);

    // The delegate, and the author.
    let delegate_groups: Vec<String> = GROUPS
        .iter()
        .zip(&author.groups)
        .filter(|(_, member)| **member)
        .map(|(g, _)| (*g).to_owned())
        .chain(std::iter::once(AUTHOR_GROUP.to_owned()))
        .collect();
    world.principals.push(PrincipalDef {
        uid: DELEGATE.0.to_owned(),
        email: DELEGATE.1.to_owned(),
        handle: None,
        active: author.kind < 95,
        groups: delegate_groups,
    });
    let administrator = (70..95).contains(&author.kind);
    let author_uid = match author.kind {
        0..58 => {
            let candidates = ["uid-0", "uid-1", "uid-2", DELEGATE.0, DELEGATE.0];
            let uid = pick_str(&candidates, author.principal);
            if let Some(principal) = world.principals.iter_mut().find(|p| p.uid == uid)
                && !principal.groups.iter().any(|g| g == AUTHOR_GROUP)
            {
                principal.groups.push(AUTHOR_GROUP.to_owned());
            }
            uid
        }
        58..70 => pick_str(&["uid-0", "uid-1", "uid-2"], author.principal),
        70..95 => ADMIN.0,
        _ => DELEGATE.0,
    };
    if administrator {
        let all: Vec<&str> = realiser
            .catalogue
            .permissions()
            .map(|p| p.name.as_str())
            .collect();
        world.groups.push(ADMIN_GROUP.to_owned());
        world.policies.push(PolicyDef {
            id: ADMIN_POLICY.to_owned(),
            level: Level::Account,
            text: format!("ALLOW {};", all.join(", ")),
        });
        named.push(all.iter().map(|p| (*p).to_owned()).collect());
        uses.push(ParameterUses::new());
        world.bindings.push(BindingDef {
            group: ADMIN_GROUP.to_owned(),
            policy: ADMIN_POLICY.to_owned(),
            level: Level::Account,
            parameters: BTreeMap::new(),
            boundaries: Vec::new(),
        });
        world.principals.push(PrincipalDef {
            uid: ADMIN.0.to_owned(),
            email: ADMIN.1.to_owned(),
            handle: None,
            active: true,
            groups: vec![ADMIN_GROUP.to_owned()],
        });
    }
    let scopes = match author.scopes {
        0..70 => None,
        70..93 => {
            let left_out: Vec<&str> = author
                .scope_picks
                .iter()
                .map(|s| pick_str(&PERMISSIONS, *s))
                .collect();
            Some(
                PERMISSIONS
                    .iter()
                    .filter(|p| !left_out.contains(p))
                    .map(|p| (*p).to_owned())
                    .collect(),
            )
        }
        _ => Some(Vec::new()),
    };
    let kind = match (author.kind, &scopes) {
        (_, Some(scopes)) if scopes.is_empty() => "author with an empty scope list",
        (_, Some(_)) => "author with scopes",
        (0..20, None) => "delegate",
        (20..58, None) => "delegate holding every permission named",
        (58..70, None) => "principal of the world",
        (70..95, None) => "administrator",
        _ => "deactivated delegate",
    };
    let author_def = AuthorDef {
        principal: author_uid.to_owned(),
        full: administrator && scopes.is_none(),
        scopes,
        kind,
    };

    // The write.
    let (kind, write) = realise_write(
        &mut realiser,
        &world,
        &editable,
        &uses,
        &choice.world.boundaries,
        &author.parameters,
        &choice.write,
    );

    // Probes: values of the world and of the write (the built-in policies' too), and the ids
    // placeholders resolve to.
    if let Ok(builtin) = engine::builtin() {
        for global in world.policies.iter().filter(|p| p.level == Level::Global) {
            let Some(found) = builtin.policies.iter().find(|p| p.id() == global.id) else {
                continue;
            };
            for statement in &found.policy.statements {
                for condition in &statement.conditions {
                    for string in condition.value.strings() {
                        for part in &string.parts {
                            if let StringPart::Text(text) = part {
                                realiser.remember(&condition.name.node, text);
                            }
                        }
                    }
                }
            }
        }
    }
    for value in [DELEGATE.0, ADMIN.0, NEWCOMER.0, AUTHOR_GROUP, ADMIN_GROUP]
        .into_iter()
        .chain(GROUPS)
        .chain(["uid-0"])
    {
        realiser.remember("", value);
    }
    let mut probes: Vec<Probe> = vec![Probe {
        attributes: BTreeMap::new(),
        time: TIME_BASE,
    }];
    probes.extend(choice.probes.iter().map(|p| realiser.probe(p)));
    let values = std::iter::once("")
        .chain(ATTRIBUTES)
        .map(|name| {
            let pool = realiser.pools.get(name).cloned().unwrap_or_default();
            (name.to_owned(), pool.into_iter().collect())
        })
        .collect();
    EscalationCase {
        world,
        kind,
        write,
        author: author_def,
        probes,
        values,
    }
}

/// A policy text: the statements, one a line.
fn policy_text(
    realiser: &mut Realiser<'_>,
    statements: &[StatementChoice],
    uses: &mut ParameterUses,
    named: &mut BTreeSet<String>,
) -> String {
    statements
        .iter()
        .map(|s| format!("{};\n", realiser.statement(s, uses, named)))
        .collect()
}

/// A binding's parameters: a value for each parameter the policy uses.
fn parameters_for(
    realiser: &mut Realiser<'_>,
    uses: &ParameterUses,
    choices: &[ParamChoice],
) -> BTreeMap<String, crate::model::Param> {
    let mut parameters = BTreeMap::new();
    for (position, (name, whole_list_items)) in uses.iter().enumerate() {
        if let Some(choice) = choices.get(position % choices.len().max(1)) {
            parameters.insert(
                name.clone(),
                realiser.parameter(name, *whole_list_items, choice),
            );
        }
    }
    parameters
}

fn level_for(policy: &Level, environment: Option<Sel>) -> Level {
    match (policy, environment) {
        (Level::Environment(env), _) => Level::Environment(env.clone()),
        (_, Some(env)) => Level::Environment(pick_str(&ENVIRONMENTS, env).to_owned()),
        (_, None) => Level::Account,
    }
}

fn pick_index(len: usize, selector: Sel) -> Option<usize> {
    (len > 0).then(|| usize::from(selector) % len)
}

fn realise_write(
    realiser: &mut Realiser<'_>,
    world: &World,
    editable: &[Editable],
    uses: &[ParameterUses],
    boundary_lines: &[Vec<ConditionChoice>],
    authors_parameters: &[ParamChoice],
    choice: &WriteChoice,
) -> (&'static str, Write) {
    let nothing = ("nothing to write", Write::DeleteBoundary("none".to_owned()));
    let principal = |selector: Sel| pick(&world.principals, selector);
    match choice {
        WriteChoice::EditPolicy { policy, edit } => {
            let Some(target) = pick(editable, *policy) else {
                return nothing;
            };
            let mut statements = target.statements.clone();
            let kind = edit_statements(&mut statements, edit);
            let mut policy_uses = ParameterUses::new();
            let mut policy_named = BTreeSet::new();
            let mut text = policy_text(realiser, &statements, &mut policy_uses, &mut policy_named);
            text.push_str(&target.tail);
            (
                kind,
                Write::PutPolicy(PolicyDef {
                    id: target.id.clone(),
                    level: target.level.clone(),
                    text,
                }),
            )
        }
        WriteChoice::AddPolicy(statements) => {
            let text = policy_text(
                realiser,
                statements,
                &mut ParameterUses::new(),
                &mut BTreeSet::new(),
            );
            (
                "add a policy",
                Write::PutPolicy(PolicyDef {
                    id: "p-new".to_owned(),
                    level: Level::Account,
                    text,
                }),
            )
        }
        WriteChoice::DeletePolicy(selector) => {
            let own: Vec<&PolicyDef> = world
                .policies
                .iter()
                .filter(|p| p.level != Level::Global)
                .collect();
            match pick(&own, *selector) {
                Some(policy) => ("delete a policy", Write::DeletePolicy(policy.id.clone())),
                None => nothing,
            }
        }
        WriteChoice::Bind(bind) => {
            let Some(index) = pick_index(world.policies.len(), bind.policy) else {
                return nothing;
            };
            let (Some(policy), Some(policy_uses)) = (world.policies.get(index), uses.get(index))
            else {
                return nothing;
            };
            let Some(group) = pick(&world.groups, bind.group) else {
                return nothing;
            };
            let parameters = if bind.authors_parameters {
                authors_parameters
            } else {
                &bind.parameters
            };
            let binding = BindingDef {
                group: group.clone(),
                policy: policy.id.clone(),
                level: level_for(&policy.level, bind.environment),
                parameters: parameters_for(realiser, policy_uses, parameters),
                boundaries: bind
                    .boundaries
                    .iter()
                    .filter_map(|b| pick(&world.boundaries, *b).map(|b| b.id.clone()))
                    .collect(),
            };
            let kind = if binding.boundaries.is_empty() {
                "add a binding"
            } else {
                "add a binding with boundaries"
            };
            (kind, Write::Bind(binding))
        }
        WriteChoice::Unbind(selector) => match pick(&world.bindings, *selector) {
            Some(binding) => ("remove a binding", Write::Unbind(binding.clone())),
            None => nothing,
        },
        WriteChoice::Rebound {
            binding,
            boundaries,
        } => match pick(&world.bindings, *binding) {
            Some(binding) => {
                let mut changed = binding.clone();
                changed.boundaries = boundaries
                    .iter()
                    .filter_map(|b| pick(&world.boundaries, *b).map(|b| b.id.clone()))
                    .collect();
                changed.boundaries.dedup();
                ("change a binding's boundaries", Write::Bind(changed))
            }
            None => nothing,
        },
        WriteChoice::EditBoundary { boundary, edit } => {
            let Some(index) = pick_index(world.boundaries.len(), *boundary) else {
                return nothing;
            };
            let (Some(def), Some(lines)) = (world.boundaries.get(index), boundary_lines.get(index))
            else {
                return nothing;
            };
            let mut lines = lines.clone();
            let kind = match edit {
                BoundaryEdit::DropLine(selector) => {
                    if let Some(i) = pick_index(lines.len(), *selector)
                        && lines.len() > 1
                    {
                        lines.remove(i);
                    }
                    "edit a boundary: drop a line"
                }
                BoundaryEdit::AddLine(line) => {
                    lines.push(line.clone());
                    "edit a boundary: add a line"
                }
                BoundaryEdit::Replace(replacement) => {
                    lines.clone_from(replacement);
                    "edit a boundary: replace it"
                }
            };
            let text = lines
                .iter()
                .map(|line| realiser.boundary_line(line))
                .collect::<Vec<_>>()
                .join("\n");
            (
                kind,
                Write::PutBoundary(BoundaryDef {
                    id: def.id.clone(),
                    text,
                }),
            )
        }
        WriteChoice::DeleteBoundary(selector) => match pick(&world.boundaries, *selector) {
            Some(boundary) => (
                "delete a boundary",
                Write::DeleteBoundary(boundary.id.clone()),
            ),
            None => nothing,
        },
        WriteChoice::Join {
            principal: who,
            group,
        } => {
            let (Some(p), Some(group)) = (principal(*who), pick(&world.groups, *group)) else {
                return nothing;
            };
            let mut groups = p.groups.clone();
            if !groups.contains(group) {
                groups.push(group.clone());
            }
            (
                "add a membership",
                Write::SetGroups {
                    uid: p.uid.clone(),
                    groups,
                },
            )
        }
        WriteChoice::Leave {
            principal: who,
            group,
        } => {
            let Some(p) = principal(*who) else {
                return nothing;
            };
            let mut groups = p.groups.clone();
            if let Some(i) = pick_index(groups.len(), *group) {
                groups.remove(i);
            }
            (
                "remove a membership",
                Write::SetGroups {
                    uid: p.uid.clone(),
                    groups,
                },
            )
        }
        WriteChoice::DeleteGroup(selector) => match pick(&world.groups, *selector) {
            Some(group) => ("delete a group", Write::DeleteGroup(group.clone())),
            None => nothing,
        },
        WriteChoice::ToggleActive(selector) => match principal(*selector) {
            Some(p) => (
                if p.active {
                    "deactivate a principal"
                } else {
                    "reactivate a principal"
                },
                Write::SetActive {
                    uid: p.uid.clone(),
                    active: !p.active,
                },
            ),
            None => nothing,
        },
        WriteChoice::CreatePrincipal(members) => (
            "create a principal",
            Write::CreatePrincipal(PrincipalDef {
                uid: NEWCOMER.0.to_owned(),
                email: NEWCOMER.1.to_owned(),
                handle: None,
                active: true,
                groups: world
                    .groups
                    .iter()
                    .zip(members)
                    .filter(|(_, member)| **member)
                    .map(|(g, _)| g.clone())
                    .collect(),
            }),
        ),
    }
}

/// Applies an edit to a policy's statements; what kind of edit it was.
fn edit_statements(statements: &mut Vec<StatementChoice>, edit: &EditChoice) -> &'static str {
    match edit {
        EditChoice::DropStatement { deny, which } => {
            let denies: Vec<usize> = (0..statements.len())
                .filter(|i| statements.get(*i).is_some_and(|s| s.deny))
                .collect();
            if *deny && let Some(&i) = pick(&denies, *which) {
                statements.remove(i);
                "edit a policy: drop a DENY"
            } else if let Some(i) = pick_index(statements.len(), *which) {
                statements.remove(i);
                "edit a policy: drop a statement"
            } else {
                "edit a policy: nothing to drop"
            }
        }
        EditChoice::DropCondition {
            statement,
            condition,
        } => {
            let Some(target) = pick_index(statements.len(), *statement)
                .and_then(|i| statements.get_mut(i))
                .filter(|s| !s.conditions.is_empty())
            else {
                return "edit a policy: no condition to drop";
            };
            if let Some(i) = pick_index(target.conditions.len(), *condition) {
                target.conditions.remove(i);
            }
            "edit a policy: drop a condition"
        }
        EditChoice::AddItem {
            statement,
            condition,
            item,
        } => {
            let Some(target) = pick_index(statements.len(), *statement)
                .and_then(|i| statements.get_mut(i))
                .and_then(|s| {
                    let i = pick_index(s.conditions.len(), *condition)?;
                    s.conditions.get_mut(i)
                })
            else {
                return "edit a policy: no condition to widen";
            };
            // A list operator takes the new item; `MATCH` does when written as a list.
            target.list = true;
            target.items.push(item.clone());
            "edit a policy: add a list item"
        }
        EditChoice::ReplaceCondition {
            statement,
            condition,
            with,
        } => {
            let Some(target) = pick_index(statements.len(), *statement)
                .and_then(|i| statements.get_mut(i))
                .and_then(|s| {
                    let i = pick_index(s.conditions.len(), *condition)?;
                    s.conditions.get_mut(i)
                })
            else {
                return "edit a policy: no condition to replace";
            };
            *target = with.clone();
            "edit a policy: replace a condition"
        }
        EditChoice::FlipEffect(which) => {
            match pick_index(statements.len(), *which).and_then(|i| statements.get_mut(i)) {
                Some(target) => {
                    target.deny = !target.deny;
                    if target.deny {
                        "edit a policy: ALLOW to DENY"
                    } else {
                        "edit a policy: DENY to ALLOW"
                    }
                }
                None => "edit a policy: nothing to flip",
            }
        }
        EditChoice::AddStatement(statement) => {
            statements.push(statement.clone());
            if statement.deny {
                "edit a policy: add a DENY"
            } else {
                "edit a policy: add an ALLOW"
            }
        }
        EditChoice::Replace(replacement) => {
            statements.clone_from(replacement);
            "edit a policy: replace its statements"
        }
    }
}

impl Realiser<'_> {
    fn probe(&self, choice: &ProbeChoice) -> Probe {
        let general: Vec<&String> = self
            .pools
            .get("")
            .map(|pool| pool.iter().collect())
            .unwrap_or_default();
        let mut attributes = BTreeMap::new();
        for (name, attribute) in ATTRIBUTES.iter().zip(&choice.attributes) {
            let own: Vec<&String> = self
                .pools
                .get(*name)
                .map(|pool| pool.iter().collect())
                .unwrap_or_default();
            let mut values: Vec<String> = attribute
                .values
                .iter()
                .map(|(source, selector, fresh)| {
                    let pool = if *source < 6 && !own.is_empty() {
                        &own
                    } else {
                        &general
                    };
                    match pick(pool, *selector) {
                        Some(value) if *source < 9 => (*value).clone(),
                        _ => fresh.clone(),
                    }
                })
                .collect();
            values.dedup();
            let value = match attribute.shape {
                0..3 => continue,
                3 => AttrValue::Many(Vec::new()),
                4..7 => AttrValue::One(values.first().cloned().unwrap_or_default()),
                _ => AttrValue::Many(values),
            };
            attributes.insert((*name).to_owned(), value);
        }
        Probe {
            attributes,
            time: choice.time,
        }
    }
}
