//! The fidelity table (`docs/fidelity.md`) quotes the Rust that does each
//! step of the merged code; this keeps every quote true of the source.

use std::path::Path;

#[test]
fn every_quoted_line_is_in_the_file_it_names() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("docs/fidelity.md")).expect("the table");
    let mut checked = 0;
    for line in table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
    {
        let cells: Vec<&str> = line.split(" | ").collect();
        if cells.len() < 5 || cells[0] == "| ---" {
            continue;
        }
        let file = cells[3].trim_matches('`');
        let quote = cells[4].trim_end_matches(" |").trim();
        let quote = quote.strip_prefix('`').and_then(|q| q.strip_suffix('`'));
        let quote =
            quote.unwrap_or_else(|| panic!("row {line:?}: the last cell is not one `quote`"));
        let source = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("row {line:?}: cannot read {file}: {e}"));
        assert!(
            source.contains(quote),
            "fidelity table row {line:?}: {file} no longer contains {quote:?}"
        );
        checked += 1;
    }
    assert!(
        checked >= 30,
        "only {checked} rows were checked: the table was not parsed"
    );
}
