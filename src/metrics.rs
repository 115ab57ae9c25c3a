//! The process's metrics, in Prometheus' text format (`METRICS_BIND`).
//! Counters count since this process started; each process of a cluster is
//! scraped on its own.
//!
//! This module knows nothing of HTTP: the HTTP layer records requests into
//! it and serves `encode`; the services count sign-in outcomes; `Tokens`
//! counts token events where it records them. Gauges that mirror a state
//! kept elsewhere (the pool, the hashing queue) are set when scraped.

use std::sync::Arc;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// How a sign-in (API or admin) ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum SignInOutcome {
    ok,
    bad_credentials,
    throttled,
    busy,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: SignInOutcome,
}

/// What happened to a token.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum TokenEvent {
    created,
    regenerated,
    revoked,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: TokenEvent,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// The token events counter, cheap to clone into `Tokens`. A default one
/// counts into nothing that is ever scraped (commands, tests).
#[derive(Clone, Debug, Default)]
pub struct TokenEvents(Family<EventLabels, Counter>);

impl TokenEvents {
    pub fn count(&self, event: TokenEvent) {
        self.0.get_or_create(&EventLabels { event }).inc();
    }
}

/// Request durations: from a cache-hot token lookup (under a millisecond)
/// to a sign-in that queued for the hashing threads (seconds).
const DURATION_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    sign_ins: Family<OutcomeLabels, Counter>,
    hash_waiting: Gauge,
    db_connections: Family<StateLabels, Gauge>,
    tokens: TokenEvents,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("authtoken");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern, method and status",
            requests.clone(),
        );
        let durations: Family<RouteLabels, Histogram> =
            Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS));
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern",
            durations.clone(),
        );
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "Sign-ins (API and admin) by outcome",
            sign_ins.clone(),
        );
        let hash_waiting = Gauge::default();
        registry.register(
            "password_hash_waiting",
            "Password checks waiting for a hashing thread",
            hash_waiting.clone(),
        );
        let db_connections = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_connections",
            "Database connections of this process's pool, by state",
            db_connections.clone(),
        );
        let tokens = TokenEvents::default();
        registry.register(
            "tokens",
            "Token events: created, regenerated, revoked",
            tokens.0.clone(),
        );
        // Every label value that can occur is shown from the start, at 0,
        // so that a rate over it is defined before the first event.
        for outcome in [
            SignInOutcome::ok,
            SignInOutcome::bad_credentials,
            SignInOutcome::throttled,
            SignInOutcome::busy,
        ] {
            let _ = sign_ins.get_or_create(&OutcomeLabels { outcome });
        }
        for event in [
            TokenEvent::created,
            TokenEvent::regenerated,
            TokenEvent::revoked,
        ] {
            let _ = tokens.0.get_or_create(&EventLabels { event });
        }
        Metrics {
            registry,
            requests,
            durations,
            sign_ins,
            hash_waiting,
            db_connections,
            tokens,
        }
    }

    /// One answered request. `route` is the route's pattern, never the
    /// path a client sent (that would be one series per user id).
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    pub fn sign_in(&self, outcome: SignInOutcome) {
        self.sign_ins
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// The counter `Tokens` counts its events in.
    pub fn token_events(&self) -> TokenEvents {
        self.tokens.clone()
    }

    /// The text exposition, with the gauges set to the values given.
    pub fn encode(&self, idle: u32, in_use: u32, hash_waiting: usize) -> String {
        self.db_connections
            .get_or_create(&StateLabels { state: "idle" })
            .set(i64::from(idle));
        self.db_connections
            .get_or_create(&StateLabels { state: "in_use" })
            .set(i64::from(in_use));
        self.hash_waiting
            .set(i64::try_from(hash_waiting).unwrap_or(i64::MAX));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Shared by the services and the HTTP layer.
pub type SharedMetrics = Arc<Metrics>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_family() {
        let metrics = Metrics::new();
        metrics.request("/api/auth/me/", "GET", 200, 0.002);
        metrics.sign_in(SignInOutcome::throttled);
        metrics.token_events().count(TokenEvent::revoked);
        let text = metrics.encode(3, 1, 2);
        for line in [
            "authtoken_http_requests_total{route=\"/api/auth/me/\",method=\"GET\",status=\"200\"} 1",
            "authtoken_http_request_duration_seconds_count{route=\"/api/auth/me/\"} 1",
            "authtoken_http_request_duration_seconds_bucket{le=\"0.0025\",route=\"/api/auth/me/\"} 1",
            "authtoken_sign_ins_total{outcome=\"throttled\"} 1",
            "authtoken_sign_ins_total{outcome=\"ok\"} 0",
            "authtoken_password_hash_waiting 2",
            "authtoken_db_connections{state=\"idle\"} 3",
            "authtoken_db_connections{state=\"in_use\"} 1",
            "authtoken_tokens_total{event=\"revoked\"} 1",
            "authtoken_tokens_total{event=\"created\"} 0",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
