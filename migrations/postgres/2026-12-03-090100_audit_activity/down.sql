DROP TABLE sign_in_counts;
DROP TABLE audit_events;
