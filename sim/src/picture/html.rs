//! The page: one HTML file with its style, script and data inline, so that
//! it opens from disk or an attachment with no network.
//!
//! No templating crate: the page is one fixed shell with three slots (title,
//! data, and the compiled-in `picture.css`/`picture.js`), which `format!`
//! fills; the data is JSON written by serde_json, with `</` escaped so that
//! no text in a trace can close the script element.

use super::model::Picture;

const STYLE: &str = include_str!("picture.css");
const SCRIPT: &str = include_str!("picture.js");

/// The data block as the page embeds it (and as its snapshot pins it).
pub fn data_json(picture: &Picture) -> Result<String, serde_json::Error> {
    Ok(serde_json::to_string(picture)?.replace("</", "<\\/"))
}

/// The whole page.
pub fn page(picture: &Picture) -> Result<String, serde_json::Error> {
    let data = data_json(picture)?;
    let title = escape(&picture.title);
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>{title}</h1><div id=\"controls\"></div></header>\n\
         <div id=\"error\" hidden></div>\n<div id=\"violations\"></div>\n\
         <div id=\"timeline\"><canvas id=\"canvas\"></canvas></div>\n\
         <div id=\"details\"></div>\n<details id=\"trace\"><summary>Full trace \
         text</summary><pre id=\"trace-text\"></pre></details>\n\
         <script type=\"application/json\" id=\"data\">{data}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    ))
}

/// HTML text escaping for the title.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
