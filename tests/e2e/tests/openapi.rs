//! The OpenAPI 3.1 document at `/api/openapi.json` stays true: it parses,
//! declares 3.1, and every operation it lists is routed to a component (the
//! answer is never the router's `no-route` 404 nor a 405).

use e2e::App;

#[test]
fn every_listed_operation_is_routed() {
    let app = App::spawn();
    let doc = app.get("/api/openapi.json");
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "OpenAPI 3.1");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(!paths.is_empty());
    let mut checked = 0;
    for (path, item) in paths {
        let concrete: String = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "probe_00000000000000000000000000" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_none() {
                continue;
            }
            let body = if method == "get" || method == "delete" { None } else { Some(e2e::json!({})) };
            let r = app.call(&method.to_uppercase(), &concrete, body.as_ref(), &[]);
            assert_ne!(r.status, 405, "{method} {path} is not routed (405)");
            if r.status == 404 && r.header("content-type").unwrap_or("").contains("problem") {
                assert_ne!(r.json()["type"], "/problems/no-route", "{method} {path} is not routed");
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked} operations");
}
