//! What `strata console` prints: its prompt on a terminal and each expression's value (errors
//! are diagnostics).

use crate::value::Value;
use std::io::Write;

pub struct ConsoleView;

impl ConsoleView {
    /// `> `, shown before each line when standard input is a terminal.
    pub fn prompt(&self) -> std::io::Result<()> {
        print!("> ");
        std::io::stdout().flush()
    }

    pub fn value(&self, value: &Value) {
        println!("{}", crate::ui::render_plain(value, 0));
    }
}
