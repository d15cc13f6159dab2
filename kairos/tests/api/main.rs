//! Integration tests: each starts the real server on port 0 with a fresh database and talks HTTP
//! to it, on SQLite and (when `KAIROS_TEST_POSTGRES_URL` is set) on PostgreSQL.

#![allow(clippy::unwrap_used)]

mod helpers;

mod accounts;
mod admin;
mod authorization;
mod availability;
mod backup;
mod bad_input;
mod booking_changes;
mod booking_completion;
mod booking_lists;
mod booking_order;
mod bookings;
mod browser;
mod browser_waitlist;
mod concurrency;
mod extra_fields;
mod fixtures;
mod forged_tokens;
mod hardening;
mod hours_pages;
mod instances;
mod login_throttle;
mod mail;
mod mail_load;
mod mail_pages;
mod openapi_document;
mod operations;
mod own_pages;
mod page_access;
mod page_client;
mod page_journeys;
mod pages;
mod pg_connections;
mod reminders;
mod schedule;
mod security;
mod service_access;
mod services;
mod sessions;
mod tokens;
mod waitlist;
mod waitlist_endings;
mod waitlist_pages;
mod waitlist_races;
mod waitlist_rules;
mod webhook_access;
mod webhook_guard;
mod webhook_outages;
mod webhook_pages;
mod webhooks;
