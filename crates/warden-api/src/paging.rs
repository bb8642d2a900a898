//! Paging as Dynatrace pages: `pageSize` and `nextPageKey` in the query, `nextPageKey` in the
//! answer. Warden's older spellings (`page-size`, `page-key`) keep working.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The query of a list paged by key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct KeyPageQuery {
    /// Items per page (1–1000, default 100); `page-size` is Warden's older name.
    #[serde(default, alias = "page-size")]
    pub page_size: Option<usize>,
    /// The `nextPageKey` of the previous answer; `page-key` is Warden's older name.
    #[serde(default, alias = "page-key")]
    pub next_page_key: Option<String>,
    /// 1-based page number, for clients that count pages instead of following keys.
    #[serde(default)]
    pub page: Option<usize>,
}

/// The query of a list paged by number (`page`, `size`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NumberPageQuery {
    /// 1-based (default 1).
    #[serde(default)]
    pub page: Option<usize>,
    /// Items per page (default 100); above 1,000 is taken as 1,000, as the answer's `pageSize`
    /// says.
    #[serde(default)]
    pub size: Option<usize>,
}
