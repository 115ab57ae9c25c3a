//! The users list: paging, order, search, token state.

use super::*;

#[tokio::test]
async fn the_users_list_pages_by_50_sorted_and_searchable() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    for i in 0..60 {
        app.create_user(&format!("user{i:02}"), "pw-unused-here", false);
    }
    let page = client.get("/admin/users/").await;
    assert_eq!(page.status, 200);
    // admin + 60 users: 61, 50 on the first page, sorted by username.
    assert_eq!(page.body.matches("<tr>").count(), 1 + 50);
    let admin_at = page.body.find(">admin</a>").unwrap();
    let first_at = page.body.find(">user00</a>").unwrap();
    let last_at = page.body.find(">user48</a>").unwrap();
    assert!(admin_at < first_at && first_at < last_at);
    assert!(!page.body.contains(">user49</a>"));
    assert!(page.body.contains("Showing 1–50 of 61 users"));
    assert_eq!(page.link("next").as_deref(), Some("/admin/users/?page=2"));
    assert!(page.body.contains("Page 1 of 2"));

    let page = client.get("/admin/users/?page=2").await;
    assert_eq!(page.body.matches("<tr>").count(), 1 + 11);
    assert!(page.body.contains(">user49</a>"));
    assert_eq!(page.link("prev").as_deref(), Some("/admin/users/"));
    assert!(!page.body.contains("rel=\"next\""));
    // Out of range pages show the nearest one.
    let page = client.get("/admin/users/?page=99").await;
    assert!(page.body.contains("Page 2 of 2"));
    let page = client.get("/admin/users/?page=abc").await;
    assert!(page.body.contains("Page 1 of 2"));

    // Search over username and e-mail keeps q in the links.
    for i in 0..55 {
        app.create_user(&format!("zed{i:02}"), "pw", false);
    }
    let page = client.get("/admin/users/?q=ZED").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("of 55 users matching “ZED”"));
    assert!(page.body.contains("value=\"ZED\""));
    assert_eq!(
        page.link("next").as_deref(),
        Some("/admin/users/?q=ZED&page=2")
    );
    assert!(!page.body.contains(">user00</a>"));
    let page = client.get("/admin/users/?q=ZED&page=2").await;
    assert_eq!(page.link("prev").as_deref(), Some("/admin/users/?q=ZED"));
    assert_eq!(page.body.matches("<tr>").count(), 1 + 5);
    let page = client.get("/admin/users/?q=user07%40example.com").await;
    assert!(page.body.contains(">user07</a>"));
    assert!(page.body.contains("of 1 user matching"));
    let page = client.get("/admin/users/?q=nothing-like-this").await;
    assert!(page.body.contains("No users match “nothing-like-this”."));
    // LIKE wildcards are searched for literally.
    let page = client.get("/admin/users/?q=%25").await;
    assert!(page.body.contains("No users match"));
}

#[tokio::test]
async fn the_list_shows_token_state_and_prefix_never_the_key() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let alice = app.create_user("alice", PASSWORD, false);
    let key = app.token_of(alice.id);
    let bob = app.create_user("bob", PASSWORD, false);
    app.state
        .domain
        .db
        .run(|c| app.state.domain.tokens.revoke(c, bob.id, None, "test"))
        .unwrap();
    // Used once, so it has a last-used time (on SQLite written by the
    // background writer within a second of the use).
    assert_eq!(api_me(&app, &key).await.0, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut page = client.get("/admin/users/").await;
    while !page.body.contains("last used ") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = client.get("/admin/users/").await;
    }
    assert!(page.body.contains(&format!("{}…", &key[..8])));
    assert!(!page.body.contains(&key[..9]));
    assert!(page.body.contains("No token"));
    assert!(page.body.contains("last used "));
    assert!(page.body.contains("href=\"/admin/users/2/\""));

    let page = client.get(&format!("/admin/users/{}/", alice.id)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("{}…", &key[..8])));
    assert!(!page.body.contains(&key[..9]));
    assert!(page.new_token().is_none());
    assert!(page.body.contains("alice@example.com"));
}

/// The indexed search (three characters or more) finds what a substring
/// scan finds: username or e-mail, any case, the query's characters taken
/// literally.
#[tokio::test]
async fn indexed_search_finds_what_a_substring_scan_finds() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    let names = [
        "Alice.Smith",
        "bob_smithers",
        "carol+ops",
        "dave-oneil",
        "EVE.home",
        "frank100",
        "grace_hopper",
    ];
    for name in names {
        app.create_user(name, "pw-unused-here", false);
    }
    let everyone: Vec<(String, String)> = names
        .iter()
        .chain(["admin"].iter())
        .map(|n| (n.to_lowercase(), format!("{n}@example.com").to_lowercase()))
        .collect();
    for q in [
        "smith",
        "SMITH",
        "ice.sm",
        "ers",
        "+op",
        "@home",
        "e.com",
        "EXAMPLE.COM",
        "100",
        "o'n",
        "a\"b",
        "%%%",
        "___",
        "zzz",
        "hopper@ex",
        "er\ngrace",
        "b\nbo",
    ] {
        let lower = q.to_lowercase();
        let expected = everyone
            .iter()
            .filter(|(u, e)| u.contains(&lower) || e.contains(&lower))
            .count();
        let url = format!("/admin/users/?q={}", urlencode(q));
        let page = client.get(&url).await;
        assert_eq!(page.status, 200, "{q}");
        if expected == 0 {
            assert!(page.body.contains("No users match"), "{q}: {}", page.body);
        } else {
            let noun = if expected == 1 { "user" } else { "users" };
            assert!(
                page.body
                    .contains(&format!("of {expected} {noun} matching")),
                "{q}: expected {expected}"
            );
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `count` users named `<prefix>NNNN`, in one transaction through the
/// domain (as a sign-up makes them, search index included).
fn create_many(app: &TestApp, prefix: &str, count: usize) {
    use authtoken::models::NewUser;
    use authtoken::models::validation::{Email, Username};
    let hash = bcrypt::hash("pw-unused-here", 4).unwrap();
    let domain = &app.state.domain;
    domain
        .db
        .run(|conn| {
            conn.transaction(|conn| {
                for i in 0..count {
                    let name = format!("{prefix}{i:04}");
                    let new = NewUser {
                        username: Username::parse(&name).unwrap(),
                        email: Email::parse(&format!("{name}@example.org")).unwrap(),
                        password_hash: hash.clone(),
                        is_active: true,
                        is_staff: false,
                        is_superuser: false,
                    };
                    users::create_user(conn, &domain.hooks, &new, "test")?;
                }
                Ok::<_, authtoken::models::CreateUserError>(())
            })
        })
        .unwrap();
}

/// A query that more than 1,000 users match is counted up to there: the
/// page says "more than", and the pages go on while there are users.
#[tokio::test]
async fn a_common_query_counts_up_to_1000_and_pages_on() {
    let app = spawn_app().await;
    let (client, _) = signed_in(&app).await;
    create_many(&app, "bulk", 1_005);

    for q in ["bulk", "bu", "example.org"] {
        let page = client.get(&format!("/admin/users/?q={q}")).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains(&format!(
                "Showing 1–50 of more than 1,000 users matching “{q}”"
            )),
            "{q}: {}",
            page.body
        );
        assert!(page.body.contains("Page 1 of more than 20"), "{q}");
        assert!(page.body.contains(">bulk0000</a>"));
        assert!(page.body.contains(">bulk0049</a>"));
        assert!(!page.body.contains(">bulk0050</a>"));
    }
    let page = client.get("/admin/users/?q=bulk&page=20").await;
    assert!(
        page.body
            .contains("Showing 951–1,000 of more than 1,000 users")
    );
    let next = page.link("next").expect("a page after the 20th");
    assert_eq!(next, "/admin/users/?q=bulk&page=21");
    let page = client.get(&next).await;
    assert!(
        page.body.contains("Showing 1,001–1,005 of 1,005 users"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Page 21 of 21"));
    assert_eq!(page.link("next"), None);
    // Past the end: the last page, counted exactly.
    let page = client.get("/admin/users/?q=bulk&page=99").await;
    assert!(page.body.contains("Page 21 of 21"));
    // A rarer query is counted exactly; the empty one always.
    let page = client.get("/admin/users/?q=BULK09").await;
    assert!(
        page.body.contains("Showing 1–50 of 100 users"),
        "{}",
        page.body
    );
    let page = client.get("/admin/users/?q=bulk1004").await;
    assert!(page.body.contains("Showing 1–1 of 1 user matching"));
    let page = client.get("/admin/users/").await;
    assert!(page.body.contains("Showing 1–50 of 1,006 users."));
}
