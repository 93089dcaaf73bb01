//! Small Phabricator/Phorge Conduit API client.
