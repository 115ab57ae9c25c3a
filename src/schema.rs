// @generated automatically by Diesel CLI.

diesel::table! {
    login_failures (id) {
        id -> Integer,
        scope -> Text,
        at -> Timestamp,
        pending -> Bool,
    }
}

diesel::table! {
    token_events (id) {
        id -> Integer,
        user_id -> Integer,
        actor -> Text,
        kind -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    tokens (user_id) {
        user_id -> Integer,
        digest -> Text,
        sealed -> Text,
        prefix -> Text,
        created -> Timestamp,
        last_used -> Nullable<Timestamp>,
        expires -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> Integer,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        is_active -> Bool,
        is_staff -> Bool,
        is_superuser -> Bool,
        date_joined -> Timestamp,
        last_login -> Nullable<Timestamp>,
    }
}

diesel::joinable!(token_events -> users (user_id));
diesel::joinable!(tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(login_failures, token_events, tokens, users,);
