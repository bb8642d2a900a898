//! Every endpoint of the table is routed, guarded, and documented in `/openapi.json`.

use reqwest::{Method, StatusCode};

use crate::common::TestServer;

#[tokio::test]
async fn every_endpoint_is_routed_guarded_and_documented() {
    assert!(
        warden_server::api::routes::unrouted().is_empty(),
        "{:?}",
        warden_server::api::routes::unrouted()
    );
    let server = TestServer::start().await;
    let account = server.account();
    for endpoint in warden_server::api::routes::ENDPOINTS {
        let path = endpoint
            .path
            .replace("{levelType}", "account")
            .replace("{levelId}", &account)
            .replace("{accountId}", &account)
            .replace("{permission}", "hub:catalog:read");
        let path = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(endpoint.method.as_bytes()).unwrap();
        let reply = server.call_as(None, method, &path, None).await;
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {path}",
            endpoint.method
        );
        if endpoint.permission.is_some() {
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{} {path} must require a token",
                endpoint.method
            );
        } else {
            assert_eq!(reply.status, StatusCode::OK, "{} {path}", endpoint.method);
        }
    }
    let document = server
        .call_as(None, Method::GET, "/openapi.json", None)
        .await
        .body;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["paths"]["/iam/v1/authorize"]["post"]["operationId"],
        "authorize"
    );
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| p.as_object().unwrap().len())
        .sum();
    assert_eq!(operations, warden_server::api::routes::ENDPOINTS.len());
    let unknown = server.get("/iam/v1/nothing").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["error"]["code"], "not_found");
}
