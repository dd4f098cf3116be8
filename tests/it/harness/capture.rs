//! The tracing events of one app, caught by a subscriber set on the threads of the runtime
//! that app runs on: tests run in parallel threads, so a global subscriber would mix them.

use std::fmt::Write;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// One event: its level and its message followed by its fields (`reason=...`).
#[derive(Debug, Clone)]
pub struct Logged {
    pub level: Level,
    pub text: String,
}

/// Every event at INFO and above that one app logged, in order.
#[derive(Clone, Default)]
pub struct Capture {
    events: Arc<Mutex<Vec<Logged>>>,
}

impl Capture {
    /// A subscriber that records into this capture (DEBUG is left out: the polls' debug lines
    /// would only slow the suite down).
    pub fn subscriber(&self) -> impl Subscriber + Send + Sync {
        tracing_subscriber::registry().with(self.clone().with_filter(LevelFilter::INFO))
    }

    pub fn events(&self) -> Vec<Logged> {
        self.events.lock().unwrap().clone()
    }

    pub fn errors(&self) -> Vec<Logged> {
        self.events()
            .into_iter()
            .filter(|event| event.level == Level::ERROR)
            .collect()
    }

    /// Whether any event's text contains `text`.
    pub fn contains(&self, text: &str) -> bool {
        self.events
            .lock()
            .unwrap()
            .iter()
            .any(|e| e.text.contains(text))
    }

    /// Everything caught, one event a line, for a failing test's message.
    pub fn dump(&self) -> String {
        self.events()
            .iter()
            .map(|event| format!("{} {}\n", event.level, event.text))
            .collect()
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut text = Text::default();
        event.record(&mut text);
        self.events.lock().unwrap().push(Logged {
            level: *event.metadata().level(),
            text: text.0,
        });
    }
}

#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}
