//! The current gateway, swappable: a SIGHUP reload builds a new gateway and
//! swaps it in; requests already running finish on the one they started with.

use std::sync::{Arc, RwLock};

use crate::gateway::Gateway;

#[derive(Debug, Clone)]
pub struct SharedGateway(Arc<RwLock<Arc<Gateway>>>);

impl SharedGateway {
    pub fn new(gateway: Arc<Gateway>) -> Self {
        Self(Arc::new(RwLock::new(gateway)))
    }

    pub fn current(&self) -> Arc<Gateway> {
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Put `gateway` in place and return the previous one.
    pub fn replace(&self, gateway: Arc<Gateway>) -> Arc<Gateway> {
        let mut current = self.0.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *current, gateway)
    }
}

impl From<Arc<Gateway>> for SharedGateway {
    fn from(gateway: Arc<Gateway>) -> Self {
        Self::new(gateway)
    }
}
