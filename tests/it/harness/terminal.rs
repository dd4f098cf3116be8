//! The harness's chat: the real terminal adapter with its output kept in memory and its input
//! typed by the test, so a test reads cards and replies as a person at the terminal would.

use std::io::Write;
use std::sync::{Arc, Mutex};

use earshot::chat::shell::Shell;
use tokio::sync::mpsc;

/// What the terminal printed.
#[derive(Clone, Default)]
pub struct Screen(Arc<Mutex<Vec<u8>>>);

impl Write for Screen {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Screen {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// What was printed, cleared for what comes next.
    pub fn take(&self) -> String {
        let mut printed = self.0.lock().unwrap();
        let text = String::from_utf8_lossy(&printed).into_owned();
        printed.clear();
        text
    }
}

/// The numbers of the cards in `printed`, in order.
pub fn cards(printed: &str) -> Vec<u64> {
    printed
        .lines()
        .filter_map(|line| line.strip_prefix("┌─ #"))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect()
}

/// A terminal printing on `screen`, reading what is sent on the returned sender.
pub fn terminal(screen: &Screen) -> (Shell, mpsc::Sender<String>) {
    let (typed, input) = mpsc::channel(64);
    let shell = Shell::new(Box::new(screen.clone())).with_input(input);
    (shell, typed)
}
