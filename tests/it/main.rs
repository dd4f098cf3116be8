//! The integration suite, one binary: every module links the app, serenity, slack-morphism,
//! axum and sled once instead of once per file (a fresh build links this one binary).

#[macro_use]
mod backend;
mod common;
mod fake_net;
mod fake_stream;
mod review_rig;

mod answerers;
mod app_store;
mod architecture;
mod bluesky;
mod bluesky_e2e;
mod complaints;
mod conversation;
mod copies;
mod crash;
mod discord;
mod failover;
mod feed_relay;
mod follow_up;
mod full_disk;
mod google;
mod hackernews;
mod jetstream;
mod leases;
mod mastodon;
mod mastodon_streaming;
mod meta;
mod meta_webhooks;
mod migrate;
mod outbox;
mod postgres_tls;
mod reddit;
mod reviews;
mod service;
mod slack;
mod store;
mod store_pages;
mod storm;
mod storm_routes;
mod supervisor;
mod trustpilot;
mod upgrade;
mod x;
mod youtube_linkedin;
