//! The shape of a list answer: `{"count", "items"}`, `count` being the number of items.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every item of a list, and how many there are.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct List<T> {
    pub count: usize,
    pub items: Vec<T>,
}

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> Self {
        List {
            count: items.len(),
            items,
        }
    }
}
