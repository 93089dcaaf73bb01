//! Jenkins Notification plugin source.
