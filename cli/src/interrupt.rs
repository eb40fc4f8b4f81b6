//! Ctrl-C: the first one asks the running command to stop (it finishes what is in flight
//! and prints its summary; the command says so, around its progress bar); the second one
//! exits at once with code 130.
//!
//! # References
//! - `tokio::signal::ctrl_c`

use tokio::sync::watch;

use crate::error::EXIT_INTERRUPTED;

/// Whether Ctrl-C was pressed; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Interrupt {
    pressed: watch::Receiver<bool>,
}

impl Interrupt {
    /// Listens for Ctrl-C (must be called inside the runtime).
    pub(crate) fn listen() -> Self {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return; // No signal handling here: Ctrl-C keeps its default action.
            }
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
        });
        Self { pressed: rx }
    }

    /// Whether Ctrl-C was pressed.
    pub(crate) fn is_set(&self) -> bool {
        *self.pressed.borrow()
    }

    /// What a command prints when it notices the interrupt.
    pub(crate) const NOTICE: &'static str =
        "kiel: interrupted; waiting for the records in flight (Ctrl-C again to quit now)";

    /// Waits until Ctrl-C is pressed (forever if it never is).
    pub(crate) async fn wait(&self) {
        let mut rx = self.pressed.clone();
        if rx.wait_for(|pressed| *pressed).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
