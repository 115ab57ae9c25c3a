//! Parallel admin actions on one user (issue 6, races): regenerations,
//! revocations, deactivations and activations at once leave one consistent
//! token (or none) and exactly one token event per action that changed it.

use authtoken::models::Digest;
use authtoken::models::events::{self, TokenEvent};
use serde_json::json;

use crate::common::{TestApp, spawn_app};

/// Signs `boss` in through the form; returns the session cookie and the
/// CSRF token of the target user's page.
async fn sign_in(app: &TestApp, user_page: &str) -> (String, String) {
    let response = app
        .client
        .get(app.url("/admin/login/"))
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&response).expect("a session cookie");
    let csrf = csrf_of(&response.text().await.unwrap());
    let response = app
        .client
        .post(app.url("/admin/login/"))
        .header("Cookie", &cookie)
        .form(&[
            ("username", "boss"),
            ("password", "correct horse battery"),
            ("next", ""),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = cookie_of(&response).unwrap_or(cookie);
    let response = app
        .client
        .get(app.url(user_page))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = cookie_of(&response).unwrap_or(cookie);
    let csrf = csrf_of(&response.text().await.unwrap());
    (cookie, csrf)
}

fn cookie_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .next_back()
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let at = html.find(marker).expect("a CSRF token") + marker.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

fn new_token_of(html: &str) -> String {
    let at = html.find("id=\"new-token\"").expect("the new key");
    let rest = &html[at..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find('<').unwrap()].trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_admin_actions_leave_a_consistent_token_and_one_event_each() {
    let app = spawn_app().await;
    app.create_user("boss", "correct horse battery", true);
    let carol = app.create_user("carol", "correct horse battery", false);
    let user_page = format!("/admin/users/{}/", carol.id);
    let (cookie, csrf) = sign_in(&app, &user_page).await;
    let events_before = app
        .state
        .domain
        .db
        .run(|conn| events::for_user(conn, carol.id, 1000))
        .unwrap()
        .len();

    const REGENERATE: usize = 8;
    let mut actions = vec!["token/regenerate/"; REGENERATE];
    actions.extend(["token/revoke/"; 4]);
    actions.extend(["deactivate/", "activate/", "deactivate/", "activate/"]);
    let tasks: Vec<_> = actions
        .iter()
        .map(|action| {
            let request = app
                .client
                .post(app.url(&format!("{user_page}{action}")))
                .header("Cookie", &cookie)
                .form(&[("csrf_token", &csrf)]);
            let action = *action;
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                (action, status, response.text().await.unwrap())
            })
        })
        .collect();
    let mut keys = Vec::new();
    for task in tasks {
        let (action, status, body) = task.await.unwrap();
        match (action, status) {
            ("token/regenerate/", 200) => keys.push(new_token_of(&body)),
            (_, 303) if action != "token/regenerate/" => {}
            _ => panic!("{action}: {status}\n{body}"),
        }
    }
    assert_eq!(keys.len(), REGENERATE);
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        REGENERATE,
        "every regeneration made its own key"
    );

    // The events, oldest first: one per regeneration (a "created" when the
    // token had just been revoked), one per revocation that found a token,
    // and they tell a story that holds together.
    let mut events: Vec<TokenEvent> = app
        .state
        .domain
        .db
        .run(|conn| events::for_user(conn, carol.id, 1000))
        .unwrap();
    events.reverse();
    let new_events = &events[events_before..];
    let count = |kind: &str| {
        new_events
            .iter()
            .filter(|e| e.kind.as_str() == kind)
            .count()
    };
    assert_eq!(
        count("regenerated") + count("created"),
        REGENERATE,
        "{new_events:?}"
    );
    assert!(count("revoked") <= 4, "{new_events:?}");
    assert_eq!(new_events.len(), REGENERATE + count("revoked"));
    assert!(new_events.iter().all(|e| e.actor == "boss"));
    let mut has_token = true;
    for event in new_events {
        match event.kind.as_str() {
            "created" => assert!(!has_token, "created over a live token: {new_events:?}"),
            "regenerated" | "revoked" => {
                assert!(has_token, "{} without a token: {new_events:?}", event.kind)
            }
            other => panic!("unexpected event {other}"),
        }
        has_token = event.kind.as_str() != "revoked";
    }

    // The token row agrees with the story, and its sealed key is the key of
    // exactly one regeneration.
    let row = app
        .state
        .domain
        .db
        .run(|conn| app.state.domain.tokens.find(conn, carol.id))
        .unwrap();
    assert_eq!(row.is_some(), has_token);
    if let Some(row) = row {
        let matching: Vec<_> = keys
            .iter()
            .filter(|k| Digest::of(k) == row.digest)
            .collect();
        assert_eq!(matching.len(), 1, "the stored digest is one issued key's");
        assert_eq!(&row.prefix, &matching[0][..8]);
        // Sign-in opens the sealed key and returns that same key, unchanged.
        let response = app
            .post_json(
                "/api-token-auth/",
                &json!({"username": "carol", "password": "correct horse battery"}),
            )
            .await;
        let user_active = app
            .state
            .domain
            .db
            .run(|conn| authtoken::models::users::find_by_id(conn, carol.id))
            .unwrap()
            .unwrap()
            .is_active;
        if user_active {
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["token"].as_str(), Some(matching[0].as_str()));
        } else {
            assert_eq!(response.status(), 400);
        }
    }
}
