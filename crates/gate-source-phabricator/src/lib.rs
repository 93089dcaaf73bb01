//! Phabricator/Phorge source: Herald webhooks (JSON, signed with the hook
//! key) and legacy `feed.http-hooks` stories (form posts, unsigned). When a
//! door has a Conduit connection, the object's name, link and projects are
//! resolved through it so that group rules can match project names.

mod auth;
mod config;
mod feed;
mod form;
mod herald;
mod phid;
mod resolve;
mod source;
mod words;

pub use config::{PhabricatorDoor, PhabricatorDoorConfig};
pub use source::PhabricatorSource;

gate_core::register_source!(PhabricatorSource);
