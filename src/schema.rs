// @generated automatically by Diesel CLI.

diesel::table! {
    admin_sessions (id) {
        id -> Integer,
        digest -> Text,
        user_id -> Integer,
        auth_hash -> Text,
        pending -> Bool,
        created -> Timestamp,
        last_seen -> Timestamp,
        expires -> Timestamp,
        address -> Text,
        user_agent -> Text,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Integer,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        user_id -> Nullable<Integer>,
        username -> Text,
        address -> Text,
        detail -> Text,
    }
}

diesel::table! {
    django_imports (user_id) {
        user_id -> Integer,
        username -> Text,
        email -> Text,
        first_name -> Text,
        last_name -> Text,
        password_digest -> Text,
        is_active -> Bool,
        is_staff -> Bool,
        is_superuser -> Bool,
        date_joined -> Timestamp,
        last_login -> Nullable<Timestamp>,
        token_digest -> Nullable<Text>,
        token_created -> Nullable<Timestamp>,
        imported_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Integer,
        scope -> Text,
        at -> Timestamp,
        pending -> Bool,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Integer,
        user_id -> Integer,
        digest -> Text,
        created -> Timestamp,
    }
}

diesel::table! {
    sign_in_counts (hour) {
        hour -> Timestamp,
        ok -> Integer,
        failed -> Integer,
    }
}

diesel::table! {
    token_events (id) {
        id -> Integer,
        user_id -> Integer,
        actor -> Text,
        kind -> Text,
        at -> Timestamp,
        token_name -> Nullable<Text>,
    }
}

diesel::table! {
    tokens (id) {
        id -> Integer,
        user_id -> Integer,
        is_primary -> Bool,
        name -> Nullable<Text>,
        scopes -> Text,
        digest -> Text,
        sealed -> Text,
        prefix -> Text,
        created -> Timestamp,
        last_used -> Nullable<Timestamp>,
        expires -> Nullable<Timestamp>,
    }
}

diesel::table! {
    two_factor (user_id) {
        user_id -> Integer,
        sealed_secret -> Text,
        enabled -> Bool,
        last_step -> Nullable<BigInt>,
        created -> Timestamp,
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
        first_name -> Text,
        last_name -> Text,
    }
}

diesel::joinable!(admin_sessions -> users (user_id));
diesel::joinable!(audit_events -> users (user_id));
diesel::joinable!(django_imports -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(token_events -> users (user_id));
diesel::joinable!(tokens -> users (user_id));
diesel::joinable!(two_factor -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    admin_sessions,
    audit_events,
    django_imports,
    login_failures,
    recovery_codes,
    sign_in_counts,
    token_events,
    tokens,
    two_factor,
    users,
);
