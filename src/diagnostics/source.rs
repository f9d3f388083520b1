//! Source files and positions in them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A position: 1-based line and column (in characters), 0-based byte offset. For a file whose
/// text was built from others ([`SourceFile::derived`]), line and column are in the original
/// file while the byte offset stays in the built text (what expression spans slice).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    pub byte: usize,
}

/// A range in one source file.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// The file's name as shown to the user (relative to the working directory when possible).
    pub file: Arc<str>,
    pub start: Pos,
    pub end: Pos,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.start.line, self.start.column)
    }
}

/// The text of one configuration file, with a line index for turning byte offsets into
/// positions.
#[derive(Debug)]
pub struct SourceFile {
    pub name: Arc<str>,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
    /// For a text built from other files (JSON translated to the native syntax, files joined
    /// to merge overrides): where each piece of `text` comes from, sorted by `start`.
    origins: Vec<Origin>,
}

/// A piece of a built text and the range of another file it stands for.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Where the piece starts in the built text, and its length.
    pub start: usize,
    pub len: usize,
    pub file: Arc<SourceFile>,
    /// The range it stands for in `file`. When the lengths are equal the piece is a copy and
    /// offsets map one to one; otherwise every offset inside maps to the range's start.
    pub origin_start: usize,
    pub origin_len: usize,
}

impl SourceFile {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> SourceFile {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            origins: Vec::new(),
        }
    }

    /// A file whose `text` was built from pieces of other files: positions in it are reported
    /// in those files (`origins` sorted by start; offsets between pieces map to the end of the
    /// piece before).
    pub fn derived(
        name: impl Into<Arc<str>>,
        text: impl Into<Arc<str>>,
        origins: Vec<Origin>,
    ) -> SourceFile {
        let mut file = SourceFile::new(name, text);
        file.origins = origins;
        file
    }

    /// The pieces this file's text was built from (empty for a file read as written).
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// The original file and offset that offset `byte` of this text stands for.
    fn original(&self, byte: usize) -> (&SourceFile, usize) {
        let index = self.origins.partition_point(|origin| origin.start <= byte);
        let Some(origin) = index.checked_sub(1).and_then(|i| self.origins.get(i)) else {
            return (self, byte);
        };
        let inside = byte - origin.start;
        let mapped = if inside >= origin.len {
            origin.origin_start + origin.origin_len
        } else if origin.len == origin.origin_len {
            origin.origin_start + inside
        } else {
            origin.origin_start
        };
        origin.file.original(mapped)
    }

    /// The position of byte offset `byte` (clamped to the file).
    pub fn pos(&self, byte: usize) -> Pos {
        let byte = byte.min(self.text.len());
        let line_index = match self.line_starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let line_start = self.line_starts[line_index];
        let column = self
            .text
            .get(line_start..byte)
            .map(|s| s.chars().count())
            .unwrap_or(byte - line_start)
            + 1;
        Pos {
            line: line_index + 1,
            column,
            byte,
        }
    }

    /// The span of the byte range `range`.
    pub fn span(&self, range: std::ops::Range<usize>) -> Span {
        if self.origins.is_empty() {
            return Span {
                file: self.name.clone(),
                start: self.pos(range.start),
                end: self.pos(range.end),
            };
        }
        let (file, start) = self.original(range.start);
        let (end_file, end) = self.original(range.end.max(range.start));
        // A range across pieces of two files ends where its start's piece does.
        let end = if std::ptr::eq(file, end_file) && end >= start {
            end
        } else {
            start
        };
        let byte = |offset: usize, pos: Pos| Pos {
            byte: offset.min(self.text.len()),
            ..pos
        };
        Span {
            file: file.name.clone(),
            start: byte(range.start, file.pos(start)),
            end: byte(range.end, file.pos(end)),
        }
    }

    /// The text of 1-based line `line`, without its line break.
    pub fn line_text(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .map(|s| s.trim_end_matches(['\n', '\r']))
    }
}

/// Every source file read in a run, by name, so diagnostics can show their lines.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: BTreeMap<Arc<str>, Arc<SourceFile>>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, file: Arc<SourceFile>) {
        self.files.insert(file.name.clone(), file);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<SourceFile>> {
        self.files.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let file = SourceFile::new("main.tf", "a = 1\nbé = 2\n");
        assert_eq!(
            file.pos(0),
            Pos {
                line: 1,
                column: 1,
                byte: 0
            }
        );
        assert_eq!(
            file.pos(6),
            Pos {
                line: 2,
                column: 1,
                byte: 6
            }
        );
        // 'é' is two bytes but one column.
        assert_eq!(file.pos(9).column, 3);
        assert_eq!(file.line_text(2), Some("bé = 2"));
        assert_eq!(file.line_text(9), None);
    }
}
