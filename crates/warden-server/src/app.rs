//! The server's router: the API and the console side by side, and what every request passes
//! through. Assembled here, outside both, so that neither depends on the other for routing.

use axum::Router;

use crate::state::AppState;

/// Every route of `warden serve`.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .merge(crate::console::router(state.clone()))
        .merge(crate::api::routes());
    crate::api::layered(routes, state)
}
