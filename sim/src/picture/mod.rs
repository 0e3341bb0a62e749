//! The race picture: a failing run as a timeline to look at (one
//! self-contained HTML page) or to paste (a Mermaid sequence diagram).
//!
//! [`model`] turns a whole trace and its violations into lanes, spans and
//! marks; [`html`] embeds that data as JSON in a page whose script and
//! style are compiled into the binary; [`mermaid`] writes the window around
//! the first violation as a sequence diagram. Both depend only on the trace
//! and the verdict, so the same seed gives the same bytes.

pub mod html;
pub mod mermaid;
pub mod model;

pub use model::Picture;
