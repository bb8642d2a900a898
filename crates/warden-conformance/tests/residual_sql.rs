//! The SQL form of residuals (`warden_engine::residual::sql`) run on real databases: SQLite (in
//! memory) and PostgreSQL (`WARDEN_TEST_POSTGRES_URL`, which `scripts/with-postgres` sets; the
//! PostgreSQL half is skipped, saying so, without it).
//!
//! Records are rows of single-valued columns, `NULL` for an absent attribute. Two checks:
//! - **Against decisions**: in random worlds (the differential generators), for random requests
//!   with some attributes fixed, random rows of the attributes the residual tests; `SELECT id …
//!   WHERE <residual>` must return exactly the rows for which the engine, given the fixed
//!   attributes plus that row's values, decides ALLOW.
//! - **Against the predicate**: random predicates over values full of what SQL patterns treat
//!   specially (`%`, `_`, `[`, `]`, `\`, `*`, `?`, upper case, a two-byte character), since the
//!   generated worlds' values rarely hold them; the rows selected must be exactly those the
//!   predicate holds for.
//!
//! `WARDEN_RESIDUAL_SQL_CASES` sets the number of worlds (default 600) and of predicates (default
//! 1,500): about ten seconds on each database.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)] // test code fails loudly, and says what it skipped

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRunner};
use sqlx::{Connection, PgConnection, Row, SqliteConnection};
use warden_conformance::engine;
use warden_conformance::generate::cases;
use warden_conformance::model::{AttrValue, Case};
use warden_engine::residual::sql::{self, Dialect};
use warden_engine::residual::{Comparison, Predicate, ResidualOperator, ResidualRequest};
use warden_engine::{AttributeValue, Attributes, Request, Snapshot};

/// Columns of the table: a residual testing more attributes is not checked (none of the
/// generated worlds has that many).
const COLUMNS: usize = 8;
/// Rows per residual.
const ROWS: usize = 24;

/// Values every row may take beside the case's own: what `LIKE` and `GLOB` treat specially,
/// case, and a character of two bytes.
const SPECIAL: [&str; 16] = [
    "%", "_", "a_b", "a%b", "axb", "[", "[a]", "]", "\\", "a\\", "*", "?", "A", "é", "aé", "",
];

fn case_count(default: u32) -> u32 {
    std::env::var("WARDEN_RESIDUAL_SQL_CASES")
        .ok()
        .and_then(|text| text.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator for the choices made inside one case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The databases a residual is run on, each with a table `t (id, c0 … c7)`.
struct Databases {
    runtime: tokio::runtime::Runtime,
    sqlite: SqliteConnection,
    postgres: Option<PgConnection>,
    queries: u64,
}

impl Databases {
    fn open() -> Databases {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let columns: Vec<String> = (0..COLUMNS).map(|i| format!("c{i} TEXT")).collect();
        let create = format!(
            "CREATE TEMPORARY TABLE t (id INTEGER PRIMARY KEY, {})",
            columns.join(", ")
        );
        let (sqlite, postgres) = runtime.block_on(async {
            let mut sqlite = SqliteConnection::connect("sqlite::memory:").await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(create.clone()))
                .execute(&mut sqlite)
                .await
                .unwrap();
            let postgres = match std::env::var("WARDEN_TEST_POSTGRES_URL") {
                Ok(url) => {
                    let mut pg = PgConnection::connect(&url).await.unwrap();
                    sqlx::query(sqlx::AssertSqlSafe(create))
                        .execute(&mut pg)
                        .await
                        .unwrap();
                    Some(pg)
                }
                Err(_) => {
                    println!(
                        "residual SQL: WARDEN_TEST_POSTGRES_URL is not set; PostgreSQL skipped (run under scripts/with-postgres)"
                    );
                    None
                }
            };
            (sqlite, postgres)
        });
        Databases {
            runtime,
            sqlite,
            postgres,
            queries: 0,
        }
    }

    /// Fills the table with `rows` and returns the ids `predicate` selects, per database.
    fn select(
        &mut self,
        predicate: &Predicate,
        columns: &BTreeMap<String, String>,
        rows: &[Vec<Option<String>>],
    ) -> Result<Vec<(Dialect, BTreeSet<i64>)>, String> {
        let mut out = Vec::new();
        let sqlite_where =
            sql::render(predicate, columns, Dialect::Sqlite).map_err(|e| e.to_string())?;
        let selected = self.runtime.block_on(async {
            sqlx::query("DELETE FROM t")
                .execute(&mut self.sqlite)
                .await?;
            insert(rows, Dialect::Sqlite)
                .execute(&mut self.sqlite)
                .await?;
            let query = format!("SELECT id FROM t WHERE {}", sqlite_where.clause);
            let mut select = sqlx::query(sqlx::AssertSqlSafe(query));
            for value in &sqlite_where.parameters {
                select = select.bind(value.clone());
            }
            let found = select.fetch_all(&mut self.sqlite).await?;
            Ok::<_, sqlx::Error>(found.iter().map(|row| row.get::<i64, _>(0)).collect())
        });
        out.push((
            Dialect::Sqlite,
            selected.map_err(|e| format!("SQLite refused `{}`: {e}", sqlite_where.clause))?,
        ));
        if let Some(pg) = &mut self.postgres {
            let pg_where =
                sql::render(predicate, columns, Dialect::Postgres).map_err(|e| e.to_string())?;
            let selected = self.runtime.block_on(async {
                sqlx::query("DELETE FROM t").execute(&mut *pg).await?;
                insert(rows, Dialect::Postgres).execute(&mut *pg).await?;
                let query = format!("SELECT id FROM t WHERE {}", pg_where.clause);
                let mut select = sqlx::query(sqlx::AssertSqlSafe(query));
                for value in &pg_where.parameters {
                    select = select.bind(value.clone());
                }
                let found = select.fetch_all(&mut *pg).await?;
                Ok::<_, sqlx::Error>(
                    found
                        .iter()
                        .map(|row| i64::from(row.get::<i32, _>(0)))
                        .collect(),
                )
            });
            out.push((
                Dialect::Postgres,
                selected.map_err(|e| format!("PostgreSQL refused `{}`: {e}", pg_where.clause))?,
            ));
        }
        self.queries += 1;
        Ok(out)
    }
}

/// `INSERT INTO t …` of every row, its values bound.
fn insert<'q, DB>(
    rows: &[Vec<Option<String>>],
    dialect: Dialect,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: sqlx::Database,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i32: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut n = 0;
    let mut placeholder = || {
        n += 1;
        match dialect {
            Dialect::Sqlite => format!("?{n}"),
            Dialect::Postgres => format!("${n}"),
        }
    };
    let tuples: Vec<String> = rows
        .iter()
        .map(|_| {
            let values: Vec<String> = (0..=COLUMNS).map(|_| placeholder()).collect();
            format!("({})", values.join(", "))
        })
        .collect();
    let names: Vec<String> = (0..COLUMNS).map(|i| format!("c{i}")).collect();
    let text = format!(
        "INSERT INTO t (id, {}) VALUES {}",
        names.join(", "),
        tuples.join(", ")
    );
    let mut query = sqlx::query::<DB>(sqlx::AssertSqlSafe(text));
    for (id, row) in rows.iter().enumerate() {
        query = query.bind(i32::try_from(id).unwrap());
        for column in 0..COLUMNS {
            query = query.bind(row.get(column).cloned().flatten());
        }
    }
    query
}

/// The ids of the rows `expected` holds for.
fn expected_ids(
    rows: &[Vec<Option<String>>],
    expected: impl Fn(&[Option<String>]) -> bool,
) -> BTreeSet<i64> {
    rows.iter()
        .enumerate()
        .filter(|(_, row)| expected(row))
        .map(|(id, _)| id as i64)
        .collect()
}

fn compare(
    databases: &mut Databases,
    predicate: &Predicate,
    columns: &BTreeMap<String, String>,
    rows: &[Vec<Option<String>>],
    expected: &BTreeSet<i64>,
) -> Result<(), String> {
    for (dialect, selected) in databases.select(predicate, columns, rows)? {
        if &selected != expected {
            let clause = sql::render(predicate, columns, dialect).unwrap();
            return Err(format!(
                "{dialect:?} selects {selected:?}, the engine allows {expected:?}\nresidual: {}\nWHERE {}\nparameters: {:?}\ncolumns: {columns:?}\nrows: {rows:?}",
                serde_json::to_string(predicate).unwrap(),
                clause.clause,
                clause.parameters,
            ));
        }
    }
    Ok(())
}

/// Every string of the case's requests and of the residual, strings beside them, and
/// [`SPECIAL`].
fn pool(case: &Case, predicate: &Predicate) -> Vec<String> {
    let mut values: BTreeSet<String> = SPECIAL.iter().map(|s| (*s).to_owned()).collect();
    for request in &case.requests {
        for value in request.attributes.values() {
            match value {
                AttrValue::One(one) => {
                    values.insert(one.clone());
                }
                AttrValue::Many(many) => values.extend(many.iter().cloned()),
            }
        }
    }
    let mut own = BTreeSet::new();
    collect_strings(&serde_json::to_value(predicate).unwrap(), &mut own);
    for value in own {
        let mut shorter = value.clone();
        shorter.pop();
        values.extend([
            format!("{value}x"),
            format!("{value}_"),
            format!("{value}%"),
            value.to_uppercase(),
            shorter,
            value.replace('*', "").replace('?', "é"),
            value,
        ]);
    }
    values.into_iter().collect()
}

fn collect_strings(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::String(text) => {
            out.insert(text.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(fields) => fields.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// Random rows for `names` (column `i` holds `names[i]`): a quarter of the cells `NULL`.
fn rows(rng: &mut Rng, names: usize, values: &[String]) -> Vec<Vec<Option<String>>> {
    (0..ROWS)
        .map(|_| {
            (0..names)
                .map(|_| {
                    if rng.below(4) == 0 {
                        None
                    } else {
                        values.get(rng.below(values.len())).cloned()
                    }
                })
                .collect()
        })
        .collect()
}

fn to_engine(value: &AttrValue) -> AttributeValue {
    match value {
        AttrValue::One(one) => AttributeValue::One(one.clone()),
        AttrValue::Many(many) => AttributeValue::Many(many.clone()),
    }
}

#[derive(Debug, Default)]
struct Counts {
    residuals: u64,
    conditional: u64,
    rows: u64,
    allowed: u64,
}

fn check_case(
    case: &Case,
    seed: u64,
    databases: &mut Databases,
    counts: &mut Counts,
) -> Result<(), String> {
    if case.requests.is_empty() {
        return Ok(());
    }
    let snapshot: Snapshot = engine::snapshot(&case.world)?;
    let mut rng = Rng(seed | 1);
    for request in &case.requests {
        let mut known = Attributes::new();
        for (name, value) in &request.attributes {
            if rng.below(2) == 0 {
                known.insert(name.clone(), to_engine(value));
            }
        }
        let residual = snapshot
            .residual(&ResidualRequest {
                principal: &request.principal,
                permission: &request.permission,
                environment: request.environment.as_deref(),
                known: &known,
                time: request.time,
            })
            .map_err(|e| e.to_string())?;
        let constant = matches!(residual.predicate, Predicate::Constant(_));
        // Constants render as `(1 = 1)` / `(1 = 0)`: one in eight is enough.
        if constant && rng.below(8) != 0 {
            continue;
        }
        let names: Vec<String> = warden_engine::residual::attributes_of(&residual.predicate)
            .into_iter()
            .collect();
        if names.len() > COLUMNS {
            continue;
        }
        let columns: BTreeMap<String, String> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), format!("c{i}")))
            .collect();
        let values = pool(case, &residual.predicate);
        let rows = rows(&mut rng, names.len(), &values);
        let expected = expected_ids(&rows, |row| {
            let mut attributes = known.clone();
            for (name, value) in names.iter().zip(row) {
                if let Some(value) = value {
                    attributes.insert(name.clone(), AttributeValue::One(value.clone()));
                }
            }
            snapshot
                .decide(&Request {
                    principal: &request.principal,
                    permission: &request.permission,
                    environment: request.environment.as_deref(),
                    attributes: &attributes,
                    time: request.time,
                })
                .is_allowed()
        });
        counts.residuals += 1;
        counts.conditional += u64::from(!constant);
        counts.rows += rows.len() as u64;
        counts.allowed += expected.len() as u64;
        compare(databases, &residual.predicate, &columns, &rows, &expected)?;
    }
    Ok(())
}

#[test]
fn sql_residuals_select_exactly_the_rows_the_engine_allows() {
    let databases = RefCell::new(Databases::open());
    let counts = RefCell::new(Counts::default());
    let started = std::time::Instant::now();
    let config = Config {
        cases: case_count(600),
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::default()
    };
    TestRunner::new(config)
        .run(&(cases(0.25), any::<u64>()), |(case, seed)| {
            check_case(
                &case,
                seed,
                &mut databases.borrow_mut(),
                &mut counts.borrow_mut(),
            )
            .map_err(TestCaseError::fail)
        })
        .unwrap_or_else(|error| panic!("residual SQL: {error}"));
    let counts = counts.into_inner();
    let databases = databases.into_inner();
    println!(
        "residual SQL against decisions: {} residuals ({} conditional), {} rows, {} allowed, {} databases, in {:.1?}",
        counts.residuals,
        counts.conditional,
        counts.rows,
        counts.allowed,
        1 + usize::from(databases.postgres.is_some()),
        started.elapsed()
    );
    // Agreement means little unless rows are both allowed and refused.
    assert!(counts.conditional >= 100, "{counts:?}");
    assert!(
        counts.allowed > 0 && counts.allowed < counts.rows,
        "{counts:?}"
    );
}

/// The attributes of random predicates (columns `c0` … `c2`).
const NAMES: [&str; 3] = ["a:x", "a:y", "a:z"];

fn text() -> impl Strategy<Value = String> {
    let chars = prop::sample::select(vec![
        'a', 'b', 'A', '%', '_', '[', ']', '\\', '*', '?', 'é', '\'',
    ]);
    prop::collection::vec(chars, 0..4).prop_map(|chars| chars.into_iter().collect())
}

fn leaf() -> impl Strategy<Value = Predicate> {
    let name = prop::sample::select(NAMES.to_vec()).prop_map(str::to_owned);
    let operator = prop::sample::select(vec![
        ResidualOperator::Eq,
        ResidualOperator::In,
        ResidualOperator::StartsWith,
        ResidualOperator::Match,
        ResidualOperator::NotEq,
        ResidualOperator::NotIn,
        ResidualOperator::NotStartsWith,
    ]);
    prop_oneof![
        1 => any::<bool>().prop_map(Predicate::Constant),
        2 => name.clone().prop_map(|present| Predicate::Present { present }),
        8 => (name, operator, prop::collection::vec(text(), 1..4)).prop_map(
            |(attribute, operator, mut values)| {
                if matches!(
                    operator,
                    ResidualOperator::Eq
                        | ResidualOperator::NotEq
                        | ResidualOperator::StartsWith
                        | ResidualOperator::NotStartsWith
                ) {
                    values.truncate(1);
                }
                Predicate::Compare(Comparison {
                    attribute,
                    operator,
                    values,
                })
            }
        ),
    ]
}

fn predicate() -> impl Strategy<Value = Predicate> {
    leaf().prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|all| Predicate::All { all }),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|any| Predicate::Any { any }),
            inner.prop_map(|not| Predicate::Not { not: Box::new(not) }),
        ]
    })
}

#[test]
fn sql_residuals_select_exactly_the_rows_the_predicate_holds_for() {
    let databases = RefCell::new(Databases::open());
    let columns: BTreeMap<String, String> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| ((*name).to_owned(), format!("c{i}")))
        .collect();
    let config = Config {
        cases: case_count(1500),
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::XorShift,
        ..Config::default()
    };
    TestRunner::new(config)
        .run(&(predicate(), any::<u64>()), |(predicate, seed)| {
            let mut rng = Rng(seed | 1);
            let mut own = BTreeSet::new();
            collect_strings(&serde_json::to_value(&predicate).unwrap(), &mut own);
            let mut values: Vec<String> = SPECIAL.iter().map(|s| (*s).to_owned()).collect();
            for value in own {
                values.extend([format!("{value}b"), value.replace(['*', '?'], "_"), value]);
            }
            let rows = rows(&mut rng, NAMES.len(), &values);
            let expected = expected_ids(&rows, |row| {
                let attributes: Attributes = NAMES
                    .iter()
                    .zip(row)
                    .filter_map(|(name, value)| {
                        Some(((*name).to_owned(), AttributeValue::One(value.clone()?)))
                    })
                    .collect();
                predicate.evaluate(&attributes)
            });
            compare(
                &mut databases.borrow_mut(),
                &predicate,
                &columns,
                &rows,
                &expected,
            )
            .map_err(TestCaseError::fail)
        })
        .unwrap_or_else(|error| panic!("residual SQL: {error}"));
    println!(
        "residual SQL against predicates: {} predicates",
        databases.borrow().queries
    );
}
