//! Counts the client's own tracing events by message, so a test can say how many connections
//! kiel opened, lost or renewed without a metrics API.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Counts of kiel's events by message, for the whole test process.
#[derive(Clone, Default)]
pub(crate) struct EventCounts(Arc<Mutex<HashMap<String, u64>>>);

impl EventCounts {
    /// Installs the counter as the process's subscriber (once) and returns it.
    pub(crate) fn install() -> Self {
        static COUNTS: OnceLock<EventCounts> = OnceLock::new();
        COUNTS
            .get_or_init(|| {
                let counts = Self::default();
                let subscriber = tracing_subscriber::registry().with(Counter(counts.clone()));
                tracing::subscriber::set_global_default(subscriber)
                    .unwrap_or_else(|e| panic!("another subscriber is installed: {e}"));
                counts
            })
            .clone()
    }

    /// How many events with exactly this message kiel logged so far.
    pub(crate) fn get(&self, message: &str) -> u64 {
        let counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(message).copied().unwrap_or(0)
    }

    /// Every message counted so far, for failure reports.
    pub(crate) fn summary(&self) -> String {
        let counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<_> = counts.iter().collect();
        all.sort();
        format!("{all:?}")
    }
}

struct Counter(EventCounts);

struct Message(Option<String>);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl<S: Subscriber> Layer<S> for Counter {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let target = event.metadata().target();
        if target != "kiel" && !target.starts_with("kiel::") {
            return;
        }
        let mut message = Message(None);
        event.record(&mut message);
        if let Some(message) = message.0 {
            let mut counts = self.0 .0.lock().unwrap_or_else(|e| e.into_inner());
            *counts.entry(message).or_insert(0) += 1;
        }
    }
}
