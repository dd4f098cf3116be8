pub mod domain;
pub mod rules;
pub mod store;
