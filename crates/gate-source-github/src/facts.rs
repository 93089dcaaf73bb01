//! The named values an event exposes to text templates.

/// Placeholder values of one event, by name. Names come from the event's
/// fixed set (see `events::placeholders`); missing ones render empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    values: Vec<(&'static str, String)>,
}

impl Facts {
    /// Set (or replace) a value.
    pub fn set(&mut self, name: &'static str, value: impl Into<String>) {
        let value = value.into();
        match self.values.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.values.push((name, value)),
        }
    }

    pub fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.iter().map(|(n, _)| *n)
    }
}
