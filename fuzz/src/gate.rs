//! A source with one opened door, and requests built for it.

use std::net::IpAddr;

use gate_core::{DynSource, OpenDoor, Received, Rejection, Request};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::input::Input;

/// One source and the door the target fuzzes; built once per process.
pub struct Gate {
    source: Box<dyn DynSource>,
    door: OpenDoor,
}

impl Gate {
    /// Open `door_toml` as door `acme`; a bad configuration is a bug of the
    /// harness, so it panics.
    pub fn new(source: Box<dyn DynSource>, door_toml: &str) -> Self {
        let table: toml::Table = toml::from_str(door_toml).expect("door toml");
        let door = source
            .open_door("acme", table, "fuzz")
            .unwrap_or_else(|e| panic!("fuzz door: {e}"));
        Self { source, door }
    }

    /// Run the source the way the server does, on a minimal executor:
    /// without a Conduit URL no source awaits anything but itself.
    pub fn receive(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        query: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Result<Received, Rejection> {
        let request = Request {
            headers,
            body,
            query,
            peer,
        };
        futures_executor::block_on(self.source.receive(&request, &self.door))
    }
}

/// Headers with the input's content type.
pub fn headers_for(input: &Input<'_>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(content_type) = input.content_type {
        set(&mut headers, "content-type", content_type.as_bytes());
    }
    headers
}

/// Add a header; a value HTTP cannot carry is left out, as a server would
/// never pass it on.
pub fn set(headers: &mut HeaderMap, name: &'static str, value: &[u8]) {
    if let Ok(value) = HeaderValue::from_bytes(value) {
        headers.append(HeaderName::from_static(name), value);
    }
}
