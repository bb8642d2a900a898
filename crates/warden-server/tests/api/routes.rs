//! Every endpoint documented in `/openapi.json` is routed and guarded; Swagger UI is at `/docs`.

use warden_client::{Method, StatusCode};

use crate::common::TestServer;

#[tokio::test]
async fn every_endpoint_is_routed_guarded_and_documented() {
    let server = TestServer::start().await;
    let account = server.account();
    let document = server
        .call_as(None, Method::GET, "/openapi.json", None)
        .await
        .body;
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["paths"]["/iam/v1/authorize"]["post"]["operationId"],
        "authorize"
    );
    let mut operations = 0;
    for (template, methods) in document["paths"].as_object().unwrap() {
        let path = template
            .replace("{levelType}", "account")
            .replace("{levelId}", &account)
            .replace("{accountId}", &account)
            .replace("{permission}", "hub:catalog:read");
        let path = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for (method, operation) in methods.as_object().unwrap() {
            operations += 1;
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let reply = server.call_as(None, method.clone(), &path, None).await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            if operation.get("x-warden-permission").is_some() {
                assert_eq!(
                    reply.status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} must require a token"
                );
            } else {
                assert_eq!(reply.status, StatusCode::OK, "{method} {path}");
            }
        }
    }
    // Every operation of the API (a new one is counted here on purpose).
    assert_eq!(operations, 100);
    let docs = server.call_as(None, Method::GET, "/docs/", None).await;
    assert_eq!(docs.status, StatusCode::OK);
    let unknown = server.get("/iam/v1/nothing").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["error"]["code"], "not_found");
}
