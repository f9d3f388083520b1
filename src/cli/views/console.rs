//! What `strata console` prints: its prompt on a terminal and each expression's value (errors
//! are diagnostics).

use crate::value::{Type, Value};
use std::io::Write;

pub struct ConsoleView;

impl ConsoleView {
    /// `> `, shown before each line when standard input is a terminal.
    pub fn prompt(&self) -> std::io::Result<()> {
        print!("> ");
        std::io::stdout().flush()
    }

    /// A value as Terraform's console shows one of type `ty` (a typed null with its type).
    pub fn value(&self, value: &Value, ty: &Type) {
        println!("{}", crate::ui::render_console(value, ty));
    }
}
